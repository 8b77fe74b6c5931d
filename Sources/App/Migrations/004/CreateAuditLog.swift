import Fluent
import Foundation
import PipewrightCore

/// Schema version 4: the append-only audit log (docs/API.md "Audit log").
///
/// Queries filter by `at`, `actor_id` and `action`; the table is scanned (Fluent's schema builder has no
/// plain indexes; add them with SQL when the log grows large).
/// No foreign key to `users`: entries outlive the accounts they name (`actor_username` keeps the name).
struct CreateAuditLog: AsyncMigration {
    /// Whether the database is SQLite (see `SchemaBuilder.autoIncrementID`).
    let sqlite: Bool

    func prepare(on database: any Database) async throws {
        try await database.schema("audit_entries")
            .autoIncrementID(sqlite: sqlite)
            .field("at", .datetime, .required)
            .field("actor_id", .int)
            .field("actor_username", .string)
            .field("action", .string, .required)
            .field("resource_type", .string)
            .field("resource_id", .int)
            .field("ip", .string, .required)
            .field("outcome", .string, .required)
            .field("details_json", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("audit_entries").delete()
    }
}
