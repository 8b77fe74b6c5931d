import Fluent
import Foundation
import LogStore
import PipewrightCore
import Realtime
import Vapor

/// Reads a subscriber's snapshot from the log store and the database (the `ExecutionFeed`'s past).
struct StoreSnapshotSource: ExecutionSnapshotSource {
    let db: any Database
    let logStore: LogStore

    func logEvents(executionID: Int, afterSeq: Int, limit: Int) async throws -> [RealtimeEvent] {
        guard logStore.hasLog(execution: executionID) else { return [] }
        let store = logStore
        let page = try await runBlocking {
            try store.lines(
                execution: executionID,
                query: LogQuery(pagination: .after(seq: afterSeq, perPage: min(max(limit, 1), 100))))
        }
        guard !page.items.isEmpty, let execution = try await ExecutionHead.find(executionID, on: db) else { return [] }
        let steps = execution.steps
        var events: [RealtimeEvent] = []
        // Consecutive lines of the same step form one `pipeline_logs` event.
        var run: [LogLine] = []
        func flush() {
            guard let first = run.first else { return }
            let step = StepRef.named(first.step, in: steps)
            events += RealtimeEvent.pipelineLogs(
                executionID: executionID, pipelineID: execution.pipelineID, step: step,
                lines: run.map(LogLinePayload.init))
            run = []
        }
        for line in page.items {
            if let current = run.first, current.step != line.step { flush() }
            run.append(line)
        }
        flush()
        return events
    }

    func statusEvent(executionID: Int) async throws -> RealtimeEvent {
        guard let execution = try await ExecutionHead.find(executionID, on: db) else {
            throw RealtimeError.notFound("Execution")
        }
        let seq =
            logStore.hasLog(execution: executionID) ? ((try? logStore.highestSeq(execution: executionID)) ?? 0) : 0
        return .pipelineStatus(
            PipelineStatusPayload(
                executionID: executionID, pipelineID: execution.pipelineID, status: execution.status.rawValue,
                previousStatus: nil, steps: execution.steps.map(StepPayload.init), seq: seq))
    }
}
