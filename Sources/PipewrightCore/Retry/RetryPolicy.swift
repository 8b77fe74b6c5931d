/// How often, and how long apart, a failed operation is tried again: exponential backoff with full
/// jitter, a cap, and a floor from the server's `Retry-After`.
///
/// The pause before attempt `n + 1` (after `n` attempts have failed) is drawn uniformly from
/// `0 ... min(cap, baseDelay × 2ⁿ)` ("full jitter", AWS Architecture Blog, *Exponential Backoff And
/// Jitter*), and is never shorter than a `Retry-After` the server sent. The trigger's documented rule
/// (docs/API.md "Triggering and executions"): before attempt n+1 wait up to 2ⁿ s with full jitter,
/// capped, and never less than `Retry-After`.
///
/// With `baseDelay: .seconds(1)`, `cap: .seconds(20)`:
///
/// | failed attempts `n` | next attempt | ceiling `min(cap, 1 s × 2ⁿ)` | `.full` jitter draws from | `.none` waits |
/// |---|---|---|---|---|
/// | 1 | 2 | 2 s  | 0 … 2 s  | 2 s  |
/// | 2 | 3 | 4 s  | 0 … 4 s  | 4 s  |
/// | 3 | 4 | 8 s  | 0 … 8 s  | 8 s  |
/// | 4 | 5 | 16 s | 0 … 16 s | 16 s |
/// | 5 | 6 | 20 s (capped from 32 s) | 0 … 20 s | 20 s |
///
/// A `Retry-After: 30` raises any of these to 30 s (the floor is applied after the cap and jitter).
/// `maxAttempts` counts every attempt including the first: `maxAttempts: 5` makes at most 4 pauses.
public struct RetryPolicy: Sendable, Equatable {
    /// How the pause is randomised below its ceiling.
    public enum Jitter: Sendable, Equatable {
        /// Uniform in `0 ... ceiling` (spreads retries of many clients; the recommended default).
        case full
        /// Exactly the ceiling (deterministic; for tests and single-client tools).
        case none
    }

    /// Total attempts including the first, at least 1.
    public let maxAttempts: Int
    /// Ceiling of the pause after the first failure is `2 × baseDelay`; must be ≥ 0.
    public let baseDelay: Duration
    /// Largest ceiling for any single pause (before the `Retry-After` floor).
    public let cap: Duration
    /// Randomisation below the ceiling.
    public let jitter: Jitter

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - maxAttempts: total attempts including the first; values below 1 are raised to 1.
    ///   - baseDelay: unit of the exponential ceiling (`baseDelay × 2ⁿ`); negative values become zero.
    ///   - cap: the largest ceiling for one pause; values below zero become zero.
    ///   - jitter: `.full` (default) or `.none`.
    public init(maxAttempts: Int, baseDelay: Duration = .seconds(1), cap: Duration, jitter: Jitter = .full) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(.zero, baseDelay)
        self.cap = max(.zero, cap)
        self.jitter = jitter
    }

    /// A policy that never retries (one attempt).
    public static let never = RetryPolicy(maxAttempts: 1, baseDelay: .zero, cap: .zero, jitter: .none)

    /// Whether another attempt is allowed after `n` attempts were made.
    ///
    /// - Parameter n: attempts made so far (1 after the first failure).
    public func allowsAttempt(after n: Int) -> Bool { n < maxAttempts }

    /// The upper bound of the pause after `n` failed attempts: `min(cap, baseDelay × 2ⁿ)`.
    ///
    /// - Parameter n: attempts made so far, ≥ 0 (0 gives `min(cap, baseDelay)`).
    /// - Returns: the ceiling; never overflows (doubling stops at the cap).
    public func ceiling(afterAttempts n: Int) -> Duration {
        guard baseDelay > .zero else { return .zero }
        var ceiling = min(baseDelay, cap)
        var remaining = max(0, n)
        while remaining > 0, ceiling < cap {
            ceiling = ceiling < cap / 2 ? ceiling * 2 : cap
            remaining -= 1
        }
        return ceiling
    }

    /// The pause before attempt `n + 1`, after `n` attempts have failed.
    ///
    /// - Parameters:
    ///   - n: attempts made so far (1 after the first failure). The ceiling is `min(cap, baseDelay × 2ⁿ)`.
    ///   - retryAfter: the server's `Retry-After`, if it sent one; the result is never shorter.
    ///   - random: the source of jitter (inject a seeded generator in tests).
    /// - Returns: a duration in `0 ... ceiling` (`.full`) or exactly the ceiling (`.none`), raised to
    ///   `retryAfter` when that is longer.
    public func delay(
        beforeAttempt n: Int,
        retryAfter: Duration?,
        random: inout some RandomNumberGenerator
    ) -> Duration {
        let ceiling = ceiling(afterAttempts: n)
        let drawn: Duration
        switch jitter {
        case .none:
            drawn = ceiling
        case .full:
            let nanoseconds = ceiling.clampedNanoseconds
            drawn = nanoseconds > 0 ? .nanoseconds(Int64.random(in: 0...nanoseconds, using: &random)) : .zero
        }
        guard let retryAfter, retryAfter > drawn else { return drawn }
        return retryAfter
    }
}
