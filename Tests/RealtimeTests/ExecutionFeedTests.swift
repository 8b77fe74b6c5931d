import Synchronization
import Testing

@testable import Realtime

/// A store + monitor stand-in: lines are stored before they are published, as the real monitor does.
actor FakeStore: ExecutionSnapshotSource {
    private(set) var lines: [LogLinePayload] = []
    var status = "BUILDING"
    /// Delay per snapshot read (widens the window in which live events race the snapshot).
    var readDelay: Duration = .zero
    let executionID: Int
    let step = StepRef(uuid: "{s1}", name: "Build", status: "IN_PROGRESS")

    init(executionID: Int) { self.executionID = executionID }

    func setReadDelay(_ delay: Duration) { readDelay = delay }

    /// Stores `count` lines and returns the events the monitor would publish.
    func store(_ count: Int) -> [RealtimeEvent] {
        let first = (lines.last?.seq ?? 0) + 1
        let new = (first..<(first + count)).map {
            LogLinePayload(seq: $0, step: "Build", ts: nil, level: nil, text: "line \($0)")
        }
        lines += new
        return RealtimeEvent.pipelineLogs(
            executionID: executionID, pipelineID: 1, step: step, lines: new, maximumLines: 7)
    }

    func logEvents(executionID: Int, afterSeq: Int, limit: Int) async throws -> [RealtimeEvent] {
        if readDelay > .zero { try await Task.sleep(for: readDelay) }
        let page = Array(lines.filter { $0.seq > afterSeq }.prefix(limit))
        return RealtimeEvent.pipelineLogs(
            executionID: executionID, pipelineID: 1, step: step, lines: page, maximumLines: 5)
    }

    func statusEvent(executionID: Int) async throws -> RealtimeEvent {
        .pipelineStatus(
            PipelineStatusPayload(
                executionID: executionID, pipelineID: 1, status: status, previousStatus: nil, steps: [],
                seq: lines.last?.seq ?? 0))
    }
}

/// Collects what a feed emits.
final class Received: Sendable {
    private let events = Mutex<[RealtimeEvent]>([])
    func append(_ event: RealtimeEvent) { events.withLock { $0.append(event) } }
    var all: [RealtimeEvent] { events.withLock { $0 } }
    var seqs: [Int] { all.flatMap { $0.logs?.lines.map(\.seq) ?? [] } }
}

@Suite struct ExecutionFeedTests {
    func waitUntil(_ condition: @Sendable () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { Issue.record("timed out"); return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test(arguments: [0, 1, 13, 40])
    func snapshotThenLive_noGapNoDuplicate_whileLinesArriveDuringTheSnapshot(afterSeq: Int) async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        for event in await store.store(40) { await hub.publish(event) }
        await store.setReadDelay(.milliseconds(20))
        let received = Received()
        let feed = ExecutionFeed(hub: hub, source: store, pageLines: 9)
        let task = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: 5, afterSeq: afterSeq) { received.append($0) }
        }
        // The monitor keeps storing and publishing while the snapshot is being read.
        for _ in 0..<30 {
            for event in await store.store(3) { await hub.publish(event) }
            try await Task.sleep(for: .milliseconds(3))
        }
        try await waitUntil { received.seqs.last == 130 }
        task.cancel()
        #expect(received.seqs == Array((afterSeq + 1)...130))
        // The status comes after the replayed lines and carries the highest seq at that moment.
        let statusIndex = try #require(received.all.firstIndex { $0.name == .pipelineStatus })
        let status = received.all[statusIndex]
        let linesBefore = received.all[..<statusIndex].flatMap { $0.logs?.lines.map(\.seq) ?? [] }
        #expect(linesBefore.last ?? afterSeq <= status.seq)
    }

    @Test func statusAlreadyInTheSnapshotIsNotRepeated_butLaterChangesArrive() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let received = Received()
        let feed = ExecutionFeed(hub: hub, source: store)
        let task = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: 5, afterSeq: 0) { received.append($0) }
        }
        try await waitUntil { received.all.count == 1 }
        await hub.publish(
            .pipelineStatus(
                PipelineStatusPayload(
                    executionID: 5, pipelineID: 1, status: "BUILDING", previousStatus: "PENDING", steps: [], seq: 0)))
        await hub.publish(
            .pipelineStatus(
                PipelineStatusPayload(
                    executionID: 5, pipelineID: 1, status: "SUCCESS", previousStatus: "BUILDING", steps: [], seq: 0)))
        try await waitUntil { received.all.count == 2 }
        task.cancel()
        #expect(received.all.map(\.status) == ["BUILDING", "SUCCESS"])
    }

    @Test func otherExecutionsEventsAreNotDelivered() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let other = FakeStore(executionID: 6)
        let received = Received()
        let feed = ExecutionFeed(hub: hub, source: store)
        let task = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: nil, afterSeq: 0) { received.append($0) }
        }
        try await waitUntil { await hub.subscriberCount(.execution(5)) == 1 }
        for event in await other.store(10) { await hub.publish(event) }
        for event in await store.store(2) { await hub.publish(event) }
        try await waitUntil { received.seqs == [1, 2] }
        task.cancel()
        #expect(received.all.allSatisfy { $0.executionID == 5 })
    }

    @Test func gapInLiveEventsIsFilledFromTheStore() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let received = Received()
        let feed = ExecutionFeed(hub: hub, source: store)
        let task = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: 5, afterSeq: 0) { received.append($0) }
        }
        try await waitUntil { received.all.count == 1 }
        _ = await store.store(10)  // stored but never published (e.g. another writer)
        for event in await store.store(5) { await hub.publish(event) }
        try await waitUntil { received.seqs.last == 15 }
        task.cancel()
        #expect(received.seqs == Array(1...15))
    }

    @Test func slowConsumerIsCutOffWithAResumablePosition_andMemoryStaysBounded() async throws {
        let hub = ExecutionEventHub(bufferLimitEvents: 20, bufferLimitBytes: 1 << 20)
        let store = FakeStore(executionID: 5)
        let received = Received()
        let gate = Mutex(false)
        let feed = ExecutionFeed(hub: hub, source: store)
        let task = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: 5, afterSeq: 0) { event in
                received.append(event)
                // The consumer stalls after the snapshot until released.
                while event.name == .pipelineStatus && !gate.withLock({ $0 }) {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
        }
        try await waitUntil { received.all.count == 1 }
        for _ in 0..<40 { for event in await store.store(7) { await hub.publish(event) } }
        #expect(await hub.subscriberCount(.execution(5)) == 0)  // cut off, nothing retained
        gate.withLock { $0 = true }
        try await task.value
        let last = try #require(received.all.last)
        #expect(last.name == .logError)
        #expect(last.payloadJSON.contains("\"code\":\"slow_consumer\""))
        let resumeAfter = try #require(JSONValue.parse(last.payloadJSON[...])?["after_seq"]?.intValue)
        #expect(resumeAfter == (received.seqs.last ?? 0))
        // Resuming from that position yields the rest exactly.
        let resumed = Received()
        let again = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: 5, afterSeq: resumeAfter) {
                resumed.append($0)
            }
        }
        try await waitUntil { resumed.seqs.last == 280 }
        again.cancel()
        #expect(received.seqs + resumed.seqs == Array(1...280))
    }

    @Test func laggingConsumer_getsQueuedLogsEventsMergedIntoFewerFrames_withEveryLineOnce() async throws {
        let hub = ExecutionEventHub()
        let store = FakeStore(executionID: 5)
        let received = Received()
        let gate = Mutex(false)
        let feed = ExecutionFeed(hub: hub, source: store)
        let task = Task {
            try await feed.run(topic: .execution(5), snapshotExecutionID: 5, afterSeq: 0) { event in
                received.append(event)
                while event.name == .pipelineStatus && !gate.withLock({ $0 }) {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
        }
        try await waitUntil { received.all.count == 1 }
        for _ in 0..<20 { for event in await store.store(7) { await hub.publish(event) } }  // 20 events queued
        gate.withLock { $0 = true }
        try await waitUntil { received.seqs.last == 140 }
        task.cancel()
        #expect(received.seqs == Array(1...140))
        let frames = received.all.filter { $0.name == .pipelineLogs }
        #expect(frames.count < 20, "\(frames.count) frames for 20 queued events")
        // Merged payloads are valid JSON carrying exactly their lines.
        for frame in frames {
            let json = try #require(JSONValue.parse(frame.payloadJSON[...]))
            guard case .array(let lines)? = json["lines"] else { Issue.record("no lines"); continue }
            #expect(lines.compactMap { $0["seq"]?.intValue } == frame.logs?.lines.map(\.seq))
        }
    }

    @Test func pipelineTopicFollowsLaterExecutions() async throws {
        let hub = ExecutionEventHub()
        let first = FakeStore(executionID: 5)
        let second = FakeStore(executionID: 6)
        let received = Received()
        let feed = ExecutionFeed(hub: hub, source: first)
        let task = Task {
            try await feed.run(topic: .pipeline(1), snapshotExecutionID: 5, afterSeq: 0) { received.append($0) }
        }
        try await waitUntil { received.all.count == 1 }
        for event in await second.store(3) { await hub.publish(event) }
        try await waitUntil { received.seqs == [1, 2, 3] }
        task.cancel()
        #expect(received.all.last?.executionID == 6)
    }
}
