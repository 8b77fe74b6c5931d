import Fluent
import Foundation
import PipewrightCore
import Vapor

/// Token buckets keyed by strings such as `deploy|user:7` or `login|ip:203.0.113.9`: in this process's
/// memory (SQLite, one instance), or with `sharesBuckets` in the PostgreSQL table `rate_limit_buckets`
/// shared by every instance (`SharedRateLimitBuckets`; docs/scaling.md "Locks, idempotency and rate limits").
///
/// In memory, the table is bounded: full (idle) buckets are dropped when it grows past ``maximumKeys``.
/// Consecutive login failures (`recordFailure`) are counted in process in both modes.
actor RateLimiter {
    /// Whether `Request.enforceRateLimit` uses the shared table instead of ``take(_:limit:)``.
    nonisolated let sharesBuckets: Bool
    private var lastPrune: ContinuousClock.Instant?
    /// How often one instance deletes idle shared buckets.
    static let pruneInterval: Duration = .seconds(600)

    init(sharesBuckets: Bool = false) {
        self.sharesBuckets = sharesBuckets
    }

    /// Whether it is this caller's turn to prune the shared table (at most once per ``pruneInterval``).
    func claimPrune() -> Bool {
        let now = ContinuousClock.now
        if let lastPrune, now - lastPrune < Self.pruneInterval { return false }
        lastPrune = now
        return true
    }

    /// The result of taking one token.
    enum Verdict: Sendable, Equatable {
        case allowed
        /// `retryAfter`: whole seconds until a token is available (≥ 1). `first`: whether this is the
        /// first rejection since the bucket last had a token (callers audit only those).
        case limited(retryAfter: Int, first: Bool)
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
        var rejecting: Bool
    }

    private var buckets: [String: Bucket] = [:]
    private var failures: [String: (count: Int, last: ContinuousClock.Instant)] = [:]
    static let maximumKeys = 50_000

    /// Takes one token from every bucket in `keys` under `limit`, or none when any is empty.
    func take(_ keys: [String], limit: RateLimit) -> Verdict {
        let now = ContinuousClock.now
        let rate = Double(limit.requests) / limit.periodSeconds
        var worst: Double = 0
        var first = false
        var refreshed: [String: Bucket] = [:]
        for key in keys {
            var bucket = buckets[key] ?? Bucket(tokens: Double(limit.requests), updated: now, rejecting: false)
            let elapsed = (now - bucket.updated).seconds
            bucket.tokens = min(Double(limit.requests), bucket.tokens + elapsed * rate)
            bucket.updated = now
            if bucket.tokens < 1 {
                worst = max(worst, (1 - bucket.tokens) / rate)
                if !bucket.rejecting { first = true }
                bucket.rejecting = true
            }
            refreshed[key] = bucket
        }
        if worst > 0 {
            for (key, bucket) in refreshed { buckets[key] = bucket }
            return .limited(retryAfter: max(1, Int(worst.rounded(.up))), first: first)
        }
        for (key, var bucket) in refreshed {
            bucket.tokens -= 1
            bucket.rejecting = false
            buckets[key] = bucket
        }
        if buckets.count > Self.maximumKeys { prune(now: now, rate: rate, capacity: Double(limit.requests)) }
        return .allowed
    }

    /// Records a failed login of `key` and returns how many consecutive failures it has had
    /// (failures older than 15 minutes are forgotten).
    func recordFailure(_ key: String) -> Int {
        let now = ContinuousClock.now
        var entry = failures[key] ?? (0, now)
        if (now - entry.last) > .seconds(900) { entry.count = 0 }
        entry.count += 1
        entry.last = now
        failures[key] = entry
        if failures.count > Self.maximumKeys {
            failures = failures.filter { now - $0.value.last < .seconds(900) }
        }
        return entry.count
    }

    /// Forgets the failures of `key` (after a successful login).
    func resetFailures(_ key: String) {
        failures[key] = nil
    }

    private func prune(now: ContinuousClock.Instant, rate: Double, capacity: Double) {
        buckets = buckets.filter { _, bucket in bucket.tokens + (now - bucket.updated).seconds * rate < capacity }
        // Still too many live buckets (many distinct clients at once): forget the least recently used half.
        // Forgetting a bucket only ever gives a client a fresh budget, never a lockout.
        if buckets.count > Self.maximumKeys {
            let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(Self.maximumKeys / 2)
            buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}

/// 429 `rate_limited` with `Retry-After` (whole seconds).
struct RateLimitedError: APIErrorConvertible {
    var retryAfter: Int
    var action: String
    /// The first rejection of this lockout (only those are audited).
    var first: Bool

    var status: HTTPResponseStatus { .tooManyRequests }
    var code: String { "rate_limited" }
    var message: String { "Too many requests; retry after \(retryAfter) second(s)." }
    var details: [String: String] { ["retry_after": String(retryAfter), "action": action] }
    var headers: HTTPHeaders { ["Retry-After": String(retryAfter)] }
}

extension Request {
    /// Takes one request from the budget of `action` for the signed-in user and for the client IP.
    ///
    /// - Throws: `RateLimitedError` (429 + `Retry-After`) when either budget is empty.
    func enforceRateLimit(_ action: RateLimitSettings.Action) async throws {
        var keys = ["\(action.rawValue)|ip:\(clientRateLimitKey)"]
        if let user = authenticatedUser { keys.append("\(action.rawValue)|user:\(user.id)") }
        try await enforceRateLimit(action, keys: keys)
    }

    /// Takes one request from each bucket in `keys` under the limit of `action`.
    func enforceRateLimit(_ action: RateLimitSettings.Action, keys: [String]) async throws {
        let limit = services.configuration.rateLimits[action]
        let limiter = services.rateLimiter
        let verdict: RateLimiter.Verdict
        if limiter.sharesBuckets {
            verdict = try await SharedRateLimitBuckets.take(keys, limit: limit, on: db)
            if await limiter.claimPrune() { try? await SharedRateLimitBuckets.prune(on: db) }
        } else {
            verdict = await limiter.take(keys, limit: limit)
        }
        switch verdict {
        case .allowed:
            return
        case .limited(let retryAfter, let first):
            logger.notice("rate limited", metadata: ["action": "\(action.rawValue)", "client_ip": "\(clientIP)"])
            throw RateLimitedError(retryAfter: retryAfter, action: action.rawValue.lowercased(), first: first)
        }
    }
}
