import Foundation
import LogStore
import Realtime
import Vapor

extension Application {
    private struct ExecutionEventHubKey: StorageKey {
        typealias Value = ExecutionEventHub
    }

    /// The process's execution event hub (created by `configure`): monitors publish, realtime
    /// connections subscribe (SPEC §10).
    var executionEvents: ExecutionEventHub {
        get {
            guard let hub = storage[ExecutionEventHubKey.self] else {
                fatalError("configure(_:) must run before the event hub is used")
            }
            return hub
        }
        set { storage[ExecutionEventHubKey.self] = newValue }
    }
}

extension LogLinePayload {
    /// The SPEC §9 line shape of a stored line.
    init(_ line: LogLine) {
        self.init(
            seq: line.seq, step: line.step, ts: line.timestamp, level: line.level?.rawValue,
            text: String(decoding: line.bytes, as: UTF8.self))
    }
}

extension StepRef {
    init(_ step: ExecutionStep) {
        self.init(uuid: step.uuid, name: step.name, status: step.status)
    }
}

extension StepPayload {
    init(_ step: ExecutionStep) {
        self.init(uuid: step.uuid, name: step.name, status: step.status, startedAt: step.startedAt, durationS: step.durationS)
    }
}
