import Bitbucket
import Fluent
import Foundation
import PipelineConfig
import PipewrightCore
import Vapor

/// `/pipelines` and `/pipelines/{id}`: decode → `PipelineCatalog` / `PipelineConfigService` /
/// `ProvisioningService` (the pull request and provisioning through `PipelineController`'s audited
/// operations) → render.
struct PipelinePagesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("pipelines", use: index)
        routes.get("pipelines", ":pipelineID", use: show)
        routes.post("pipelines", ":pipelineID", "pull-request", use: pullRequest)
        routes.post("pipelines", ":pipelineID", "provision", use: provision)
    }

    @Sendable func index(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        let (pipelines, total) = try await req.pipelineCatalog.list(page: page, for: user)
        let statuses = try await req.provisioning.statuses(of: try pipelines.map { try $0.requireID() })
        let rows = try pipelines.map { pipeline in
            let id = try pipeline.requireID()
            return PipelineIndex.Model.Row(
                id: id, name: pipeline.name, repository: "\(pipeline.workspace)/\(pipeline.repoSlug)",
                branch: pipeline.branch, provisioningStatus: statuses[id]?.rawValue ?? "never")
        }
        return .page(
            PipelineIndex.View(context: req.pageContext(.pipelines), model: .init(rows: rows, total: total)).render())
    }

    /// The page as stored now (no Bitbucket call).
    func model(_ req: Request) async throws -> (PipelineShow.Model, Pipeline) {
        let user = try req.requireUser()
        let pipeline = try await req.pipelineCatalog.show(
            pipelineID: try FieldRules.pathID(req, "pipelineID"), for: user)
        let id = try pipeline.requireID()
        let servers = try await Server.query(on: req.db).filter(\.$id ~~ pipeline.serverIDs).sort(\.$id).all()
        let recent = try await req.executionLauncher.list(
            pipelineID: id, status: nil, page: try .init(page: 1, perPage: 5), for: user
        ).items
        let status = try await req.provisioning.statuses(of: [id])[id]?.rawValue ?? "never"
        let model = try PipelineShow.Model(
            pipeline, webhookURL: try req.pipelineCatalog.webhookURL(of: pipeline), status: status, servers: servers,
            recent: recent)
        return (model, pipeline)
    }

    func render(_ req: Request, _ model: PipelineShow.Model, status: HTTPStatus = .ok) -> Response {
        .page(PipelineShow.View(context: req.pageContext(.pipelines), model: model).render(), status: status)
    }

    /// Runs `change` on the page's model; a client error is shown on the page instead.
    func rendering(_ req: Request, _ change: (inout PipelineShow.Model, Pipeline) async throws -> Void) async throws
        -> Response
    {
        var (model, pipeline) = try await model(req)
        do {
            try await change(&model, pipeline)
            return render(req, model)
        } catch {
            let rendered = APIErrorMiddleware.render(error)
            guard rendered.status.code < 500 else { throw error }
            model.error = rendered.message
            return render(req, model, status: rendered.status)
        }
    }

    @Sendable func show(req: Request) async throws -> Response {
        let preview = req.query[String.self, at: "preview"] == "1"
        let plan = req.query[String.self, at: "plan"] == "1"
        return try await rendering(req) { model, pipeline in
            if preview {
                let config = try await req.pipelineConfig.config(pipeline, includeNginx: pipeline.domain != nil)
                model.preview = .init(
                    files: config.files.map { file in
                        let check = config.validation.first { $0.file == file.path }
                        return .init(
                            path: file.path, content: file.content, ok: check?.ok ?? true,
                            messages: check?.messages ?? [])
                    },
                    variables: config.repositoryVariables.map(\.name))
            }
            if plan {
                model.plan = try await req.provisioning.plan(pipeline).items.map(PipelineShow.Model.PlanRow.init)
            }
        }
    }

    struct PullRequestForm: Decodable {
        var provision: String?
    }

    @Sendable func pullRequest(req: Request) async throws -> Response {
        let form = try req.form(PullRequestForm.self)
        return try await rendering(req) { model, _ in
            var body = CreatePullRequestRequest()
            body.provision = form.provision == "true"
            let outcome = try await PipelineController.createPullRequest(req, body)
            model.pullRequest = .init(
                id: outcome.pullRequest.id, url: outcome.pullRequest.htmlURL, created: outcome.created,
                sourceBranch: outcome.sourceBranch)
            model.provisionResults = outcome.provisioning?.results.map(PipelineShow.Model.PlanRow.init)
        }
    }

    @Sendable func provision(req: Request) async throws -> Response {
        try await rendering(req) { model, _ in
            let run = try await PipelineController.provision(req, ProvisioningOptions())
            model.plan = run.results.map(PipelineShow.Model.PlanRow.init)
            model.provisioningStatus = run.status.rawValue
            if !run.ok { model.error = "Some items could not be provisioned; see the table." }
        }
    }
}
