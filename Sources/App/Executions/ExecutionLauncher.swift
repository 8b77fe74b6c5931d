import Bitbucket
import Fluent
import Foundation
import Logging
import PipewrightCore
import SQLKit

/// Triggering, rerunning, stopping and reading executions (docs/API.md "Triggering and executions").
///
/// A trigger answers at once with the `TRIGGERING` execution; `TriggerRunner` makes the attempts in the
/// background. The same `Idempotency-Key`, or an identical trigger still `TRIGGERING`, returns the
/// existing execution instead of starting another Bitbucket pipeline.
struct ExecutionLauncher: Sendable {
    let db: any Database
    let vault: SecretVault
    let clients: BitbucketClients
    let queues: SerialQueues
    let supervisor: ExecutionSupervisor
    let now: @Sendable () -> Date
    let logger: Logger

    /// What to trigger, as the user asked (every field optional; the pipeline's branch by default).
    struct TriggerRequest: Sendable {
        var branch: String?
        var commit: String?
        var pattern: String?
        var variables: [PipelineVariable] = []
        var retry: Bool?
        var maxRetries: Int?
    }

    /// An execution with its trigger attempts, and whether this request created it.
    struct Launch: Sendable {
        var execution: Execution
        var attempts: [TriggerAttempt]
        var created: Bool
    }

    /// A validated trigger.
    struct Plan: Sendable {
        var branch: String
        var commit: String?
        var pattern: String?
        var variables: [PipelineVariable]
        var retry: Bool
        var maxRetries: Int
    }

    // MARK: - Trigger

    /// Creates an execution and starts its attempts, or returns the existing one for the same
    /// `idempotencyKey` (or an identical trigger still `TRIGGERING`).
    ///
    /// - Throws: `AppError.notFound` (pipeline), `AppError.invalidField` for a bad field or key,
    ///   `AppError.unprocessable` when the key was used for a different trigger.
    func trigger(pipelineID: Int, _ request: TriggerRequest, idempotencyKey: String?, by user: AuthenticatedUser)
        async throws -> Launch
    {
        let pipeline = try await Pipeline.find(pipelineID, for: .triggerExecutions, by: user, on: db)
        let key = try Self.validateIdempotencyKey(idempotencyKey)
        let plan = try Self.validate(request, defaultBranch: pipeline.branch)
        // Identical triggers of one pipeline are decided one after another, so a concurrent duplicate sees
        // the first one's execution (with or without Idempotency-Key): in this process by the queue, across
        // instances on PostgreSQL by an advisory lock held by the transaction that checks and inserts.
        let (execution, created) = try await queues.serialized("trigger:\(pipelineID)") {
            try await createOrReuse(plan: plan, key: key, pipeline: pipeline, user: user)
        }
        if created {
            await supervisor.startTrigger(executionID: try execution.requireID())
            logger.info(
                "pipeline triggered",
                metadata: [
                    "pipeline_id": "\(pipelineID)", "execution_id": "\(execution.id ?? 0)", "actor": "\(user.username)",
                ])
        }
        return Launch(execution: execution, attempts: try await attempts(of: execution), created: created)
    }

    /// Triggers the same branch/commit/pattern again as a new execution (variables included).
    func rerun(executionID: Int, by user: AuthenticatedUser) async throws -> Launch {
        let original = try await Execution.find(executionID, for: .triggerExecutions, by: user, on: db)
        guard let pipeline = try await Pipeline.find(original.$pipeline.id, on: db) else {
            throw AppError.notFound(Pipeline.resourceName)
        }
        let plan = Plan(
            branch: original.branch, commit: original.commit, pattern: original.pattern,
            variables: try vault.openVariables(of: original), retry: original.retry, maxRetries: original.maxRetries)
        let execution = try await insert(plan, key: nil, pipeline: pipeline, user: user)
        await supervisor.startTrigger(executionID: try execution.requireID())
        return Launch(execution: execution, attempts: [], created: true)
    }

    /// Asks Bitbucket to stop the run; the monitor records `STOPPED` when Bitbucket confirms.
    ///
    /// - Throws: `ConflictError.executionFinished` / `.executionTriggering`, Bitbucket errors.
    func stop(executionID: Int, by user: AuthenticatedUser) async throws -> Launch {
        let execution = try await Execution.find(executionID, for: .triggerExecutions, by: user, on: db)
        guard !execution.status.isTerminal else { throw ConflictError.executionFinished }
        guard let uuid = execution.bitbucketUUID else { throw ConflictError.executionTriggering }
        guard let pipeline = try await Pipeline.find(execution.$pipeline.id, on: db),
            let connection = try await Connection.find(pipeline.$connection.id, on: db)
        else { throw AppError.notFound(Pipeline.resourceName) }
        let client = try clients.client(for: connection, logger: logger)
        try await client.stopPipeline(workspace: pipeline.workspace, slug: pipeline.repoSlug, uuid: uuid)
        await supervisor.wake(executionID: executionID)
        return Launch(execution: execution, attempts: try await attempts(of: execution), created: false)
    }

    // MARK: - Read

    func show(executionID: Int, for user: AuthenticatedUser) async throws -> Launch {
        let execution = try await Execution.find(executionID, visibleTo: user, on: db)
        return Launch(execution: execution, attempts: try await attempts(of: execution), created: false)
    }

    /// A pipeline's executions, newest first, with their attempts.
    func list(pipelineID: Int, status: Execution.Status?, page: PipewrightCore.PageRequest, for user: AuthenticatedUser)
        async throws
        -> (items: [Execution], total: Int)
    {
        let pipeline = try await Pipeline.find(pipelineID, visibleTo: user, on: db)
        let query = Execution.query(on: db).filter(\.$pipeline.$id == (try pipeline.requireID()))
        if let status { query.filter(\.$status == status) }
        let total = try await query.count()
        let items = try await query.sort(\.$id, .descending).range(page.offset..<(page.offset + page.perPage))
            .with(\.$attempts).all()
        return (items, total)
    }

    /// Which executions `listAll` returns.
    struct ListFilter: Sendable, Equatable {
        var status: Execution.Status?
        var pipelineID: Int?
        /// Exact branch name.
        var branch: String?
    }

    /// Executions across every pipeline `user` sees, newest first, with their pipelines and attempts.
    func listAll(_ filter: ListFilter, page: PipewrightCore.PageRequest, for user: AuthenticatedUser) async throws
        -> (items: [Execution], total: Int)
    {
        let query = Execution.visible(to: user, on: db)
        if let status = filter.status { query.filter(\.$status == status) }
        if let pipelineID = filter.pipelineID { query.filter(\.$pipeline.$id == pipelineID) }
        if let branch = filter.branch, !branch.isEmpty { query.filter(\.$branch == branch) }
        let total = try await query.count()
        let items = try await query.sort(\.$id, .descending).range(page.offset..<(page.offset + page.perPage))
            .with(\.$pipeline).with(\.$attempts).all()
        return (items, total)
    }

    // MARK: - Rules

    static func validate(_ request: TriggerRequest, defaultBranch: String) throws -> Plan {
        let branch = try FieldRules.branch(request.branch ?? defaultBranch, field: "branch")
        var commit: String?
        if let given = request.commit {
            let hex = CharacterSet(charactersIn: "0123456789abcdef")
            guard (7...40).contains(given.count), given.lowercased().unicodeScalars.allSatisfy(hex.contains) else {
                throw AppError.invalidField("commit", reason: "must be a 7-40 character hexadecimal commit hash")
            }
            commit = given.lowercased()
        }
        var pattern: String?
        if let given = request.pattern {
            guard !given.isEmpty, given.count <= 200 else {
                throw AppError.invalidField("pattern", reason: "must be 1-200 characters")
            }
            try FieldRules.noControlCharacters(given, field: "pattern")
            pattern = given
        }
        let maxRetries = request.maxRetries ?? 3
        guard (0...10).contains(maxRetries) else { throw AppError.invalidField("max_retries", reason: "must be 0-10") }
        let keyCharacters = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
        for (index, variable) in request.variables.enumerated() {
            guard !variable.key.isEmpty, variable.key.count <= 100,
                variable.key.unicodeScalars.allSatisfy(keyCharacters.contains), !(variable.key.first?.isNumber ?? true)
            else {
                throw AppError.invalidField(
                    "variables[\(index)].key", reason: "use letters, digits and _; not starting with a digit")
            }
            guard variable.value.utf8.count <= 10_000 else {
                throw AppError.invalidField("variables[\(index)].value", reason: "must be at most 10000 bytes")
            }
        }
        guard request.variables.count <= 100 else { throw AppError.invalidField("variables", reason: "at most 100") }
        return Plan(
            branch: branch, commit: commit, pattern: pattern, variables: request.variables,
            retry: request.retry ?? true,
            maxRetries: maxRetries)
    }

    /// `Idempotency-Key`: 1-200 visible ASCII characters.
    static func validateIdempotencyKey(_ key: String?) throws -> String? {
        guard let key else { return nil }
        guard !key.isEmpty, key.count <= 200,
            key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 })
        else {
            throw AppError.invalidField("Idempotency-Key", reason: "must be 1-200 visible ASCII characters")
        }
        return key
    }

    // MARK: - Helpers

    /// The existing execution for the key (or an identical one still triggering), else a new one.
    private func createOrReuse(plan: Plan, key: String?, pipeline: Pipeline, user: AuthenticatedUser) async throws
        -> (Execution, Bool)
    {
        let pipelineID = try pipeline.requireID()
        // SQLite is one instance, already ordered by the queue: no transaction held across the check (a write
        // transaction there would only make concurrent writers of other connections fail as busy).
        let shared = (db as? any SQLDatabase)?.dialect.name == "postgresql"
        @Sendable func decide(_ tx: any Database) async throws -> (Execution, Bool) {
            try await TransactionLocks.lock("trigger:\(pipelineID)", on: tx)
            if let existing = try await existing(pipelineID: pipelineID, key: key, plan: plan, on: tx) {
                // The commit may have been filled in from Bitbucket since; only a different requested one
                // conflicts.
                let sameCommit = plan.commit == nil || existing.commit == nil || existing.commit == plan.commit
                guard existing.branch == plan.branch, existing.pattern == plan.pattern, sameCommit else {
                    throw AppError.unprocessable(
                        "Idempotency-Key",
                        reason: "was already used for a different trigger (execution \(existing.id ?? 0))")
                }
                return (existing, false)
            }
            return (try await insert(plan, key: key, pipeline: pipeline, user: user, on: tx), true)
        }
        do {
            return shared ? try await db.transaction { try await decide($0) } : try await decide(db)
        } catch {
            // A concurrent request with the same Idempotency-Key won the unique constraint (the last line of
            // defence; the lock above normally orders them): return theirs.
            guard (error as? any DatabaseError)?.isConstraintFailure == true,
                let existing = try await existing(pipelineID: pipelineID, key: key, plan: plan, on: db)
            else { throw error }
            return (existing, false)
        }
    }

    /// Inserts a `TRIGGERING` execution with its variables sealed, in one transaction.
    private func insert(
        _ plan: Plan, key: String?, pipeline: Pipeline, user: AuthenticatedUser, on database: (any Database)? = nil
    ) async throws -> Execution {
        let execution = Execution()
        execution.$owner.id = pipeline.$owner.id
        execution.$pipeline.id = try pipeline.requireID()
        execution.branch = plan.branch
        execution.commit = plan.commit
        execution.pattern = plan.pattern
        execution.retry = plan.retry
        execution.maxRetries = plan.maxRetries
        execution.idempotencyKey = key
        execution.status = .triggering
        execution.steps = []
        execution.triggerBy = user.username
        execution.triggerAt = now()
        let vault = self.vault
        try await (database ?? db).transaction { tx in
            try await execution.create(on: tx)
            if let sealed = try vault.sealVariables(plan.variables, execution: try execution.requireID()) {
                execution.sealedVariables = sealed
                try await execution.save(on: tx)
            }
        }
        return execution
    }

    private func existing(pipelineID: Int, key: String?, plan: Plan, on db: any Database) async throws -> Execution? {
        if let key {
            return try await Execution.query(on: db).filter(\.$pipeline.$id == pipelineID)
                .filter(\.$idempotencyKey == key).first()
        }
        let triggering = try await Execution.query(on: db).filter(\.$pipeline.$id == pipelineID)
            .filter(\.$status == .triggering).filter(\.$branch == plan.branch).all()
        return triggering.first { $0.commit == plan.commit && $0.pattern == plan.pattern }
    }

    private func attempts(of execution: Execution) async throws -> [TriggerAttempt] {
        try await TriggerAttempt.query(on: db).filter(\.$execution.$id == execution.requireID()).all()
    }
}
