import Fluent
import Foundation
import SQLKit

/// Token buckets in the PostgreSQL table `rate_limit_buckets` (migration 010), shared by every instance on the
/// database, with the same arithmetic as `RateLimiter.take` (docs/scaling.md "Locks, idempotency and rate
/// limits").
///
/// One request costs one statement: an `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING` over all of its
/// keys (sorted, so concurrent statements lock rows in one order and never deadlock) that refills each
/// bucket by the elapsed time on the *database* clock (instances need not agree on time) and takes a token
/// from each bucket that has one. Each row update is atomic under its row lock, so concurrent requests on
/// any instances never both take the last token. When some bucket was empty, a second statement gives the
/// tokens taken from the others back: for that moment a concurrent request may see one token fewer.
enum SharedRateLimitBuckets {
    /// Buckets untouched this long are full whatever their limit (a period is at most 86,400 s) and are deleted.
    static let idleLifetimeSeconds: Double = 86_400

    /// Takes one token from every bucket in `keys` under `limit`, or (in effect) none when any is empty.
    ///
    /// - Returns: `.allowed`, or `.limited` with whole seconds until the emptiest bucket has a token and
    ///   whether this is its first refusal since it last had one.
    /// - Throws: database errors; `SharedRateLimitBucketsUnavailable` when `database` does not speak SQL.
    static func take(_ keys: [String], limit: RateLimit, on database: any Database) async throws
        -> RateLimiter.Verdict
    {
        guard let sql = database as? any SQLDatabase else { throw SharedRateLimitBucketsUnavailable() }
        let keys = Array(Set(keys)).sorted()
        let capacity = Double(limit.requests)
        let rate = capacity / limit.periodSeconds
        // Tokens after the refill: `least(capacity, tokens + elapsed * rate)`. Numbers come from the
        // configuration (validated by `RateLimit.parse`), keys are bound.
        let refilled =
            "least(\(capacity)::float8, b.tokens + greatest(0, EXCLUDED.updated_at - b.updated_at) * \(rate)::float8)"
        let query: SQLQueryString = """
            INSERT INTO rate_limit_buckets AS b (key, tokens, updated_at, rejections)
            SELECT k, \(unsafeRaw: String(capacity - 1))::float8, n.t, 0
            FROM unnest(\(bind: keys)::text[]) WITH ORDINALITY AS u(k, i),
                (SELECT extract(epoch FROM clock_timestamp())::float8 AS t) AS n
            ORDER BY u.i
            ON CONFLICT (key) DO UPDATE SET
                tokens = CASE WHEN \(unsafeRaw: refilled) >= 1 THEN \(unsafeRaw: refilled) - 1
                    ELSE \(unsafeRaw: refilled) END,
                rejections = CASE WHEN \(unsafeRaw: refilled) >= 1 THEN 0 ELSE b.rejections + 1 END,
                updated_at = EXCLUDED.updated_at
            RETURNING key, tokens, rejections
            """
        struct Row: Decodable {
            var key: String
            var tokens: Double
            var rejections: Int
        }
        let rows = try await sql.raw(query).all(decoding: Row.self)
        let refused = rows.filter { $0.rejections > 0 }
        guard !refused.isEmpty else { return .allowed }
        let took = rows.filter { $0.rejections == 0 }.map(\.key)
        if !took.isEmpty {
            try await sql.raw(
                """
                UPDATE rate_limit_buckets SET tokens = least(\(unsafeRaw: String(capacity))::float8, tokens + 1)
                WHERE key = ANY(\(bind: took)::text[])
                """
            ).run()
        }
        let wait = refused.map { (1 - $0.tokens) / rate }.max() ?? 1
        return .limited(retryAfter: max(1, Int(wait.rounded(.up))), first: refused.contains { $0.rejections == 1 })
    }

    /// Deletes buckets idle for `idleLifetimeSeconds` (they would be full anyway).
    static func prune(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw(
            """
            DELETE FROM rate_limit_buckets
            WHERE updated_at < extract(epoch FROM clock_timestamp())::float8 - \(unsafeRaw: String(idleLifetimeSeconds))
            """
        ).run()
    }
}

/// The shared buckets need an SQL database.
struct SharedRateLimitBucketsUnavailable: Error {}
