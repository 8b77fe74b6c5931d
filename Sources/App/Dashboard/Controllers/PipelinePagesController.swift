import Bitbucket
import Fluent
import Foundation
import PipelineConfig
import PipewrightCore
import Vapor

/// `/pipelines`, `/pipelines/new`, `/pipelines/{id}` and `/pipelines/{id}/edit`: decode →
/// `PipelineCatalog` / `PipelineConfigService` / `ProvisioningService` (creation, edits, the pull request
/// and provisioning through `PipelineController`'s audited operations) → render.
struct PipelinePagesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("pipelines", use: index)
        routes.get("pipelines", "new", use: newForm)
        routes.post("pipelines", use: create)
        routes.get("pipelines", ":pipelineID", use: show)
        routes.get("pipelines", ":pipelineID", "edit", use: editForm)
        routes.post("pipelines", ":pipelineID", "edit", use: update)
        routes.post("pipelines", ":pipelineID", "detect", use: detect)
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
        var model = try PipelineShow.Model(
            pipeline, webhookURL: try req.pipelineCatalog.webhookURL(of: pipeline), status: status, servers: servers,
            recent: recent)
        model.keyName = try await StoredKey.find(pipeline.$sshKey.id, on: req.db)?.name
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
            let rendered = try APIErrorMiddleware.clientError(error)
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

    // MARK: - Create and edit

    /// The form's choices: connections, servers and keys the team has (at most 100 of each).
    func formModel(_ req: Request, pipeline: Pipeline?, values: PipelineForm.Values, error: String? = nil)
        async throws -> PipelineForm.Model
    {
        let user = try req.requireUser()
        let all = try PipewrightCore.PageRequest(page: 1, perPage: 100)
        let connections = try await req.connectionService.list(page: all, for: user).items
        let servers = try await req.serverCatalog.list(page: all, for: user).items.map(\.server)
        let keys = try await req.keyCatalog.list(.init(), page: all, for: user).items.map(\.key)
        return PipelineForm.Model(
            pipelineID: try pipeline?.requireID(), storedName: pipeline?.name, values: values,
            connections: try connections.map { .init(id: try $0.requireID(), label: "\($0.name) (\($0.workspace))") },
            servers: try servers.map {
                .init(id: try $0.requireID(), label: "\($0.username)@\($0.host):\($0.port)")
            },
            keys: try keys.map { .init(id: try $0.requireID(), label: "\($0.name) (\($0.keyType))") },
            error: error)
    }

    func renderForm(_ req: Request, _ model: PipelineForm.Model, status: HTTPStatus = .ok) -> Response {
        .page(PipelineForm.View(context: req.pageContext(.pipelines), model: model).render(), status: status)
    }

    @Sendable func newForm(req: Request) async throws -> Response {
        try req.requireUser().require(.changePipelines)
        return renderForm(req, try await formModel(req, pipeline: nil, values: .init()))
    }

    /// Creates the pipeline and shows its page with the webhook secret, this once.
    @Sendable func create(req: Request) async throws -> Response {
        let values = try req.form(PipelineForm.Values.self)
        do {
            let creation = try await PipelineController.create(
                req,
                {
                    CreatePipelineRequest(
                        name: values.name, connectionId: try Self.number(values.connectionID, field: "connection_id"),
                        repoSlug: values.repoSlug, workspace: Self.optional(values.workspace),
                        branch: Self.optional(values.branch), deploy: try Self.deploy(values), stackOverride: nil)
                })
            req.parameters.set("pipelineID", to: String(try creation.pipeline.requireID()))
            var (model, _) = try await model(req)
            model.createdWebhookSecret = creation.webhookSecret.value
            return render(req, model, status: .created)
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            let form = try await formModel(req, pipeline: nil, values: values, error: rendered.message)
            return renderForm(req, form, status: rendered.status)
        }
    }

    @Sendable func editForm(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let pipeline = try await req.pipelineCatalog.pipeline(
            try FieldRules.pathID(req, "pipelineID"), for: .changePipelines, by: user)
        return renderForm(req, try await formModel(req, pipeline: pipeline, values: .init(pipeline)))
    }

    /// Saves every field of the form (an emptied optional field is cleared), then shows the pipeline.
    @Sendable func update(req: Request) async throws -> Response {
        let values = try req.form(PipelineForm.Values.self)
        do {
            _ = try await PipelineController.update(
                req,
                {
                    UpdatePipelineRequest(
                        name: values.name, connectionId: try Self.number(values.connectionID, field: "connection_id"),
                        repoSlug: nil, workspace: nil, branch: values.branch, deploy: try Self.deploy(values),
                        stackOverride: nil)
                })
            return .seeOther("/pipelines/\(try FieldRules.pathID(req, "pipelineID"))")
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            let pipeline = try await req.pipelineCatalog.show(
                pipelineID: try FieldRules.pathID(req, "pipelineID"), for: try req.requireUser())
            var kept = values
            (kept.repoSlug, kept.workspace) = (pipeline.repoSlug, pipeline.workspace)
            let form = try await formModel(req, pipeline: pipeline, values: kept, error: rendered.message)
            return renderForm(req, form, status: rendered.status)
        }
    }

    /// Reads the repository through Bitbucket and shows the detected stack with its evidence.
    @Sendable func detect(req: Request) async throws -> Response {
        try await rendering(req) { model, pipeline in
            let checked = try await req.pipelineCatalog.pipeline(
                try pipeline.requireID(), for: .changePipelines, by: try req.requireUser())
            model.detection = .init(try await req.pipelineConfig.detect(checked))
        }
    }

    /// The `deploy` object from the form's fields; an empty optional field is `nil`.
    static func deploy(_ values: PipelineForm.Values) throws -> DeployTargetBody {
        DeployTargetBody(
            serverIds: try values.serverIDs.map { try number($0, field: "server_ids") },
            sshKeyId: try number(values.sshKeyID, field: "ssh_key_id"), deployPath: values.deployPath,
            appPort: try optional(values.appPort).map { try number($0, field: "app_port") },
            domain: optional(values.domain), buildCommand: optional(values.buildCommand),
            startCommand: optional(values.startCommand))
    }

    /// - Throws: `AppError.invalidField` when `text` is not a whole number.
    static func number(_ text: String, field: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw AppError.invalidField(field, reason: text.isEmpty ? "is required" : "must be a whole number")
        }
        return value
    }

    static func optional(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}

extension PipelineForm.Values {
    /// The stored pipeline's values, for its edit form.
    init(_ pipeline: Pipeline) {
        self.init()
        name = pipeline.name
        connectionID = String(pipeline.$connection.id)
        repoSlug = pipeline.repoSlug
        workspace = pipeline.workspace
        branch = pipeline.branch
        serverIDs = pipeline.serverIDs.map(String.init)
        sshKeyID = String(pipeline.$sshKey.id)
        deployPath = pipeline.deployPath
        appPort = pipeline.appPort.map(String.init) ?? ""
        domain = pipeline.domain ?? ""
        buildCommand = pipeline.buildCommand ?? ""
        startCommand = pipeline.startCommand ?? ""
    }
}
