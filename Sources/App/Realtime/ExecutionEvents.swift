import Fluent
import Foundation
import LogStore
import Realtime
import Vapor

extension Application {
    private struct ExecutionEventHubKey: StorageKey {
        typealias Value = ExecutionEventHub
    }

    /// The process's execution event hub (created by `configure`): monitors publish, realtime
    /// connections subscribe (docs/realtime.md "One stream per execution").
    var executionEvents: ExecutionEventHub {
        get { configured(ExecutionEventHubKey.self) }
        set { storage[ExecutionEventHubKey.self] = newValue }
    }
}

extension Application {
    /// A snapshot + live feed over this app's hub, log store and database (every realtime transport).
    var executionFeed: ExecutionFeed {
        ExecutionFeed(
            hub: executionEvents, source: StoreSnapshotSource(db: db, logStore: services.logStore),
            maximumPayloadBytes: services.configuration.realtime.maxPayload - RealtimeEvent.maximumFramingBytes)
    }

    /// Starts the (single) monitor of an execution still running on Bitbucket, e.g. when the first viewer
    /// arrives after a restart.
    func monitorIfRunning(_ execution: Execution) async {
        guard !execution.status.isTerminal, execution.bitbucketUUID != nil, let id = execution.id else { return }
        await executionSupervisor.ensureMonitor(executionID: id)
    }

    /// ``monitorIfRunning(_:)-(Execution)`` for the columns the realtime path reads.
    func monitorIfRunning(_ execution: ExecutionHead) async {
        guard !execution.status.isTerminal, execution.bitbucketUUID != nil else { return }
        await executionSupervisor.ensureMonitor(executionID: execution.id)
    }
}

extension LogLinePayload {
    /// A stored line in the line shape of docs/API.md "Logs" (`text` as ``LogLine/safeText``, `continues`
    /// on a piece of a split long line).
    init(_ line: LogLine) {
        self.init(
            seq: line.seq, step: line.step, ts: line.timestamp, level: line.level?.rawValue, text: line.safeText,
            continues: line.continuesOnNextLine ? true : nil)
    }
}

extension StepRef {
    init(_ step: ExecutionStep) {
        self.init(uuid: step.uuid, name: step.name, status: step.status)
    }

    /// The step named `name` as last seen on Bitbucket, or — for lines of a step Bitbucket never
    /// reported (ingested logs) — `{"uuid": "", "name", "status": "UNKNOWN"}`. Live and replayed events use this alike.
    static func named(_ name: String, in steps: [ExecutionStep]) -> StepRef {
        steps.first { $0.name == name }.map(StepRef.init) ?? StepRef(uuid: "", name: name, status: "UNKNOWN")
    }
}

extension StepPayload {
    init(_ step: ExecutionStep) {
        self.init(
            uuid: step.uuid, name: step.name, status: step.status, startedAt: step.startedAt, durationS: step.durationS)
    }
}
