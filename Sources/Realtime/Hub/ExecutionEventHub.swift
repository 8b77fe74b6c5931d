import Foundation
import Synchronization

/// What a subscription is about: one execution, or every execution of a pipeline.
public enum RealtimeTopic: Sendable, Hashable {
    case execution(Int)
    case pipeline(Int)
}

/// In-process fan-out of execution events: one monitor publishes, any number of subscribers receive.
///
/// Every subscriber has a bounded buffer (`bufferLimitEvents` events and `bufferLimitBytes` payload
/// bytes not yet consumed). A subscriber that falls further behind is cut off: its stream yields
/// `.overflow` and ends, and the caller resumes from the store (`ExecutionFeed` turns this into a
/// `log_error` with code `slow_consumer` and the position to resume after). Memory per subscriber is
/// therefore bounded whatever the publication rate.
///
/// Fan-out (docs/realtime.md "Fan-out"): a subscriber whose feed is live and caught up and whose connection
/// takes frames without being awaited (``RealtimeFrameWriter``) is written to by the hub itself, one shared
/// frame per event for all such viewers. While the connections' event loops are still writing one fan-out
/// (the hub awaits each loop's ``RealtimeFrameWriter/barrier()``), newly published events of the topic
/// queue, and the next fan-out sends them merged (``RealtimeEvent/coalesced(_:maximumLines:maximumBytes:)``):
/// the flush window is as long as the previous fan-out took, so an execution's events are coalesced once,
/// not per viewer, and a busy server sends fewer, larger frames instead of falling behind.
///
/// The flush window is also at least `subscribers / fanOutFramesPerSecond` seconds (a frame budget per
/// topic): with 1,000 viewers and the default 50,000 frames/s, fan-outs of one execution start at most every
/// 20 ms, whatever the publication rate, so the frames written per second (each one a system call) stay
/// bounded and the added latency stays below one window. Below 1 ms (fewer than 50 viewers) there is no
/// pacing: an event goes out as soon as the previous fan-out has been written.
public actor ExecutionEventHub {
    /// What a subscription's stream yields.
    public enum Delivery: Sendable {
        case event(RealtimeEvent)
        /// The subscriber's buffer overflowed; no further events follow.
        case overflow
    }

    private var subscribers: [RealtimeTopic: [UUID: Subscriber]] = [:]
    /// Events published while the topic's previous fan-out is still being written (one flush window).
    private var pending: [RealtimeTopic: [RealtimeEvent]] = [:]
    /// Topics whose fan-out is in progress (their events queue in `pending`).
    private var flushing: Set<RealtimeTopic> = []
    /// When each topic's last fan-out started (the frame budget's clock).
    private var lastFanOut: [RealtimeTopic: ContinuousClock.Instant] = [:]
    public let bufferLimitEvents: Int
    public let bufferLimitBytes: Int
    /// Frames per second one topic's fan-outs may cost (subscribers × fan-outs per second).
    public let fanOutFramesPerSecond: Int

    /// - Parameters:
    ///   - bufferLimitEvents: events a subscriber may have pending before it is cut off.
    ///   - bufferLimitBytes: payload bytes a subscriber may have pending before it is cut off.
    ///   - fanOutFramesPerSecond: the frame budget per topic that sets the shortest flush window
    ///     (subscribers / budget seconds; no pacing below 1 ms).
    public init(bufferLimitEvents: Int = 4_096, bufferLimitBytes: Int = 8 << 20, fanOutFramesPerSecond: Int = 50_000) {
        self.bufferLimitEvents = bufferLimitEvents
        self.bufferLimitBytes = bufferLimitBytes
        self.fanOutFramesPerSecond = max(1, fanOutFramesPerSecond)
    }

    /// The shortest time between two fan-outs of `topic`: its subscribers over the frame budget, or zero
    /// below 1 ms.
    func minimumFlushWindow(_ topic: RealtimeTopic) -> Duration {
        let subscribers = subscribers[topic]?.count ?? 0
        let window = Duration.microseconds(Int64(subscribers) * 1_000_000 / Int64(fanOutFramesPerSecond))
        return window < .milliseconds(1) ? .zero : window
    }

    /// Delivers `event` to the subscribers of its execution and of its pipeline, in publication order.
    ///
    /// When no fan-out of the topic is in progress the event is delivered before this returns; otherwise
    /// it joins the next flush window.
    public func publish(_ event: RealtimeEvent) {
        enqueue(event, to: .execution(event.executionID))
        if let pipelineID = event.pipelineID { enqueue(event, to: .pipeline(pipelineID)) }
    }

    private func enqueue(_ event: RealtimeEvent, to topic: RealtimeTopic) {
        guard subscribers[topic] != nil else { return }
        if flushing.contains(topic) {
            pending[topic, default: []].append(event)
            return
        }
        let now = ContinuousClock.now
        let window = minimumFlushWindow(topic)
        if window > .zero, let last = lastFanOut[topic], now < last + window {
            // Within the frame budget's window: the event waits for the window's end, with what follows.
            pending[topic, default: []].append(event)
            flushing.insert(topic)
            Task { await self.drain(topic, after: []) }
            return
        }
        if window > .zero { lastFanOut[topic] = now }
        let barriers = deliver([event], to: topic)
        guard !barriers.isEmpty || window > .zero else { return }
        flushing.insert(topic)
        Task { await self.drain(topic, after: barriers) }
    }

    /// Waits for the event loops of the last fan-out and for the end of the topic's minimum flush window,
    /// then sends what queued meanwhile, merged; repeats until nothing queued during a fan-out.
    private func drain(_ topic: RealtimeTopic, after first: [any RealtimeFrameWriter]) async {
        var barriers = first
        while true {
            // Reentrancy points: publications meanwhile queue in `pending` (the flush window).
            for writer in barriers { await writer.barrier() }
            let window = minimumFlushWindow(topic)
            if window > .zero, let last = lastFanOut[topic], ContinuousClock.now < last + window {
                try? await Task.sleep(until: last + window, clock: .continuous)
            }
            guard let events = pending.removeValue(forKey: topic), !events.isEmpty else { break }
            if minimumFlushWindow(topic) > .zero { lastFanOut[topic] = ContinuousClock.now }
            barriers = deliver(RealtimeEvent.coalesced(events), to: topic)
        }
        flushing.remove(topic)
    }

    /// Offers `events` to every subscriber of `topic`; returns one writer per event loop written to directly.
    private func deliver(_ events: [RealtimeEvent], to topic: RealtimeTopic) -> [any RealtimeFrameWriter] {
        guard let group = subscribers[topic] else { return [] }
        var barriers: [ObjectIdentifier: any RealtimeFrameWriter] = [:]
        for (id, subscriber) in group {
            offering: for event in events {
                switch subscriber.offer(event) {
                case .queued:
                    continue
                case .written(let writer):
                    barriers[writer.barrierKey] = writer
                case .removed:
                    subscribers[topic]?[id] = nil
                    break offering
                }
            }
        }
        if subscribers[topic]?.isEmpty == true {
            subscribers[topic] = nil
            pending[topic] = nil
            lastFanOut[topic] = nil
        }
        return Array(barriers.values)
    }

    /// Registers a subscriber; events published after this call returns are delivered in order.
    ///
    /// The subscription ends when the returned sequence's consumer stops iterating (or is cancelled),
    /// or after `.overflow`.
    public func subscribe(_ topic: RealtimeTopic) -> Subscription {
        let id = UUID()
        let (stream, continuation) = AsyncStream<Delivery>.makeStream(bufferingPolicy: .unbounded)
        let subscriber = Subscriber(
            continuation: continuation, limitEvents: bufferLimitEvents, limitBytes: bufferLimitBytes)
        subscribers[topic, default: [:]][id] = subscriber
        continuation.onTermination = { [weak self, subscriber] _ in
            // At once, not after the hop below: no direct write may follow an unsubscribe's ack.
            subscriber.markClosed()
            Task { await self?.remove(topic: topic, id: id) }
        }
        return Subscription(stream: stream, subscriber: subscriber)
    }

    /// Number of live subscribers of `topic` (metrics, tests).
    public func subscriberCount(_ topic: RealtimeTopic) -> Int { subscribers[topic]?.count ?? 0 }

    /// Ends every subscription (service shutdown).
    public func finishAll() {
        for group in subscribers.values { for subscriber in group.values { subscriber.finish() } }
        subscribers = [:]
        pending = [:]
        lastFanOut = [:]
    }

    private func remove(topic: RealtimeTopic, id: UUID) {
        subscribers[topic]?[id] = nil
        if subscribers[topic]?.isEmpty == true {
            subscribers[topic] = nil
            pending[topic] = nil
            lastFanOut[topic] = nil
        }
    }

    /// Hands a caught-up subscription's live events to `cursor`, which writes them to the connection itself,
    /// until it gives one back (see ``FeedCursor``). Refused (returns `false`) when events are already queued
    /// for the subscription's own task or it has ended.
    nonisolated func attach(_ cursor: FeedCursor, to subscription: Subscription) -> Bool {
        subscription.subscriber.attach(cursor)
    }

    /// One subscriber's bounded queue: the stream's buffer plus counters of what is pending, and — while
    /// the feed is live and caught up — the cursor the hub writes through directly.
    final class Subscriber: Sendable {
        private let continuation: AsyncStream<Delivery>.Continuation
        private struct State {
            var events = 0
            var bytes = 0
            var closed = false
            var direct: FeedCursor?
        }
        private let pending = Mutex(State())
        private let limitEvents: Int
        private let limitBytes: Int

        enum Offer {
            /// Queued for the subscription's task.
            case queued
            /// Written (or skipped as already delivered) through the direct cursor's writer.
            case written(any RealtimeFrameWriter)
            /// Closed or overflowed: forget the subscriber.
            case removed
        }

        init(continuation: AsyncStream<Delivery>.Continuation, limitEvents: Int, limitBytes: Int) {
            self.continuation = continuation
            self.limitEvents = limitEvents
            self.limitBytes = limitBytes
        }

        /// Writes `event` through the direct cursor, or queues it (yielding `.overflow` and finishing when
        /// over the limits).
        func offer(_ event: RealtimeEvent) -> Offer {
            let cursor = pending.withLock { state -> FeedCursor?? in
                state.closed ? .none : .some(state.direct)
            }
            guard let cursor else { return .removed }
            if let cursor {
                // Only the hub's fan-out offers, one event at a time, so the cursor sees events in order.
                if cursor.take(event) { return .written(cursor.writer) }
            }
            let accepted = pending.withLock { state -> Bool? in
                state.direct = nil
                if state.closed { return nil }
                if state.events + 1 > limitEvents || state.bytes + event.byteCount > limitBytes {
                    state.closed = true
                    return false
                }
                state.events += 1
                state.bytes += event.byteCount
                return true
            }
            switch accepted {
            case nil:
                return .removed
            case false?:
                continuation.yield(.overflow)
                continuation.finish()
                return .removed
            case true?:
                continuation.yield(.event(event))
                return .queued
            }
        }

        /// Starts direct delivery through `cursor` unless events are queued or the subscriber has ended.
        func attach(_ cursor: FeedCursor) -> Bool {
            pending.withLock { state in
                guard !state.closed, state.events == 0 else { return false }
                state.direct = cursor
                return true
            }
        }

        /// Whether events are queued that the consumer has not taken yet (its next `next()` will not wait).
        var hasPending: Bool { pending.withLock { $0.events > 0 } }

        func consumed(_ event: RealtimeEvent) {
            pending.withLock { state in
                state.events -= 1
                state.bytes -= event.byteCount
            }
        }

        /// Stops every delivery (the consumer has gone).
        func markClosed() {
            pending.withLock {
                $0.closed = true
                $0.direct = nil
            }
        }

        func finish() {
            markClosed()
            continuation.finish()
        }
    }

    /// The events of one subscription, in publication order.
    public struct Subscription: AsyncSequence, Sendable {
        public typealias Element = Delivery
        let stream: AsyncStream<Delivery>
        let subscriber: Subscriber

        public func makeAsyncIterator() -> Iterator {
            Iterator(base: stream.makeAsyncIterator(), subscriber: subscriber)
        }

        public struct Iterator: AsyncIteratorProtocol {
            var base: AsyncStream<Delivery>.Iterator
            let subscriber: Subscriber

            /// Whether the next `next()` returns at once with an already queued event.
            public var hasPending: Bool { subscriber.hasPending }

            public mutating func next() async -> Delivery? {
                guard let delivery = await base.next() else { return nil }
                if case .event(let event) = delivery { subscriber.consumed(event) }
                return delivery
            }
        }
    }
}
