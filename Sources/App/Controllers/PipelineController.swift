import Bitbucket
import Fluent
import Foundation
import PipelineConfig
import PipewrightCore
import Vapor

/// `/api/pipelines`: deployment definitions, stack detection, generated config and pull requests
/// (docs/API.md "Pipelines"); the use cases are `PipelineCatalog` and `PipelineConfigService`.
struct PipelineController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let pipelines = routes.grouped("pipelines")
        pipelines.post(use: create)
        pipelines.get(use: index)
        pipelines.get(":pipelineID", use: show)
        pipelines.put(":pipelineID", use: update)
        pipelines.patch(":pipelineID", use: update)
        pipelines.delete(":pipelineID", use: delete)
        pipelines.post(":pipelineID", "webhook-secret", "rotate", use: rotateWebhookSecret)
        pipelines.post(":pipelineID", "detect", use: detect)
        pipelines.get(":pipelineID", "config", use: config)
        pipelines.post(":pipelineID", "create-pr", use: createPullRequest)
        pipelines.get(":pipelineID", "provisioning", use: provisioningPlan)
        pipelines.post(":pipelineID", "provision", use: provision)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let creation = try await Self.create(req, { try req.content.decode(CreatePipelineRequest.self) })
        var payload = try PipelineResponse(
            creation.pipeline, webhookURL: try req.pipelineCatalog.webhookURL(of: creation.pipeline))
        payload.webhookSecret = creation.webhookSecret.value
        return try Response.json(payload, status: .created)
    }

    /// Audited creation (`pipeline.create`) through `PipelineCatalog.create`; the API and the dashboard's
    /// form. The creation carries the webhook secret, shown once. `decode` runs inside the audit, so a
    /// malformed body is recorded as a failed creation.
    static func create(_ req: Request, _ decode: () throws -> CreatePipelineRequest) async throws
        -> PipelineCatalog.Creation
    {
        try await AuditLog.audited(req, .pipelineCreate, resource: AuditResource(type: "pipeline")) { note in
            let body = try decode()
            let creation = try await req.pipelineCatalog.create(
                name: body.name, connectionID: body.connectionId, repoSlug: body.repoSlug, workspace: body.workspace,
                branch: body.branch, deploy: body.deploy, stackOverride: body.stackOverride, by: try req.requireUser())
            note.resource?.id = creation.pipeline.id
            note.details["repository"] = "\(creation.pipeline.workspace)/\(creation.pipeline.repoSlug)"
            return creation
        }
    }

    @Sendable func index(req: Request) async throws -> PageResponse<PipelineResponse> {
        let page = try PageQuery.parse(req)
        let catalog = req.pipelineCatalog
        let (items, total) = try await catalog.list(page: page, for: try req.requireUser())
        let statuses = try await req.provisioning.statuses(of: items.compactMap(\.id))
        return PageResponse(
            items: try items.map {
                try PipelineResponse(
                    $0, webhookURL: try catalog.webhookURL(of: $0), provisioningStatus: statuses[$0.id ?? 0] ?? .never)
            },
            request: page,
            total: total)
    }

    @Sendable func show(req: Request) async throws -> PipelineResponse {
        let catalog = req.pipelineCatalog
        let pipeline = try await catalog.show(
            pipelineID: try FieldRules.pathID(req, "pipelineID"), for: try req.requireUser())
        let status = try await req.provisioning.statuses(of: [try pipeline.requireID()])
        return try PipelineResponse(
            pipeline, webhookURL: try catalog.webhookURL(of: pipeline),
            provisioningStatus: status[try pipeline.requireID()] ?? .never)
    }

    /// `PUT` and `PATCH` alike: every field optional; the audit entry lists the fields given.
    @Sendable func update(req: Request) async throws -> PipelineResponse {
        let pipeline = try await Self.update(req, { try req.content.decode(UpdatePipelineRequest.self) })
        let status = try await req.provisioning.statuses(of: [try pipeline.requireID()])
        return try PipelineResponse(
            pipeline, webhookURL: try req.pipelineCatalog.webhookURL(of: pipeline),
            provisioningStatus: status[try pipeline.requireID()] ?? .never)
    }

    /// Audited edit (`pipeline.update`, the fields given in its details) of pipeline `:pipelineID` through
    /// `PipelineCatalog.update`; the API and the dashboard's form. `decode` runs inside the audit, so a
    /// malformed body is recorded as a failed edit.
    static func update(_ req: Request, _ decode: () throws -> UpdatePipelineRequest) async throws -> Pipeline {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .pipelineUpdate, resource: resource) { note in
            let pipelineID = try FieldRules.pathID(req, "pipelineID")
            let body = try decode()
            let given: [(String, Bool)] = [
                ("name", body.name != nil), ("connection_id", body.connectionId != nil),
                ("repo_slug", body.repoSlug != nil), ("workspace", body.workspace != nil),
                ("branch", body.branch != nil), ("deploy", body.deploy != nil),
                ("stack_override", body.stackOverride != nil),
            ]
            note.details["fields"] = given.filter(\.1).map(\.0).joined(separator: ",")
            return try await req.pipelineCatalog.update(
                pipelineID: pipelineID,
                .init(
                    name: body.name, connectionID: body.connectionId, repoSlug: body.repoSlug,
                    workspace: body.workspace, branch: body.branch, deploy: body.deploy,
                    stackOverride: body.stackOverride),
                by: try req.requireUser())
        }
    }

    /// `?confirm=<pipeline name>` is required when the pipeline has executions (409 `confirmation_required`).
    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .pipelineDelete, resource: resource) { note in
            let pipelineID = try FieldRules.pathID(req, "pipelineID")
            let confirm = try FieldRules.queryText(req, "confirm")
            if let confirm, confirm.count > 200 {
                throw AppError.invalidField("confirm", reason: "must be at most 200 characters (the pipeline's name)")
            }
            let deletion = try await req.pipelineCatalog.delete(
                pipelineID: pipelineID, confirm: confirm, by: try req.requireUser())
            note.details = [
                "name": deletion.name, "executions": String(deletion.executions), "stored_logs": String(deletion.logs),
            ]
            return .noContent
        }
    }

    /// The new secret is in this response only (`Cache-Control: no-store`); the old one stops working.
    @Sendable func rotateWebhookSecret(req: Request) async throws -> Response {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .webhookSecretRotate, resource: resource) { _ in
            let catalog = req.pipelineCatalog
            let rotation = try await catalog.rotateWebhookSecret(
                pipelineID: try FieldRules.pathID(req, "pipelineID"), by: try req.requireUser())
            let response = try Response.json(
                WebhookSecretResponse(
                    webhookUrl: try catalog.webhookURL(of: rotation.pipeline),
                    webhookSecret: rotation.webhookSecret.value),
                status: .ok)
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            return response
        }
    }

    @Sendable func detect(req: Request) async throws -> DetectResponse {
        let pipeline = try await req.pipelineCatalog.pipeline(
            try FieldRules.pathID(req, "pipelineID"), for: .changePipelines, by: try req.requireUser())
        return try DetectResponse(try await req.pipelineConfig.detect(pipeline))
    }

    @Sendable func config(req: Request) async throws -> ConfigResponse {
        let pipeline = try await req.pipelineCatalog.show(
            pipelineID: try FieldRules.pathID(req, "pipelineID"), for: try req.requireUser())
        let includeNginx = try FieldRules.flag(req, "include_nginx_config")
        return ConfigResponse(
            try await req.pipelineConfig.config(pipeline, includeNginx: includeNginx || pipeline.domain != nil))
    }

    @Sendable func createPullRequest(req: Request) async throws -> Response {
        let body =
            (req.body.data?.readableBytes ?? 0) > 0
            ? try req.content.decode(CreatePullRequestRequest.self) : CreatePullRequestRequest()
        let outcome = try await Self.createPullRequest(req, body)
        return try Response.json(CreatePullRequestResponse(outcome), status: outcome.created ? .created : .ok)
    }

    @Sendable func provisioningPlan(req: Request) async throws -> ProvisioningPlanResponse {
        let pipeline = try await req.pipelineCatalog.show(
            pipelineID: try FieldRules.pathID(req, "pipelineID"), for: try req.requireUser())
        return ProvisioningPlanResponse(try await req.provisioning.plan(pipeline))
    }

    @Sendable func provision(req: Request) async throws -> ProvisionResponse {
        let body =
            (req.body.data?.readableBytes ?? 0) > 0
            ? try req.content.decode(ProvisionRequest.self) : ProvisionRequest()
        return ProvisionResponse(
            try await Self.provision(
                req,
                ProvisioningOptions(
                    replaceForeignKeyPair: body.replaceForeignKeyPair ?? false,
                    generateRSAKey: body.generateRsaKey ?? false)))
    }

    // MARK: - Audited operations (the JSON API and the dashboard's pipeline page call these)

    /// Audited pull request for `:pipelineID` (`PipelineConfigService.createPullRequest`), provisioning
    /// rate-limited when asked for.
    static func createPullRequest(_ req: Request, _ body: CreatePullRequestRequest) async throws
        -> PipelineConfigService.PullRequestOutcome
    {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .pullRequestCreate, resource: resource) { note in
            let pipeline = try await req.pipelineCatalog.pipeline(
                try FieldRules.pathID(req, "pipelineID"), for: .writeRepositories, by: try req.requireUser())
            if body.provision == true { try await req.enforceRateLimit(.provision) }
            let outcome = try await req.pipelineConfig.createPullRequest(pipeline, request: body)
            note.details["pull_request_id"] = String(outcome.pullRequest.id)
            note.details["source_branch"] = outcome.sourceBranch
            note.details["created"] = String(outcome.created)
            if let run = outcome.provisioning {
                summarize(run, into: note)
                await auditReplacements(req, run)
            }
            return outcome
        }
    }

    /// Audited, rate-limited provisioning of `:pipelineID`'s repository (`ProvisioningService.apply`).
    static func provision(_ req: Request, _ options: ProvisioningOptions) async throws -> ProvisioningRun {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .provision, resource: resource) { note in
            try await req.enforceRateLimit(.provision)
            let pipeline = try await req.pipelineCatalog.pipeline(
                try FieldRules.pathID(req, "pipelineID"), for: .writeRepositories, by: try req.requireUser())
            let run = try await req.provisioning.apply(pipeline, options: options, actor: try req.requireUser())
            summarize(run, into: note)
            await auditReplacements(req, run)
            return run
        }
    }

    // MARK: - Audit helpers

    /// Counts per result status (`created`, `updated`, …) and the overall outcome, into the apply's entry.
    static func summarize(_ run: ProvisioningRun, into note: AuditNote) {
        var counts: [String: Int] = [:]
        for result in run.results { counts[result.status, default: 0] += 1 }
        for (status, count) in counts { note.details["items_\(status)"] = String(count) }
        note.details["repository"] = run.repository
        note.details["ok"] = String(run.ok)
        if !run.ok { note.outcome = .failure }
    }

    /// One `pipeline.provisioning_item_replace` entry per item that overwrote something in Bitbucket.
    static func auditReplacements(_ req: Request, _ run: ProvisioningRun) async {
        for replaced in run.replaced {
            var details = [
                "repository": run.repository, "kind": replaced.item.kind.rawValue, "name": replaced.item.name,
            ]
            if let previous = replaced.item.current?.fingerprintSHA256 { details["previous_fingerprint"] = previous }
            if let fingerprint = replaced.item.desired.fingerprintSHA256 { details["fingerprint"] = fingerprint }
            if replaced.item.replacesForeignKeyPair { details["foreign"] = "true" }
            await AuditLog.record(
                req, .provisioningItemReplace,
                note: AuditNote(resource: AuditResource(type: "pipeline", id: run.pipelineID), details: details),
                outcome: .success)
        }
    }
}
