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
public actor ExecutionEventHub {
    /// What a subscription's stream yields.
    public enum Delivery: Sendable {
        case event(RealtimeEvent)
        /// The subscriber's buffer overflowed; no further events follow.
        case overflow
    }

    private var subscribers: [RealtimeTopic: [UUID: Subscriber]] = [:]
    public let bufferLimitEvents: Int
    public let bufferLimitBytes: Int

    /// - Parameters:
    ///   - bufferLimitEvents: events a subscriber may have pending before it is cut off.
    ///   - bufferLimitBytes: payload bytes a subscriber may have pending before it is cut off.
    public init(bufferLimitEvents: Int = 4_096, bufferLimitBytes: Int = 8 << 20) {
        self.bufferLimitEvents = bufferLimitEvents
        self.bufferLimitBytes = bufferLimitBytes
    }

    /// Delivers `event` to the subscribers of its execution and of its pipeline.
    public func publish(_ event: RealtimeEvent) {
        deliver(event, to: .execution(event.executionID))
        if let pipelineID = event.pipelineID { deliver(event, to: .pipeline(pipelineID)) }
    }

    private func deliver(_ event: RealtimeEvent, to topic: RealtimeTopic) {
        guard let group = subscribers[topic] else { return }
        for (id, subscriber) in group where !subscriber.offer(event) {
            subscribers[topic]?[id] = nil
        }
        if subscribers[topic]?.isEmpty == true { subscribers[topic] = nil }
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
        continuation.onTermination = { [weak self] _ in
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
    }

    private func remove(topic: RealtimeTopic, id: UUID) {
        subscribers[topic]?[id] = nil
        if subscribers[topic]?.isEmpty == true { subscribers[topic] = nil }
    }

    /// One subscriber's bounded queue: the stream's buffer plus counters of what is pending.
    final class Subscriber: Sendable {
        private let continuation: AsyncStream<Delivery>.Continuation
        private let pending = Mutex<(events: Int, bytes: Int, closed: Bool)>((0, 0, false))
        private let limitEvents: Int
        private let limitBytes: Int

        init(continuation: AsyncStream<Delivery>.Continuation, limitEvents: Int, limitBytes: Int) {
            self.continuation = continuation
            self.limitEvents = limitEvents
            self.limitBytes = limitBytes
        }

        /// Queues `event`; returns `false` (after yielding `.overflow` and finishing) when over the limits.
        func offer(_ event: RealtimeEvent) -> Bool {
            let accepted = pending.withLock { state -> Bool? in
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
                return false
            case false?:
                continuation.yield(.overflow)
                continuation.finish()
                return false
            case true?:
                continuation.yield(.event(event))
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

        func finish() {
            pending.withLock { $0.closed = true }
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
