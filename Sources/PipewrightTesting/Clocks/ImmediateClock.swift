import Foundation

/// A test clock whose `sleep` returns at once, advancing `now` by the requested duration and recording
/// it, so retry and polling delays can be asserted without waiting.
public final class ImmediateClock: Clock, @unchecked Sendable {
    /// A point on the clock: the time slept since creation.
    public struct Instant: InstantProtocol {
        /// Time since the clock was created.
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var recorded: [Duration] = []

    /// Creates a clock at offset zero.
    public init() {}

    public var now: Instant { lock.withLock { current } }
    public var minimumResolution: Duration { .nanoseconds(1) }
    /// Every duration passed to `sleep`, in order.
    public var sleeps: [Duration] { lock.withLock { recorded } }

    /// Records the sleep and jumps `now` to `deadline` without waiting.
    ///
    /// - Throws: `CancellationError` when the task is cancelled.
    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        lock.withLock {
            recorded.append(current.duration(to: deadline))
            if current < deadline { current = deadline }
        }
    }
}
