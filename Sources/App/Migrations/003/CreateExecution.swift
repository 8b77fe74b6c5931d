import Fluent
import Foundation
import PipewrightCore

/// Schema version 3: executions and their trigger attempts.
struct CreateExecution: AsyncMigration {
    /// Whether the database is SQLite (see `SchemaBuilder.autoIncrementID`).
    let sqlite: Bool

    func prepare(on database: any Database) async throws {
        try await database.schema("executions")
            .autoIncrementID(sqlite: sqlite)
            .field("owner_id", .int, .required, .references("users", .id))
            .field("pipeline_id", .int, .required, .references("pipelines", .id, onDelete: .cascade))
            .field("status", .string, .required)
            .field("branch", .string, .required)
            .field("commit", .string)
            .field("pattern", .string)
            .field("retry", .bool, .required)
            .field("max_retries", .int, .required)
            .field("idempotency_key", .string)
            .field("trigger_by", .string, .required)
            .field("trigger_at", .datetime, .required)
            .field("bitbucket_uuid", .string)
            .field("bitbucket_build_number", .int)
            .field("bitbucket_url", .string)
            .field("steps_json", .string, .required)
            .field("error_reason", .string)
            .field("sealed_variables", .string)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("created_at", .datetime)
            .unique(on: "pipeline_id", "idempotency_key")
            .create()
        try await database.schema("trigger_attempts")
            .autoIncrementID(sqlite: sqlite)
            .field("execution_id", .int, .required, .references("executions", .id, onDelete: .cascade))
            .field("n", .int, .required)
            .field("started_at", .datetime, .required)
            .field("finished_at", .datetime)
            .field("outcome", .string)
            .field("http_status", .int)
            .field("error", .string)
            .field("next_retry_at", .datetime)
            .unique(on: "execution_id", "n")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("trigger_attempts").delete()
        try await database.schema("executions").delete()
    }
}
