import Bitbucket
import Crypto
import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// Triggering and executions (SPEC §8): `POST /api/pipelines/{id}/trigger`, `GET /api/pipelines/{id}/executions`,
/// `GET /api/executions/{id}`, `POST /api/executions/{id}/stop`, `POST /api/executions/{id}/rerun`.
struct ExecutionController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        routes.post("pipelines", ":pipelineID", "trigger", use: trigger)
        routes.get("pipelines", ":pipelineID", "executions", use: index)
        routes.get("executions", ":executionID", use: show)
        routes.post("executions", ":executionID", "stop", use: stop)
        routes.post("executions", ":executionID", "rerun", use: rerun)
    }

    /// 202 with the execution at once; attempts run in the background. The same `Idempotency-Key` (or an
    /// execution of the same pipeline, branch and commit still `TRIGGERING`) returns the existing
    /// execution instead of starting another pipeline.
    @Sendable func trigger(req: Request) async throws -> Response {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .trigger, resource: resource) { note in
            try await req.enforceRateLimit(.trigger)
            return try await triggerAudited(req: req, note: note)
        }
    }

    private func triggerAudited(req: Request, note: AuditNote) async throws -> Response {
        let user = try req.requireUser()
        let pipeline = try await PipelineController.find(req)
        let body = (req.body.data?.readableBytes ?? 0) > 0
            ? try req.content.decode(TriggerPipelineRequest.self) : TriggerPipelineRequest()
        let key = try Self.idempotencyKey(req)
        let plan = try Self.validate(body, pipeline: pipeline)
        // Identical triggers of one pipeline are decided one after another, so a concurrent duplicate sees
        // the first one's execution (with or without Idempotency-Key).
        let db = req.db
        let execution = try await services.queues.serialized("trigger:\(try pipeline.requireID())") {
            try await createOrReuse(plan: plan, key: key, pipeline: pipeline, user: user, db: db)
        }
        note.details["execution_id"] = String(try execution.record.requireID())
        note.details["branch"] = plan.branch
        note.details["created"] = String(execution.created)
        if execution.created {
            await req.application.executionSupervisor.startTrigger(executionID: try execution.record.requireID())
            req.logger.info("pipeline triggered", metadata: [
                "pipeline_id": "\(pipeline.id ?? 0)", "execution_id": "\(execution.record.id ?? 0)", "actor": "\(user.username)",
            ])
        }
        let response = Response(status: .accepted)
        try response.content.encode(try await Self.response(execution.record, on: req.db))
        return response
    }

    @Sendable func index(req: Request) async throws -> PageResponse<ExecutionResponse> {
        let pipeline = try await PipelineController.find(req)
        let page = try PageQuery.parse(req)
        let query = Execution.query(on: req.db).filter(\.$pipeline.$id == (try pipeline.requireID()))
        if let status = req.query[String.self, at: "status"] {
            guard let parsed = Execution.Status(rawValue: status.uppercased()) else {
                throw AppError.invalidField("status", reason: "must be one of \(Execution.Status.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.filter(\.$status == parsed)
        }
        let total = try await query.count()
        let items = try await query.sort(\.$id, .descending).range(page.offset..<(page.offset + page.perPage))
            .with(\.$attempts).all()
        return PageResponse(items: try items.map { try ExecutionResponse($0, attempts: $0.attempts) }, request: page, total: total)
    }

    @Sendable func show(req: Request) async throws -> ExecutionResponse {
        try await Self.response(try await Self.find(req), on: req.db)
    }

    /// Asks Bitbucket to stop the run; the monitor records `STOPPED` when Bitbucket confirms.
    @Sendable func stop(req: Request) async throws -> ExecutionResponse {
        try await AuditLog.audited(req, .stop, resource: Self.executionResource(req)) { _ in
            try await stopAudited(req: req)
        }
    }

    private func stopAudited(req: Request) async throws -> ExecutionResponse {
        let execution = try await Self.find(req)
        guard !execution.status.isTerminal else {
            throw AppError.duplicate(code: "execution_finished", message: "The execution has already finished.", details: [:])
        }
        guard let uuid = execution.bitbucketUUID else {
            throw AppError.duplicate(code: "execution_triggering", message: "The pipeline is still being triggered; try again shortly.", details: [:])
        }
        guard let pipeline = try await Pipeline.find(execution.$pipeline.id, on: req.db),
            let connection = try await Connection.find(pipeline.$connection.id, on: req.db)
        else { throw AppError.notFound("Pipeline") }
        let client = try BitbucketGateway(services: services, logger: req.logger).client(for: connection)
        try await client.stopPipeline(workspace: pipeline.workspace, slug: pipeline.repoSlug, uuid: uuid)
        await req.application.executionSupervisor.wake(executionID: try execution.requireID())
        return try await Self.response(execution, on: req.db)
    }

    /// Triggers the same branch/commit/pattern again as a new execution (variables included).
    @Sendable func rerun(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .rerun, resource: Self.executionResource(req)) { note in
            try await req.enforceRateLimit(.trigger)
            return try await rerunAudited(req: req, note: note)
        }
    }

    /// `{"type": "execution", "id": <:executionID>}`.
    static func executionResource(_ req: Request) -> AuditResource {
        AuditResource(type: "execution", id: req.parameters.get("executionID").flatMap { Int($0) })
    }

    private func rerunAudited(req: Request, note: AuditNote) async throws -> Response {
        let user = try req.requireUser()
        let original = try await Self.find(req)
        guard let pipeline = try await Pipeline.find(original.$pipeline.id, on: req.db) else { throw AppError.notFound("Pipeline") }
        let execution = Execution()
        execution.$owner.id = pipeline.$owner.id
        execution.$pipeline.id = try pipeline.requireID()
        execution.branch = original.branch
        execution.commit = original.commit
        execution.pattern = original.pattern
        execution.retry = original.retry
        execution.maxRetries = original.maxRetries
        execution.status = .triggering
        execution.stepsJSON = "[]"
        execution.triggerBy = user.username
        execution.triggerAt = services.now()
        let masterKey = services.masterKey
        try await req.db.transaction { tx in
            try await execution.create(on: tx)
            if let sealed = original.sealedVariables {
                let plain = try SealedSecret(base64: sealed).open(
                    with: masterKey, associatedData: Execution.variablesAssociatedData(id: try original.requireID()))
                execution.sealedVariables = try SealedSecret.seal(
                    plain.value, with: masterKey, associatedData: Execution.variablesAssociatedData(id: try execution.requireID())
                ).base64
                try await execution.save(on: tx)
            }
        }
        note.details["execution_id"] = String(try execution.requireID())
        await req.application.executionSupervisor.startTrigger(executionID: try execution.requireID())
        let response = Response(status: .accepted)
        try response.content.encode(try await Self.response(execution, on: req.db))
        return response
    }

    // MARK: - Helpers

    struct Plan {
        var branch: String
        var commit: String?
        var pattern: String?
        var variables: [TriggerAttempts.StoredVariable]
        var retry: Bool
        var maxRetries: Int
    }

    static func validate(_ body: TriggerPipelineRequest, pipeline: Pipeline) throws -> Plan {
        let branch = try Validation.branch(body.branch ?? pipeline.branch, field: "branch")
        var commit: String?
        if let given = body.commit {
            let hex = CharacterSet(charactersIn: "0123456789abcdef")
            guard (7...40).contains(given.count), given.lowercased().unicodeScalars.allSatisfy(hex.contains) else {
                throw AppError.invalidField("commit", reason: "must be a 7-40 character hexadecimal commit hash")
            }
            commit = given.lowercased()
        }
        var pattern: String?
        if let given = body.pattern {
            guard !given.isEmpty, given.count <= 200 else { throw AppError.invalidField("pattern", reason: "must be 1-200 characters") }
            try Validation.noControlCharacters(given, field: "pattern")
            pattern = given
        }
        let maxRetries = body.maxRetries ?? 3
        guard (0...10).contains(maxRetries) else { throw AppError.invalidField("max_retries", reason: "must be 0-10") }
        let variables = try (body.variables ?? []).enumerated().map { index, variable in
            let keyCharacters = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
            guard !variable.key.isEmpty, variable.key.count <= 100, variable.key.unicodeScalars.allSatisfy(keyCharacters.contains),
                !(variable.key.first?.isNumber ?? true)
            else { throw AppError.invalidField("variables[\(index)].key", reason: "use letters, digits and _; not starting with a digit") }
            guard variable.value.utf8.count <= 10_000 else {
                throw AppError.invalidField("variables[\(index)].value", reason: "must be at most 10000 bytes")
            }
            return TriggerAttempts.StoredVariable(key: variable.key, value: variable.value, secured: variable.secured ?? false)
        }
        guard (body.variables ?? []).count <= 100 else { throw AppError.invalidField("variables", reason: "at most 100") }
        return Plan(branch: branch, commit: commit, pattern: pattern, variables: variables, retry: body.retry ?? true, maxRetries: maxRetries)
    }

    static func idempotencyKey(_ req: Request) throws -> String? {
        guard let key = req.headers.first(name: "Idempotency-Key") else { return nil }
        guard !key.isEmpty, key.count <= 200, key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) else {
            throw AppError.invalidField("Idempotency-Key", reason: "must be 1-200 visible ASCII characters")
        }
        return key
    }

    /// The existing execution for the key (or an identical one still triggering), else a new one.
    func createOrReuse(plan: Plan, key: String?, pipeline: Pipeline, user: AuthenticatedUser, db: any Database) async throws
        -> (record: Execution, created: Bool)
    {
        let pipelineID = try pipeline.requireID()
        if let existing = try await Self.existing(pipelineID: pipelineID, key: key, plan: plan, on: db) {
            // The commit may have been filled in from Bitbucket since; only a different requested one conflicts.
            let sameCommit = plan.commit == nil || existing.commit == nil || existing.commit == plan.commit
            guard existing.branch == plan.branch, existing.pattern == plan.pattern, sameCommit else {
                throw AppError.unprocessable(
                    "Idempotency-Key", reason: "was already used for a different trigger (execution \(existing.id ?? 0))")
            }
            return (existing, false)
        }
        let execution = Execution()
        execution.$owner.id = pipeline.$owner.id
        execution.$pipeline.id = pipelineID
        execution.branch = plan.branch
        execution.commit = plan.commit
        execution.pattern = plan.pattern
        execution.retry = plan.retry
        execution.maxRetries = plan.maxRetries
        execution.idempotencyKey = key
        execution.status = .triggering
        execution.stepsJSON = "[]"
        execution.triggerBy = user.username
        execution.triggerAt = services.now()
        let masterKey = services.masterKey
        do {
            try await db.transaction { tx in
                try await execution.create(on: tx)
                if !plan.variables.isEmpty {
                    execution.sealedVariables = try SealedSecret.seal(
                        Array(try JSONEncoder().encode(plan.variables)), with: masterKey,
                        associatedData: Execution.variablesAssociatedData(id: try execution.requireID())
                    ).base64
                    try await execution.save(on: tx)
                }
            }
        } catch {
            // A concurrent request with the same Idempotency-Key won the unique constraint: return theirs.
            guard (error as? any DatabaseError)?.isConstraintFailure == true,
                let existing = try await Self.existing(pipelineID: pipelineID, key: key, plan: plan, on: db)
            else { throw error }
            return (existing, false)
        }
        return (execution, true)
    }

    static func existing(pipelineID: Int, key: String?, plan: Plan, on db: any Database) async throws -> Execution? {
        if let key {
            return try await Execution.query(on: db).filter(\.$pipeline.$id == pipelineID).filter(\.$idempotencyKey == key).first()
        }
        let triggering = try await Execution.query(on: db).filter(\.$pipeline.$id == pipelineID)
            .filter(\.$status == .triggering).filter(\.$branch == plan.branch).all()
        return triggering.first { $0.commit == plan.commit && $0.pattern == plan.pattern }
    }

    static func find(_ req: Request) async throws -> Execution {
        let user = try req.requireUser()
        let id = try Validation.pathID(req, "executionID")
        guard let execution = try await Execution.find(id, on: req.db), user.owns(execution.$owner.id) else {
            throw AppError.notFound("Execution")
        }
        return execution
    }

    static func response(_ execution: Execution, on db: any Database) async throws -> ExecutionResponse {
        let attempts = try await TriggerAttempt.query(on: db).filter(\.$execution.$id == execution.requireID()).all()
        return try ExecutionResponse(execution, attempts: attempts)
    }
}

/// `POST /api/webhooks/bitbucket/{pipeline_id}`: Bitbucket's webhook, signed with the pipeline's secret
/// (`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`, verified in constant time). A bad signature
/// is 401 and changes nothing; a good one wakes the monitors of the pipeline's active executions at once.
struct WebhookController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "webhooks", "bitbucket", ":pipelineID", body: .collect(maxSize: "1mb"), use: receive)
    }

    @Sendable func receive(req: Request) async throws -> HTTPStatus {
        let id = try Validation.pathID(req, "pipelineID")
        let body = req.body.data.map { Array($0.readableBytesView) } ?? []
        guard let pipeline = try await Pipeline.find(id, on: req.db), let sealed = pipeline.sealedWebhookSecret else {
            // Same answer as a bad signature: do not reveal which pipelines exist.
            throw WebhookError.invalidSignature
        }
        let secret = try SealedSecret(base64: sealed).open(
            with: services.masterKey, associatedData: Pipeline.webhookAssociatedData(id: id))
        guard let header = req.headers.first(name: "X-Hub-Signature"), header.hasPrefix("sha256="),
            Self.verify(signature: String(header.dropFirst("sha256=".count)), body: body, secret: secret.value)
        else { throw WebhookError.invalidSignature }
        let active = try await Execution.query(on: req.db).filter(\.$pipeline.$id == id)
            .filter(\.$status ~~ Execution.Status.allCases.filter { !$0.isTerminal }).all()
        for execution in active where execution.bitbucketUUID != nil {
            await req.application.executionSupervisor.wake(executionID: try execution.requireID())
        }
        return .accepted
    }

    /// Constant-time comparison of the hex HMAC-SHA256 of `body` under `secret` with `signature`.
    static func verify(signature: String, body: [UInt8], secret: [UInt8]) -> Bool {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        let expected = mac.map { String(format: "%02x", $0) }.joined()
        return TokenHasher.constantTimeEquals(expected, signature.lowercased())
    }
}

/// Webhook refusals.
enum WebhookError: APIErrorConvertible {
    case invalidSignature

    var status: HTTPResponseStatus { .unauthorized }
    var code: String { "invalid_signature" }
    var message: String { "The X-Hub-Signature header is missing or does not match the pipeline's webhook secret." }
    var details: [String: String] { [:] }
}
