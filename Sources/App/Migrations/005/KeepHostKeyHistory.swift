import Fluent
import Foundation
import SQLKit

/// Schema version 5: host-key pins are kept when they end (issue 12 item 7).
///
/// `pinned_host_keys` had `UNIQUE (host, port, algorithm)`, so accepting a new key had to delete the old
/// pin. SQLite cannot drop a table constraint, so the pins move to `host_key_pins`, which adds
/// `ended_at`, `ended_by`, `end_reason` and `replaced_by_fingerprint` (all `NULL` while a pin is active)
/// and keeps the old guarantee for active pins only: a partial unique index on `(host, port, algorithm)
/// WHERE ended_at IS NULL` (SQLite ≥ 3.8 and PostgreSQL both support it), which is what a concurrent
/// first contact relies on. Existing pins are copied as active pins; row ids are not kept (they were
/// never part of the API).
struct KeepHostKeyHistory: AsyncMigration {
    /// Whether the database is SQLite (see `SchemaBuilder.autoIncrementID`).
    let sqlite: Bool

    func prepare(on database: any Database) async throws {
        try await database.schema("host_key_pins")
            .autoIncrementID(sqlite: sqlite)
            .field("host", .string, .required)
            .field("port", .int, .required)
            .field("algorithm", .string, .required)
            .field("key_base64", .string, .required)
            .field("fingerprint_sha256", .string, .required)
            .field("first_seen_at", .datetime, .required)
            .field("approved_by", .string)
            .field("ended_at", .datetime)
            .field("ended_by", .string)
            .field("end_reason", .string)
            .field("replaced_by_fingerprint", .string)
            .create()
        let sql = try Self.sql(database)
        try await sql.raw(
            """
            INSERT INTO host_key_pins (host, port, algorithm, key_base64, fingerprint_sha256, first_seen_at, approved_by)
            SELECT host, port, algorithm, key_base64, fingerprint_sha256, first_seen_at, approved_by
            FROM pinned_host_keys ORDER BY id
            """
        ).run()
        try await sql.raw(
            "CREATE UNIQUE INDEX host_key_pins_active ON host_key_pins (host, port, algorithm) WHERE ended_at IS NULL"
        ).run()
        try await database.schema("pinned_host_keys").delete()
    }

    /// Back to schema 4: the active pins only (history is lost, as it was before this version).
    func revert(on database: any Database) async throws {
        try await database.schema("pinned_host_keys")
            .autoIncrementID(sqlite: sqlite)
            .field("host", .string, .required)
            .field("port", .int, .required)
            .field("algorithm", .string, .required)
            .field("key_base64", .string, .required)
            .field("fingerprint_sha256", .string, .required)
            .field("first_seen_at", .datetime, .required)
            .field("approved_by", .string)
            .unique(on: "host", "port", "algorithm")
            .create()
        try await Self.sql(database).raw(
            """
            INSERT INTO pinned_host_keys (host, port, algorithm, key_base64, fingerprint_sha256, first_seen_at, approved_by)
            SELECT host, port, algorithm, key_base64, fingerprint_sha256, first_seen_at, approved_by
            FROM host_key_pins WHERE ended_at IS NULL ORDER BY id
            """
        ).run()
        try await database.schema("host_key_pins").delete()
    }

    /// The SQL interface of `database` (every supported driver has one).
    private static func sql(_ database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else { throw NotAnSQLDatabase() }
        return sql
    }

    /// The migration runs SQL that Fluent's schema builder cannot express (a partial index, a copy).
    struct NotAnSQLDatabase: Error {}
}
