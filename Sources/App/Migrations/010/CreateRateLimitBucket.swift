import Fluent

/// Schema version 10: `rate_limit_buckets`, the token buckets shared by every instance on one PostgreSQL
/// database (`SharedRateLimitBuckets`; docs/scaling.md "Locks, idempotency and rate limits"). Created on
/// SQLite too (same schema everywhere), where the in-process limiter leaves it empty.
///
/// `key` as in `RateLimiter` (`DEPLOY|user:7`); `tokens` left in the bucket; `updated_at` the database clock
/// in seconds since 1970 when `tokens` was computed; `rejections` the consecutive refusals since the bucket
/// last had a token.
struct CreateRateLimitBucket: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("rate_limit_buckets")
            .field("key", .string, .required, .custom("PRIMARY KEY"))
            .field("tokens", .double, .required)
            .field("updated_at", .double, .required)
            .field("rejections", .int, .required, .custom("DEFAULT 0"))
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("rate_limit_buckets").delete()
    }
}
