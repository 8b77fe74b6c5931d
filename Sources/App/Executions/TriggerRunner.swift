import Bitbucket
import Fluent
import Foundation
import LogStore
import Logging
import PipewrightCore
import Realtime
import SSHKeys
import Vapor

/// Runs the trigger attempts of one execution in the background (docs/API.md "Triggering and executions").
///
/// Delay before attempt n+1 is up to 2ⁿ × `triggerRetryBaseDelay` (full jitter, capped), never shorter
/// than `Retry-After`. Which failures are retried is the Bitbucket module's one rule
/// (`BitbucketError.handling`); a failure that is not retried makes the execution `ERROR` with the
/// reason. After a failure that may have taken effect (`retryAfterLookup`: the POST may have reached
/// Bitbucket) recent pipelines of the branch/commit are listed before POSTing again, and one created
/// since the first attempt is adopted — a retry never starts a second pipeline.
struct TriggerRunner {
    let application: Application

    private var db: any Database { application.db }
    private var services: AppServices { application.services }
    private var logger: Logger { application.logger }

    func run(executionID: Int) async {
        do {
            try await attempt(executionID: executionID)
        } catch is CancellationError {
            return  // shutdown: resumed at the next start
        } catch {
            try? await markError(executionID: executionID, reason: "Internal error while triggering.")
            logFinished(
                executionID, outcome: "failed", attempts: 0, level: .error,
                ["code": "internal_error", "error_type": "\(type(of: error))"])
        }
    }

    private func attempt(executionID: Int) async throws {
        guard let execution = try await Execution.find(executionID, on: db), execution.status == .triggering else {
            return
        }
        guard let pipeline = try await Pipeline.find(execution.$pipeline.id, on: db),
            let connection = try await Connection.find(pipeline.$connection.id, on: db)
        else {
            try await markError(executionID: executionID, reason: "The pipeline or its connection no longer exists.")
            logFinished(
                executionID, outcome: "failed", attempts: 0, level: .error, ["error": "pipeline_or_connection_gone"])
            return
        }
        let client = try services.bitbucketClients.client(for: connection, logger: logger)
        let target = Self.target(for: execution)
        let variables = try services.vault.openVariables(of: execution).map {
            BitbucketPipelineVariable(key: $0.key, secret: Secret($0.value), secured: $0.secured)
        }
        let policy = RetryPolicy(
            maxAttempts: execution.retry ? execution.maxRetries + 1 : 1, baseDelay: services.triggerRetryBaseDelay,
            cap: services.triggerRetryCap)
        var random = SystemRandomNumberGenerator()
        let previous = try await TriggerAttempt.query(on: db).filter(\.$execution.$id == executionID).all()
        var number = (previous.map(\.number).max() ?? 0)
        let firstStart = previous.map(\.startedAt).min() ?? services.now()
        var ambiguous = previous.contains { $0.outcome == nil } || previous.last?.error?.hasPrefix("ambiguous") == true
        while number < policy.maxAttempts {
            try Task.checkCancellation()
            if ambiguous, let adopted = try await lookUp(client, pipeline, execution, since: firstStart) {
                try await adopt(adopted, execution: execution, pipeline: pipeline)
                logFinished(
                    executionID, outcome: "adopted", attempts: number, level: .notice,
                    ["build_number": "\(adopted.buildNumber)"])
                return
            }
            number += 1
            let record = TriggerAttempt()
            record.$execution.id = executionID
            record.number = number
            record.startedAt = services.now()
            try await record.create(on: db)
            do {
                let created = try await client.triggerPipeline(
                    workspace: pipeline.workspace, slug: pipeline.repoSlug, target: target, variables: variables)
                record.outcome = .succeeded
                record.httpStatus = 201
                record.finishedAt = services.now()
                try await record.save(on: db)
                try await adopt(created, execution: execution, pipeline: pipeline)
                logFinished(
                    executionID, outcome: "triggered", attempts: number, level: .notice,
                    ["build_number": "\(created.buildNumber)"])
                return
            } catch {
                record.outcome = .failed
                record.finishedAt = services.now()
                let failure = error as? BitbucketError
                record.httpStatus = failure?.httpStatus
                record.error = Self.describe(error)
                let retryable = failure?.isRetryable ?? false
                ambiguous = failure?.mayHaveTakenEffect ?? false
                if !retryable || number >= policy.maxAttempts {
                    try await record.save(on: db)
                    let reason =
                        retryable
                        ? "Gave up after \(number) attempt(s): \(Self.describe(error))"
                        : "Bitbucket refused the trigger: \(Self.describe(error))"
                    try await markError(executionID: executionID, reason: reason)
                    var fields = ["error": Self.describe(error), "code": failure?.code ?? "internal_error"]
                    if case .transport(let transport)? = failure { fields["transport_error"] = transport.summary }
                    fields["retryable"] = "\(retryable)"
                    logFinished(executionID, outcome: "failed", attempts: number, level: .error, fields)
                    return
                }
                let delay = policy.delay(beforeAttempt: number, retryAfter: failure?.retryAfter, random: &random)
                record.nextRetryAt = services.now().addingTimeInterval(delay.seconds)
                try await record.save(on: db)
                logger.info(
                    "trigger attempt failed; retrying",
                    metadata: [
                        "execution_id": "\(executionID)", "attempt": "\(number)", "delay_s": "\(delay.seconds)",
                    ])
                try await services.clock.sleep(for: delay)
            }
        }
    }

    /// The one `trigger finished` line every trigger ends with (docs/API.md "Triggering and executions"):
    /// `outcome` `triggered` | `adopted` | `failed`, the attempts made, and the failure's code and summary.
    private func logFinished(
        _ executionID: Int, outcome: String, attempts: Int, level: Logger.Level, _ fields: [String: String]
    ) {
        var metadata: Logger.Metadata = [
            "execution_id": "\(executionID)", "outcome": .string(outcome), "attempts": "\(attempts)",
        ]
        for (key, value) in fields { metadata[key] = .string(value) }
        logger.log(level: level, "trigger finished", metadata: metadata)
    }

    /// A pipeline created for this branch/commit since the first attempt that no execution owns yet.
    private func lookUp(_ client: any BitbucketAPI, _ pipeline: Pipeline, _ execution: Execution, since start: Date)
        async throws -> BitbucketPipeline?
    {
        let recent: [BitbucketPipeline]
        do {
            recent = try await client.pipelines(
                workspace: pipeline.workspace, slug: pipeline.repoSlug, branch: execution.branch,
                commit: execution.commit,
                sort: "-created_on", maxPages: 1)
        } catch {
            return nil  // cannot tell: the next POST is still guarded by the next lookup
        }
        let earliest = start.addingTimeInterval(-services.triggerLookupSkew.seconds)
        for candidate in recent {
            guard let createdOn = candidate.createdOn.flatMap(RFC3339.parse), createdOn >= earliest else { continue }
            let owned = try await Execution.query(on: db).filter(\.$bitbucketUUID == candidate.uuid).count()
            if owned == 0 { return candidate }
        }
        return nil
    }

    private func adopt(_ created: BitbucketPipeline, execution: Execution, pipeline: Pipeline) async throws {
        execution.bitbucketUUID = created.uuid
        execution.buildNumber = created.buildNumber
        execution.bitbucketURL = BitbucketPipeline.resultsURL(
            workspace: pipeline.workspace, slug: pipeline.repoSlug, buildNumber: created.buildNumber)
        execution.status = .pending
        execution.startedAt = services.now()
        if execution.commit == nil { execution.commit = created.commit }
        try await execution.save(on: db)
        let id = try execution.requireID()
        await application.publishExecutionEvent(
            .pipelineStatus(
                PipelineStatusPayload(
                    executionID: id, pipelineID: pipeline.id ?? 0, status: Execution.Status.pending.rawValue,
                    previousStatus: Execution.Status.triggering.rawValue, steps: [],
                    seq: (try? services.logStore.highestSeq(execution: id)) ?? 0)))
        await application.executionSupervisor.ensureMonitor(executionID: id)
    }

    private func markError(executionID: Int, reason: String) async throws {
        guard let execution = try await Execution.find(executionID, on: db) else { return }
        let previous = execution.status
        execution.status = .error
        execution.errorReason = reason
        execution.finishedAt = services.now()
        try await execution.save(on: db)
        await application.publishExecutionEvent(
            .pipelineStatus(
                PipelineStatusPayload(
                    executionID: executionID, pipelineID: execution.$pipeline.id,
                    status: Execution.Status.error.rawValue,
                    previousStatus: previous.rawValue, steps: [],
                    seq: (try? services.logStore.highestSeq(execution: executionID)) ?? 0)))
    }

    static func target(for execution: Execution) -> BitbucketPipelineTarget {
        if let pattern = execution.pattern {
            return execution.commit.map { .custom(pattern, onBranch: execution.branch, commit: $0) }
                ?? .custom(pattern, onBranch: execution.branch)
        }
        if let commit = execution.commit { return .commit(commit, onBranch: execution.branch) }
        return .branch(execution.branch)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as BitbucketError: "\(error.code): \(error.message)"
        case let error as any PipewrightError: "\(error.code): \(error.message)"
        default: "internal error"
        }
    }
}
