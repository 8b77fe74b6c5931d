import Bitbucket
import Fluent
import Foundation
import LogStore
import Logging
import PipewrightCore
import Realtime
import Vapor

/// Follows one active execution on Bitbucket until it ends (docs/API.md "Triggering and executions"): polls every
/// `PIPEWRIGHT_POLL_INTERVAL` (sooner when woken by a webhook, slower after a 429), maps the running
/// step to `BUILDING`/`TESTING`/`DEPLOYING`, stores the steps and publishes `pipeline_status` on change.
/// After `PIPEWRIGHT_MONITOR_TIMEOUT` it publishes `log_timeout` and stops.
struct ExecutionMonitor {
    let application: Application
    let executionID: Int
    let wakeUps: WakeSignal

    private var db: any Database { application.db }
    private var services: AppServices { application.services }
    private var logger: Logger { application.logger }

    func run() async {
        let started = ContinuousClock.now
        let pipelineID = try? await Execution.find(executionID, on: db)?.$pipeline.id
        // Where to resume is read only once no other process appends to the log (a former lease holder
        // that has not yet noticed it lost the lease): this store becomes its one writer first.
        while !Task.isCancelled, services.logStore.hasLog(execution: executionID) {
            do {
                try services.logStore.becomeWriter(execution: executionID)
                break
            } catch {
                logger.notice(
                    "monitor waits for the log's previous writer to stop",
                    metadata: ["execution_id": "\(executionID)"])
                await wakeUps.wait(for: services.configuration.pollInterval, clock: services.clock)
            }
        }
        var offsets = storedOffsets()
        var carry: [String: [UInt8]] = [:]
        var backoff = services.configuration.pollInterval
        while !Task.isCancelled {
            do {
                guard try await poll(offsets: &offsets, carry: &carry) == .running else { return }
                backoff = services.configuration.pollInterval
            } catch let error as BitbucketError {
                if case .rateLimited(let retryAfter) = error {
                    backoff = min(max(backoff * 2, retryAfter ?? .zero), .seconds(300))
                }
                await publish(
                    .logError(
                        LogErrorPayload(executionID: executionID, code: error.code, message: error.message),
                        pipelineID: pipelineID, seq: highestSeq()))
            } catch is CancellationError {
                return
            } catch {
                logger.error(
                    "monitor poll failed",
                    metadata: ["execution_id": "\(executionID)", "error_type": "\(type(of: error))"])
            }
            if ContinuousClock.now - started >= services.configuration.monitorTimeout {
                await publish(
                    .logTimeout(
                        LogTimeoutPayload(
                            executionID: executionID, afterS: services.configuration.monitorTimeout.seconds),
                        pipelineID: pipelineID, seq: highestSeq()))
                return
            }
            // Sleep until the next poll or a wake-up, whichever comes first.
            await wakeUps.wait(for: backoff, clock: services.clock)
        }
    }

    enum PollResult { case running, finished }

    /// Bytes of each step's log already stored: where reading resumes (after a restart, or on another
    /// instance after a takeover, too — the store keeps only complete lines, so nothing is read twice).
    private func storedOffsets() -> [String: Int64] {
        guard let stats = try? services.logStore.stats(execution: executionID) else { return [:] }
        return stats.bySteps.mapValues(\.bytes)
    }

    /// One round: pipeline state, steps and new log bytes; returns whether to keep going.
    private func poll(offsets: inout [String: Int64], carry: inout [String: [UInt8]]) async throws -> PollResult {
        guard let execution = try await Execution.find(executionID, on: db) else { return .finished }
        guard !execution.status.isTerminal, let uuid = execution.bitbucketUUID else { return .finished }
        guard let pipeline = try await Pipeline.find(execution.$pipeline.id, on: db),
            let connection = try await Connection.find(pipeline.$connection.id, on: db)
        else { return .finished }
        let client = try services.bitbucketClients.client(for: connection, logger: logger)
        let remote = try await client.pipeline(workspace: pipeline.workspace, slug: pipeline.repoSlug, uuid: uuid)
        let remoteSteps = try await client.steps(
            workspace: pipeline.workspace, slug: pipeline.repoSlug, pipelineUUID: uuid)
        let steps = remoteSteps.map(ExecutionStep.init)
        for (step, remoteStep) in zip(steps, remoteSteps) where remoteStep.state != .pending {
            try await readLog(
                client, pipeline: pipeline, pipelineUUID: uuid, step: step, finished: remoteStep.isFinished,
                offsets: &offsets, carry: &carry)
        }
        let old = execution.steps
        let changed = steps.filter { !old.contains($0) }
        let status = Self.status(of: remote.state, steps: remoteSteps, current: execution.status)
        let previous = execution.status
        execution.steps = steps
        let learnedMessage = execution.commitMessage == nil && remote.commitMessage != nil
        if learnedMessage { execution.commitMessage = remote.commitMessage.map { String($0.prefix(2000)) } }
        if status != previous || !changed.isEmpty || learnedMessage {
            execution.status = status
            if status.isTerminal {
                execution.finishedAt = services.now()
                if status == .error, execution.errorReason == nil {
                    execution.errorReason = remote.errorMessage ?? "Bitbucket reported an error."
                }
            }
            try await execution.save(on: db)
        }
        if status != previous {
            await publish(
                .pipelineStatus(
                    PipelineStatusPayload(
                        executionID: executionID, pipelineID: pipeline.id ?? 0, status: status.rawValue,
                        previousStatus: previous.rawValue, steps: changed.map(StepPayload.init), seq: highestSeq())))
        }
        return status.isTerminal ? .finished : .running
    }

    /// Reads the step's new log bytes (`Range` from the stored offset) into the log store and publishes
    /// the complete lines. Only complete lines are handed to the store (the partial last line waits in
    /// `carry`), so the store's byte count is exactly where a restarted monitor resumes reading. A
    /// finished step's last partial line is flushed.
    private func readLog(
        _ client: any BitbucketAPI, pipeline: Pipeline, pipelineUUID: String, step: ExecutionStep, finished: Bool,
        offsets: inout [String: Int64], carry: inout [String: [UInt8]]
    ) async throws {
        var lines: [LogLine] = []
        while true {
            let offset = offsets[step.name] ?? 0
            let chunk = try await client.stepLog(
                workspace: pipeline.workspace, slug: pipeline.repoSlug, pipelineUUID: pipelineUUID, stepUUID: step.uuid,
                fromByte: offset)
            guard case .bytes(let bytes, let next) = chunk, !bytes.isEmpty else { break }
            offsets[step.name] = next
            var pending = carry[step.name, default: []] + bytes
            if let newline = pending.lastIndex(of: UInt8(ascii: "\n")) {
                lines += try services.logStore.append(
                    execution: executionID, step: step.name, bytes: Array(pending[...newline]))
                pending = Array(pending[(newline + 1)...])
            }
            if pending.count > Self.maximumCarryBytes {
                // A line longer than the store's split size: let the store split it now.
                lines += try services.logStore.append(execution: executionID, step: step.name, bytes: pending)
                pending = []
            }
            carry[step.name] = pending
            if bytes.count < 64 * 1024 { break }
        }
        if finished {
            if let rest = carry[step.name], !rest.isEmpty {
                lines += try services.logStore.append(execution: executionID, step: step.name, bytes: rest)
                carry[step.name] = []
            }
            lines += try services.logStore.finishStep(execution: executionID, step: step.name)
        }
        PipewrightMetrics.logLinesStored(lines.count, source: .monitor)
        guard !lines.isEmpty else { return }
        for event in RealtimeEvent.pipelineLogs(
            executionID: executionID, pipelineID: pipeline.id, step: StepRef(step),
            lines: lines.map(LogLinePayload.init))
        {
            await publish(event)
        }
    }

    /// Partial-line bytes held by the monitor before they go to the store anyway (1 MiB, the store's split size).
    static let maximumCarryBytes = 1 << 20

    /// Publishes to this instance's viewers and announces to the other instances (docs/scaling.md).
    private func publish(_ event: RealtimeEvent) async {
        await application.publishExecutionEvent(event)
    }

    /// Highest stored line seq (0 when none): the position status and error events carry.
    private func highestSeq() -> Int {
        (try? services.logStore.highestSeq(execution: executionID)) ?? 0
    }

    /// The execution status (docs/API.md "Triggering and executions") from Bitbucket's pipeline state and
    /// the running step's name.
    static func status(of state: BitbucketPipelineState, steps: [BitbucketPipelineStep], current: Execution.Status)
        -> Execution.Status
    {
        switch state {
        case .pending:
            return .pending
        case .completed(let result):
            switch result {
            case .successful: return .success
            case .failed: return .failed
            case .stopped: return .stopped
            default: return .error
            }
        case .inProgress, .unknown:
            guard
                let running = steps.first(where: { $0.state == .inProgress })
                    ?? steps.last(where: { $0.startedOn != nil })
            else { return current == .triggering ? .pending : current }
            let name = (running.name ?? "").lowercased()
            if name.contains("deploy") { return .deploying }
            if name.contains("test") { return .testing }
            return .building
        }
    }
}

extension ExecutionStep {
    init(_ step: BitbucketPipelineStep) {
        uuid = step.uuid
        name = step.name ?? "step"
        status = step.state.description
        startedAt = step.startedOn.flatMap(RFC3339.parse)
        durationS = step.durationInSeconds.map(Double.init)
    }
}

extension BitbucketPipelineStep {
    /// The step has ended (its log will not grow any more).
    var isFinished: Bool {
        if case .completed = state { return true }
        return false
    }
}
