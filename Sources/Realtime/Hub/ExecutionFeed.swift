import Synchronization

/// Where a feed reads what happened before it subscribed: the log store and the execution's state.
///
/// Implemented by the app (log store + database); the feed never sees the storage.
public protocol ExecutionSnapshotSource: Sendable {
    /// `pipeline_logs` events with the lines of `executionID` whose seq is greater than `afterSeq`, in seq
    /// order, covering at most `limit` lines (empty when there are none).
    func logEvents(executionID: Int, afterSeq: Int, limit: Int) async throws -> [RealtimeEvent]
    /// The execution's current status as a `pipeline_status` event (`previous_status` null, all steps,
    /// `seq` = highest stored line seq).
    func statusEvent(executionID: Int) async throws -> RealtimeEvent
}

/// Snapshot followed by live events for one subscription, with no gap and no duplicate (docs/realtime.md
/// "One stream per execution").
///
/// Order: register with the hub first, read the current status, replay stored lines after `afterSeq`
/// up to the status's seq page by page, emit the status, then live events. A live logs event whose lines were already replayed is
/// trimmed or skipped by `seq`; one that starts beyond the delivered position (lines stored but not
/// seen live) is preceded by a read from the store. This holds because the monitor stores lines
/// before it publishes them. A subscriber that overflows its hub buffer receives `log_error`
/// (`slow_consumer`, with `after_seq` = the last seq it received) and the feed ends.
public struct ExecutionFeed: Sendable {
    public let hub: ExecutionEventHub
    public let source: any ExecutionSnapshotSource
    /// Lines per snapshot read.
    public let pageLines: Int
    /// Largest event payload sent (the transport's limit minus ``RealtimeEvent/maximumFramingBytes``); bigger
    /// logs events are cut by ``RealtimeEvent/framed(maximumPayloadBytes:)`` as they are emitted.
    public let maximumPayloadBytes: Int

    public init(
        hub: ExecutionEventHub, source: any ExecutionSnapshotSource, pageLines: Int = 1_000,
        maximumPayloadBytes: Int = RealtimeEvent.defaultMaximumPayloadBytes
    ) {
        self.hub = hub
        self.source = source
        self.pageLines = pageLines
        self.maximumPayloadBytes = maximumPayloadBytes
    }

    /// Runs the feed until `emit` throws, the task is cancelled, or the subscriber overflows.
    ///
    /// With a `writer`, whenever the feed is caught up (nothing queued for it) it hands its live events to
    /// the hub, which writes them through `writer` during its fan-out (one shared frame per event, no awaited
    /// hop per frame; docs/realtime.md "Fan-out"). The hub gives an event back — and this task emits it
    /// through `emit` as without a writer — when the writer is not writable or the event starts beyond what
    /// was delivered; the order of frames on the connection is the order of events either way.
    ///
    /// - Parameters:
    ///   - topic: the execution, or a pipeline (then the snapshot is of `snapshotExecutionID`, its latest
    ///     execution, and live events of later executions follow too).
    ///   - snapshotExecutionID: the execution to replay (`nil`: live events only).
    ///   - afterSeq: the last seq the client already has for `snapshotExecutionID` (0 for everything).
    ///   - writer: the connection, when it takes frames without being awaited (WebSocket transports); `nil`
    ///     (SSE, tests) keeps every event on this task.
    ///   - ready: called once registration is done, before the snapshot (e.g. to send an ack).
    ///   - emit: delivers one event; throwing ends the feed (connection gone).
    /// - Throws: what `emit`, `ready` or the snapshot source throws.
    public func run(
        topic: RealtimeTopic, snapshotExecutionID: Int?, afterSeq: Int,
        writer: (any RealtimeFrameWriter)? = nil,
        ready: @Sendable () async throws -> Void = {},
        emit deliver: @escaping @Sendable (RealtimeEvent) async throws -> Void
    ) async throws {
        // Every event leaves in frames within the limit; the bookkeeping below uses the uncut events.
        let limit = maximumPayloadBytes
        let emit: @Sendable (RealtimeEvent) async throws -> Void = { event in
            for frame in event.framed(maximumPayloadBytes: limit) { try await deliver(frame) }
        }
        let subscription = await hub.subscribe(topic)
        var delivered: [Int: Int] = [:]
        var lastStatus: [Int: String] = [:]
        try await ready()
        if let executionID = snapshotExecutionID {
            delivered[executionID] = max(0, afterSeq)
            // The status is read first: its seq bounds the replay, so a fast writer cannot keep the
            // snapshot going forever; lines stored after it arrive live (registration came first).
            let status = try await source.statusEvent(executionID: executionID)
            try await replay(executionID: executionID, upTo: status.seq, delivered: &delivered, emit: emit)
            lastStatus[executionID] = status.status
            try await emit(status)
        }
        var iterator = subscription.makeAsyncIterator()
        var lookahead: ExecutionEventHub.Delivery?
        let cursor = writer.map { FeedCursor(writer: $0, maximumPayloadBytes: limit) }
        while true {
            let delivery: ExecutionEventHub.Delivery
            if let held = lookahead {
                delivery = held
                lookahead = nil
            } else {
                var attached = false
                if let cursor, !iterator.hasPending {
                    cursor.load(delivered: delivered, lastStatus: lastStatus)
                    attached = hub.attach(cursor, to: subscription)
                }
                let next = await iterator.next()
                if attached {
                    // The hub wrote through the cursor until it gave this delivery back (or the stream ended).
                    (delivered, lastStatus) = cursor?.positions ?? (delivered, lastStatus)
                }
                guard let next else { break }
                delivery = next
            }
            try Task.checkCancellation()
            switch delivery {
            case .overflow:
                let position = snapshotExecutionID.flatMap { delivered[$0] } ?? 0
                try await emit(
                    .logError(
                        LogErrorPayload(
                            executionID: snapshotExecutionID, code: "slow_consumer",
                            message:
                                "Events arrived faster than this connection read them; resubscribe with after_seq.",
                            afterSeq: position),
                        pipelineID: nil, seq: position))
                return
            case .event(let event):
                let executionID = event.executionID
                switch event.name {
                case .pipelineLogs:
                    let have = delivered[executionID] ?? 0
                    if let first = event.firstSeq, first > have + 1 {
                        try await replay(executionID: executionID, upTo: first - 1, delivered: &delivered, emit: emit)
                    }
                    guard let fresh = event.trimmed(after: delivered[executionID] ?? 0) else { continue }
                    // A consumer that fell behind gets the logs events already queued for the same step
                    // in one event (one frame) instead of one frame each.
                    var batch = [fresh]
                    var lineCount = fresh.logs?.lines.count ?? 0
                    var byteCount = fresh.payloadJSON.utf8.count
                    while iterator.hasPending, lineCount < 1_000, byteCount < 256 * 1024 {
                        guard let next = await iterator.next() else { break }
                        if case .event(let more) = next, more.name == .pipelineLogs, more.executionID == executionID,
                            more.logs?.step == fresh.logs?.step, let firstSeq = more.firstSeq,
                            let previous = batch.last,
                            firstSeq == previous.seq + 1
                        {
                            batch.append(more)
                            lineCount += more.logs?.lines.count ?? 0
                            byteCount += more.payloadJSON.utf8.count
                        } else {
                            lookahead = next
                            break
                        }
                    }
                    for merged in RealtimeEvent.mergedLogs(batch) {
                        try await emit(merged)
                        delivered[executionID] = merged.seq
                    }
                case .pipelineStatus:
                    if let status = event.status, lastStatus[executionID] == status { continue }
                    lastStatus[executionID] = event.status
                    try await emit(event)
                case .logError, .logTimeout:
                    try await emit(event)
                }
            }
        }
    }

    /// Emits stored lines after the delivered position (up to `upTo` when given).
    private func replay(
        executionID: Int, upTo limitSeq: Int?, delivered: inout [Int: Int],
        emit: @Sendable (RealtimeEvent) async throws -> Void
    ) async throws {
        while true {
            try Task.checkCancellation()
            let have = delivered[executionID] ?? 0
            if let limitSeq, have >= limitSeq { return }
            let events = try await source.logEvents(executionID: executionID, afterSeq: have, limit: pageLines)
            guard !events.isEmpty else { return }
            for event in events {
                guard let fresh = event.trimmed(after: delivered[executionID] ?? 0, upTo: limitSeq ?? .max) else {
                    if let limitSeq, let first = event.firstSeq, first > limitSeq { return }
                    continue
                }
                try await emit(fresh)
                delivered[executionID] = fresh.seq
            }
        }
    }
}

/// A live, caught-up subscription's position, through which the hub writes its events directly
/// (``ExecutionEventHub`` "Fan-out"): the same rules as the feed's own loop — logs trimmed to what was not
/// delivered yet, a status already delivered skipped — applied synchronously during the fan-out.
///
/// Only one side uses it at a time: the hub while the subscription is attached, the feed's task otherwise
/// (it loads the positions before attaching and reads them back after the hub gave an event back).
final class FeedCursor: Sendable {
    let writer: any RealtimeFrameWriter
    let maximumPayloadBytes: Int
    private struct Positions {
        var delivered: [Int: Int] = [:]
        var lastStatus: [Int: String] = [:]
    }
    private let state = Mutex(Positions())

    init(writer: any RealtimeFrameWriter, maximumPayloadBytes: Int) {
        self.writer = writer
        self.maximumPayloadBytes = maximumPayloadBytes
    }

    func load(delivered: [Int: Int], lastStatus: [Int: String]) {
        state.withLock { $0 = Positions(delivered: delivered, lastStatus: lastStatus) }
    }

    var positions: ([Int: Int], [Int: String]) { state.withLock { ($0.delivered, $0.lastStatus) } }

    /// Writes (or skips) `event`; returns `false`, changing nothing, when the feed's task must handle it:
    /// the writer is not writable (back-pressure) or the event starts beyond the delivered position (a gap
    /// to fill from the store).
    func take(_ event: RealtimeEvent) -> Bool {
        guard writer.isWritable else { return false }
        let writer = self.writer
        let limit = maximumPayloadBytes
        return state.withLock { positions in
            let executionID = event.executionID
            switch event.name {
            case .pipelineLogs:
                let have = positions.delivered[executionID] ?? 0
                if let first = event.firstSeq, first > have + 1 { return false }
                guard let fresh = event.trimmed(after: have) else { return true }
                for frame in fresh.framed(maximumPayloadBytes: limit) { writer.write(frame) }
                positions.delivered[executionID] = fresh.seq
            case .pipelineStatus:
                if let status = event.status, positions.lastStatus[executionID] == status { return true }
                positions.lastStatus[executionID] = event.status
                writer.write(event)
            case .logError, .logTimeout:
                writer.write(event)
            }
            return true
        }
    }
}
