import Fluent
import Foundation
import PipewrightCore

/// Schema version 2: Bitbucket connections and pipelines.
struct CreateConnectionAndPipeline: AsyncMigration {
    /// Whether the database is SQLite (see `SchemaBuilder.autoIncrementID`).
    let sqlite: Bool

    func prepare(on database: any Database) async throws {
        try await database.schema("connections")
            .autoIncrementID(sqlite: sqlite)
            .field("owner_id", .int, .required, .references("users", .id))
            .field("name", .string, .required)
            .field("workspace", .string, .required)
            .field("auth_type", .string, .required)
            .field("email", .string)
            .field("sealed_token", .string)
            .field("account_name", .string)
            .field("last_verified_at", .datetime)
            .field("created_at", .datetime)
            .create()
        try await database.schema("pipelines")
            .autoIncrementID(sqlite: sqlite)
            .field("owner_id", .int, .required, .references("users", .id))
            .field("connection_id", .int, .required, .references("connections", .id))
            .field("ssh_key_id", .int, .required, .references("ssh_keys", .id))
            .field("name", .string, .required)
            .field("workspace", .string, .required)
            .field("repo_slug", .string, .required)
            .field("branch", .string, .required)
            .field("server_ids", .array(of: .int), .required)
            .field("deploy_path", .string, .required)
            .field("app_port", .int)
            .field("domain", .string)
            .field("build_command", .string)
            .field("start_command", .string)
            .field("stack_json", .string)
            .field("stack_override_json", .string)
            .field("sealed_webhook_secret", .string)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("pipelines").delete()
        try await database.schema("connections").delete()
    }
}
