import Synchronization
import Testing

@testable import Realtime

/// Stands for an event loop: writers with the same one share a barrier.
final class FakeEventLoop: Sendable {}

/// A connection the hub can write to directly: records every frame in order and how it arrived (written by
/// the hub's fan-out, or sent by the feed's own task), with writability and the barrier under test control.
final class RecordingWriter: RealtimeFrameWriter {
    struct Frame {
        let event: RealtimeEvent
        let direct: Bool
    }
    private let frames = Mutex<[Frame]>([])
    private let writable = Mutex(true)
    /// While closed, `barrier()` waits (the event loop is "still writing" the last fan-out).
    private let barrierOpen = Mutex(true)
    /// While closed, the feed's awaited `send` waits (a client that does not read).
    private let sendOpen = Mutex(true)
    let loop: FakeEventLoop

    init(loop: FakeEventLoop) { self.loop = loop }

    var isWritable: Bool { writable.withLock { $0 } }
    func setWritable(_ value: Bool) { writable.withLock { $0 = value } }
    func setBarrierOpen(_ value: Bool) { barrierOpen.withLock { $0 = value } }
    func setSendOpen(_ value: Bool) { sendOpen.withLock { $0 = value } }

    func write(_ event: RealtimeEvent) {
        frames.withLock { $0.append(Frame(event: event, direct: true)) }
    }

    func send(_ event: RealtimeEvent) async throws {
        while !sendOpen.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
        frames.withLock { $0.append(Frame(event: event, direct: false)) }
    }

    var barrierKey: ObjectIdentifier { ObjectIdentifier(loop) }

    func barrier() async {
        while !barrierOpen.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(2)) }
    }

    var all: [Frame] { frames.withLock { $0 } }
    var logs: [Frame] { all.filter { $0.event.name == .pipelineLogs } }
    var seqs: [Int] { logs.flatMap { $0.event.logs?.lines.map(\.seq) ?? [] } }
}

/// The hub's fan-out to live viewers (docs/realtime.md "Fan-out"): written by the hub itself, one shared
/// encoding per event, coalesced once per flush window, and back to the feed's own bounded path when a
/// connection is not writable.
@Suite struct FanOutTests {
    func waitUntil(_ condition: @Sendable () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Starts a feed on `writer` and waits until it is live (snapshot status delivered).
    func start(_ feed: ExecutionFeed, writer: RecordingWriter, afterSeq: Int = 0) async throws -> Task<Void, any Error>
    {
        let task = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: 5, afterSeq: afterSeq, writer: writer) {
                try await writer.send($0)
            }
        }
        try await waitUntil { writer.all.contains { $0.event.name == .pipelineStatus } }
        try await Task.sleep(for: .milliseconds(10))  // lets the feed hand its live events to the hub
        return task
    }

    @Test func liveViewers_areWrittenByTheHub_inOrder_sharingOneEncodingPerEvent() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        for event in await store.store(12) { await hub.publish(event) }
        let feed = ExecutionFeed(hub: hub, source: store)
        let loop = FakeEventLoop()
        let viewers = (0..<3).map { _ in RecordingWriter(loop: loop) }
        var tasks: [Task<Void, any Error>] = []
        for viewer in viewers { tasks.append(try await start(feed, writer: viewer)) }
        for _ in 0..<30 {
            for event in await store.store(4) { await hub.publish(event) }
            try await Task.sleep(for: .milliseconds(1))
        }
        for viewer in viewers { try await waitUntil { viewer.seqs.last == 132 } }
        for task in tasks { task.cancel() }
        for viewer in viewers {
            #expect(viewer.seqs == Array(1...132))
            // The snapshot came through the feed's own path; live events through the hub's fan-out (one may
            // still reach the feed's task if it is published just before the feed hands over).
            let live = viewer.logs.filter { ($0.event.firstSeq ?? 0) > 12 }
            #expect(live.filter(\.direct).count >= live.count - 1 && live.count >= 2)
        }
        // Every viewer got the same event objects: their encodings are made once and shared.
        let first = viewers[0].logs.filter(\.direct).map { ObjectIdentifier($0.event.encodings) }
        for viewer in viewers.dropFirst() {
            let other = viewer.logs.filter(\.direct).map { ObjectIdentifier($0.event.encodings) }
            #expect(Set(first).intersection(other).count >= min(first.count, other.count) - 1)
        }
    }

    @Test func eventsPublishedWhileAFanOutIsWritten_goOutMergedInOneFrame() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let feed = ExecutionFeed(hub: hub, source: store)
        let viewer = RecordingWriter(loop: FakeEventLoop())
        let task = try await start(feed, writer: viewer)
        viewer.setBarrierOpen(false)
        for event in await store.store(3) { await hub.publish(event) }  // written at once
        try await waitUntil { viewer.seqs == [1, 2, 3] }
        for _ in 0..<20 { for event in await store.store(5) { await hub.publish(event) } }  // 20 events queue
        try await Task.sleep(for: .milliseconds(20))
        #expect(viewer.seqs == [1, 2, 3], "nothing more while the loop is still writing")
        viewer.setBarrierOpen(true)
        try await waitUntil { viewer.seqs.last == 103 }
        task.cancel()
        #expect(viewer.seqs == Array(1...103))
        #expect(viewer.logs.count == 2, "the 20 queued events leave as one frame: \(viewer.logs.count) frames")
        let merged = try #require(viewer.logs.last?.event)
        let json = try #require(JSONValue.parse(merged.payloadJSON[...]))
        guard case .array(let lines)? = json["lines"] else {
            Issue.record("no lines")
            return
        }
        #expect(lines.compactMap { $0["seq"]?.intValue } == Array(4...103))
    }

    @Test func manyViewers_areWrittenAtMostOncePerFrameBudgetWindow_nothingLostOrReordered() async throws {
        // 10 viewers and a budget of 200 frames/s: fan-outs at most every 50 ms.
        let hub = ExecutionEventHub(fanOutFramesPerSecond: 200)
        let store = FakeStore(executionID: 5)
        let feed = ExecutionFeed(hub: hub, source: store)
        let loop = FakeEventLoop()
        let viewers = (0..<10).map { _ in RecordingWriter(loop: loop) }
        #expect(await hub.minimumFlushWindow(.execution(5)) == .zero, "no subscribers, no pacing")
        var tasks: [Task<Void, any Error>] = []
        for viewer in viewers { tasks.append(try await start(feed, writer: viewer)) }
        #expect(await hub.minimumFlushWindow(.execution(5)) == .milliseconds(50))
        // 60 events of 2 lines over about 300 ms: unpaced, about 60 frames per viewer.
        let start = ContinuousClock.now
        for _ in 0..<60 {
            for event in await store.store(2) { await hub.publish(event) }
            try await Task.sleep(for: .milliseconds(5))
        }
        for viewer in viewers { try await waitUntil { viewer.seqs.last == 120 } }
        let elapsed = ContinuousClock.now - start
        for task in tasks { task.cancel() }
        let windows = Int((elapsed / .milliseconds(50)).rounded(.up))
        for viewer in viewers {
            #expect(viewer.seqs == Array(1...120))
            let live = viewer.logs.filter(\.direct)
            #expect(live.count <= windows + 1, "\(live.count) frames in \(elapsed), at most one per 50 ms window")
            #expect(live.count >= 3)
        }
    }

    @Test func fewViewers_areNotPaced() async throws {
        // 3 viewers at the default budget: a window of 60 µs, below 1 ms, so no pacing at all.
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let feed = ExecutionFeed(hub: hub, source: store)
        let loop = FakeEventLoop()
        let viewers = (0..<3).map { _ in RecordingWriter(loop: loop) }
        var tasks: [Task<Void, any Error>] = []
        for viewer in viewers { tasks.append(try await start(feed, writer: viewer)) }
        #expect(await hub.minimumFlushWindow(.execution(5)) == .zero)
        for event in await store.store(1) { await hub.publish(event) }
        // Delivered before `publish` returned: the hub wrote it in the same actor turn.
        for viewer in viewers { #expect(viewer.seqs == [1]) }
        for task in tasks { task.cancel() }
    }

    @Test func aViewerThatIsNotWritable_doesNotHoldOthersBack_andIsCutOffAsASlowConsumer() async throws {
        let hub = ExecutionEventHub(bufferLimitEvents: 10, bufferLimitBytes: 1 << 20)
        let store = FakeStore(executionID: 5)
        let feed = ExecutionFeed(hub: hub, source: store)
        let loop = FakeEventLoop()
        let stuck = RecordingWriter(loop: loop)
        let healthy = RecordingWriter(loop: loop)
        let stuckTask = try await start(feed, writer: stuck)
        let healthyTask = try await start(feed, writer: healthy)
        stuck.setWritable(false)
        stuck.setSendOpen(false)
        for _ in 0..<30 { for event in await store.store(7) { await hub.publish(event) } }
        try await waitUntil { healthy.seqs.last == 210 }
        #expect(healthy.seqs == Array(1...210))
        try await waitUntil { await hub.subscriberCount(.execution(5)) == 1 }  // the stuck one is gone
        stuck.setSendOpen(true)
        try await stuckTask.value
        let last = try #require(stuck.all.last?.event)
        #expect(last.name == .logError && last.payloadJSON.contains("\"code\":\"slow_consumer\""))
        let resumeAfter = try #require(JSONValue.parse(last.payloadJSON[...])?["after_seq"]?.intValue)
        #expect(resumeAfter == (stuck.seqs.last ?? 0))
        healthyTask.cancel()
        // Resuming after that position yields the rest exactly once.
        let again = RecordingWriter(loop: loop)
        let resumed = try await start(feed, writer: again, afterSeq: resumeAfter)
        try await waitUntil { again.seqs.last == 210 }
        resumed.cancel()
        #expect(stuck.seqs + again.seqs == Array(1...210))
    }

    @Test func aViewerNotWritableForAWhile_catchesUpOnItsOwnTask_everyLineOnceInOrder() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let feed = ExecutionFeed(hub: hub, source: store)
        let viewer = RecordingWriter(loop: FakeEventLoop())
        let task = try await start(feed, writer: viewer)
        for round in 0..<40 {
            viewer.setWritable(round % 10 >= 5)
            for event in await store.store(3) { await hub.publish(event) }
            try await Task.sleep(for: .milliseconds(1))
        }
        viewer.setWritable(true)
        for event in await store.store(3) { await hub.publish(event) }
        try await waitUntil { viewer.seqs.last == 123 }
        task.cancel()
        #expect(viewer.seqs == Array(1...123))
        #expect(viewer.logs.contains { !$0.direct } && viewer.logs.contains { $0.direct })
    }

    @Test func afterUnsubscribing_theHubWritesNothingMore() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let feed = ExecutionFeed(hub: hub, source: store)
        let viewer = RecordingWriter(loop: FakeEventLoop())
        let task = try await start(feed, writer: viewer)
        for event in await store.store(3) { await hub.publish(event) }
        try await waitUntil { viewer.seqs == [1, 2, 3] }
        task.cancel()
        _ = await task.result
        for event in await store.store(3) { await hub.publish(event) }
        #expect(viewer.seqs == [1, 2, 3])
    }

    @Test func coalesced_mergesContiguousLogsOfOneStep_keepsEverythingElseInPlace() throws {
        let step = StepRef(uuid: "{s}", name: "Build", status: "IN_PROGRESS")
        func logs(_ range: ClosedRange<Int>, step: StepRef = step) -> RealtimeEvent {
            RealtimeEvent.pipelineLogs(
                executionID: 5, pipelineID: 1, step: step,
                lines: range.map { LogLinePayload(seq: $0, step: step.name, ts: nil, level: nil, text: "l\($0)") })[0]
        }
        let status = RealtimeEvent.pipelineStatus(
            PipelineStatusPayload(
                executionID: 5, pipelineID: 1, status: "BUILDING", previousStatus: nil, steps: [], seq: 20))
        let other = StepRef(uuid: "{t}", name: "Test", status: "IN_PROGRESS")
        let events = [logs(1...10), logs(11...20), status, logs(21...30), logs(31...35, step: other), logs(40...41)]
        let result = RealtimeEvent.coalesced(events)
        #expect(result.map(\.name) == [.pipelineLogs, .pipelineStatus, .pipelineLogs, .pipelineLogs, .pipelineLogs])
        let seqs = result.flatMap { $0.logs?.lines.map(\.seq) ?? [] }
        #expect(seqs == [1...20, 21...30, 31...35, 40...41].flatMap { Array($0) })
        #expect(result[0].logs?.lines.count == 20)
        // A merged payload is valid JSON carrying exactly its lines.
        let json = try #require(JSONValue.parse(result[0].payloadJSON[...]))
        guard case .array(let lines)? = json["lines"] else {
            Issue.record("no lines")
            return
        }
        #expect(lines.compactMap { $0["seq"]?.intValue } == Array(1...20))
        #expect(lines.compactMap { $0["text"]?.stringValue } == (1...20).map { "l\($0)" })
        // The line cap holds.
        let capped = RealtimeEvent.coalesced((0..<10).map { logs(($0 * 10 + 1)...($0 * 10 + 10)) }, maximumLines: 30)
        #expect(capped.map { $0.logs?.lines.count ?? 0 } == [30, 30, 30, 10])
    }
}
