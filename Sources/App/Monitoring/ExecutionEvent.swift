import Foundation
import PipewrightCore
import Vapor

/// An event about one execution (SPEC §10), in publication order.
enum ExecutionEvent: Sendable, Equatable {
    /// `pipeline_status`: only on change; `seq` = highest stored log line seq at that moment.
    case status(executionID: Int, pipelineID: Int, status: String, previous: String?, changedSteps: [ExecutionStep], seq: Int)
    /// `pipeline_logs`: new complete lines of one step.
    case logs(executionID: Int, step: ExecutionStep, lines: [String], firstSeq: Int)
    /// `log_error`: the monitor could not read something (Bitbucket failure, …).
    case logError(executionID: Int, code: String, message: String)
    /// `log_timeout`: `PIPEWRIGHT_MONITOR_TIMEOUT` passed before the execution ended.
    case logTimeout(executionID: Int, afterSeconds: Double)
}

extension Application {
    private struct ExecutionEventBusKey: StorageKey {
        typealias Value = ExecutionEventBus
    }

    /// The process's execution event bus (created by `configure`).
    var executionEvents: ExecutionEventBus {
        get {
            guard let bus = storage[ExecutionEventBusKey.self] else {
                fatalError("configure(_:) must run before the event bus is used")
            }
            return bus
        }
        set { storage[ExecutionEventBusKey.self] = newValue }
    }
}

/// In-process fan-out of execution events: one monitor publishes, any number of subscribers receive.
///
/// Each subscriber gets a bounded buffer (`bufferLimit` events, oldest dropped first); the realtime
/// transports (SPEC §10) build their snapshot + live ordering on top of this.
actor ExecutionEventBus {
    private var subscribers: [Int: [UUID: AsyncStream<ExecutionEvent>.Continuation]] = [:]
    let bufferLimit: Int

    init(bufferLimit: Int = 10_000) { self.bufferLimit = bufferLimit }

    /// Delivers `event` to every subscriber of `executionID`.
    func publish(_ event: ExecutionEvent, executionID: Int) {
        for continuation in subscribers[executionID, default: [:]].values { continuation.yield(event) }
    }

    /// A stream of the execution's future events; ends when the returned stream is dropped or cancelled.
    func subscribe(executionID: Int) -> AsyncStream<ExecutionEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<ExecutionEvent>.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit))
        subscribers[executionID, default: [:]][id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.remove(executionID: executionID, id: id) }
        }
        return stream
    }

    /// Number of subscribers of `executionID` (metrics, tests).
    func subscriberCount(executionID: Int) -> Int { subscribers[executionID]?.count ?? 0 }

    private func remove(executionID: Int, id: UUID) {
        subscribers[executionID]?[id] = nil
        if subscribers[executionID]?.isEmpty == true { subscribers[executionID] = nil }
    }
}
