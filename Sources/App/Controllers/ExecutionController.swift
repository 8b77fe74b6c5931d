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
        let body =
            (req.body.data?.readableBytes ?? 0) > 0
            ? try req.content.decode(TriggerPipelineRequest.self) : TriggerPipelineRequest()
        let launch = try await Self.trigger(
            req, ExecutionLauncher.TriggerRequest(body), idempotencyKey: req.headers.first(name: "Idempotency-Key"))
        return try Response.json(try ExecutionResponse(launch), status: .accepted)
    }

    /// Audited, rate-limited trigger of `:pipelineID` (`ExecutionLauncher.trigger`); the JSON API and the
    /// dashboard's trigger form call it.
    static func trigger(_ req: Request, _ request: ExecutionLauncher.TriggerRequest, idempotencyKey: String?)
        async throws -> ExecutionLauncher.Launch
    {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .trigger, resource: resource) { note in
            try await req.enforceRateLimit(.trigger)
            let launch = try await req.executionLauncher.trigger(
                pipelineID: try FieldRules.pathID(req, "pipelineID"), request, idempotencyKey: idempotencyKey,
                by: try req.requireUser())
            note.details["execution_id"] = String(try launch.execution.requireID())
            note.details["branch"] = launch.execution.branch
            note.details["created"] = String(launch.created)
            return launch
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
        try ExecutionResponse(try await Self.stop(req))
    }

    @Sendable func rerun(req: Request) async throws -> Response {
        try Response.json(try ExecutionResponse(try await Self.rerun(req)), status: .accepted)
    }

    /// Audited stop of `:executionID` (`ExecutionLauncher.stop`).
    static func stop(_ req: Request) async throws -> ExecutionLauncher.Launch {
        try await AuditLog.audited(req, .stop, resource: executionResource(req)) { _ in
            try await req.executionLauncher.stop(
                executionID: try FieldRules.pathID(req, "executionID"), by: try req.requireUser())
        }
    }

    /// Audited, rate-limited rerun of `:executionID` (`ExecutionLauncher.rerun`).
    static func rerun(_ req: Request) async throws -> ExecutionLauncher.Launch {
        try await AuditLog.audited(req, .rerun, resource: executionResource(req)) { note in
            try await req.enforceRateLimit(.trigger)
            let launch = try await req.executionLauncher.rerun(
                executionID: try FieldRules.pathID(req, "executionID"), by: try req.requireUser())
            note.details["execution_id"] = String(try launch.execution.requireID())
            return launch
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
