import Fluent
import Foundation
import PipewrightCore
import Vapor

/// Triggering and executions (docs/API.md "Triggering and executions"): `POST /api/pipelines/{id}/trigger`,
/// `GET /api/pipelines/{id}/executions`, `GET /api/executions/{id}`, `POST /api/executions/{id}/stop`,
/// `POST /api/executions/{id}/rerun`; the use cases are in `ExecutionLauncher`.
struct ExecutionController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.post("pipelines", ":pipelineID", "trigger", use: trigger)
        routes.get("pipelines", ":pipelineID", "executions", use: index)
        routes.get("executions", ":executionID", use: show)
        routes.post("executions", ":executionID", "stop", use: stop)
        routes.post("executions", ":executionID", "rerun", use: rerun)
    }

    /// 202 with the execution at once; attempts run in the background.
    @Sendable func trigger(req: Request) async throws -> Response {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .trigger, resource: resource) { note in
            try await req.enforceRateLimit(.trigger)
            let pipelineID = try FieldRules.pathID(req, "pipelineID")
            let body =
                (req.body.data?.readableBytes ?? 0) > 0
                ? try req.content.decode(TriggerPipelineRequest.self) : TriggerPipelineRequest()
            let launch = try await req.executionLauncher.trigger(
                pipelineID: pipelineID, ExecutionLauncher.TriggerRequest(body),
                idempotencyKey: req.headers.first(name: "Idempotency-Key"), by: try req.requireUser())
            note.details["execution_id"] = String(try launch.execution.requireID())
            note.details["branch"] = launch.execution.branch
            note.details["created"] = String(launch.created)
            return try Response.json(try ExecutionResponse(launch), status: .accepted)
        }
    }

    @Sendable func index(req: Request) async throws -> PageResponse<ExecutionResponse> {
        let page = try PageQuery.parse(req)
        let status = try req.decodeQuery(ExecutionStatusParameter.self).parsed()
        let (items, total) = try await req.executionLauncher.list(
            pipelineID: try FieldRules.pathID(req, "pipelineID"), status: status, page: page, for: try req.requireUser()
        )
        return PageResponse(
            items: try items.map { try ExecutionResponse($0, attempts: $0.attempts) }, request: page, total: total)
    }

    @Sendable func show(req: Request) async throws -> ExecutionResponse {
        try ExecutionResponse(
            try await req.executionLauncher.show(
                executionID: try FieldRules.pathID(req, "executionID"), for: try req.requireUser()))
    }

    @Sendable func stop(req: Request) async throws -> ExecutionResponse {
        try await AuditLog.audited(req, .stop, resource: Self.executionResource(req)) { _ in
            try ExecutionResponse(
                try await req.executionLauncher.stop(
                    executionID: try FieldRules.pathID(req, "executionID"), by: try req.requireUser()))
        }
    }

    @Sendable func rerun(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .rerun, resource: Self.executionResource(req)) { note in
            try await req.enforceRateLimit(.trigger)
            let launch = try await req.executionLauncher.rerun(
                executionID: try FieldRules.pathID(req, "executionID"), by: try req.requireUser())
            note.details["execution_id"] = String(try launch.execution.requireID())
            return try Response.json(try ExecutionResponse(launch), status: .accepted)
        }
    }

    /// `{"type": "execution", "id": <:executionID>}`.
    static func executionResource(_ req: Request) -> AuditResource {
        AuditResource(type: "execution", id: req.parameters.get("executionID").flatMap { Int($0) })
    }
}

extension ExecutionLauncher.TriggerRequest {
    init(_ body: TriggerPipelineRequest) {
        self.init(
            branch: body.branch, commit: body.commit, pattern: body.pattern,
            variables: (body.variables ?? []).map {
                PipelineVariable(key: $0.key, value: $0.value, secured: $0.secured ?? false)
            },
            retry: body.retry, maxRetries: body.maxRetries)
    }
}

extension ExecutionResponse {
    init(_ launch: ExecutionLauncher.Launch) throws {
        try self.init(launch.execution, attempts: launch.attempts)
    }
}
