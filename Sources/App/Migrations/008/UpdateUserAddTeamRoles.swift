import Fluent
import Foundation
import SQLKit

/// Schema version 8: teams (issue 13 items 1 and 6).
///
/// - `users.role`: `member` becomes `maintainer` (the roles are now `admin`, `maintainer`, `viewer`);
/// - `users.disabled`, `users.must_change_password` (both `false` for existing users) and `users.deleted_at`
///   (a deleted user's row stays, so audit entries and `created_by` keep naming them);
/// - `servers.notes` (free text an operator keeps about a server).
///
/// The role rewrite is one portable `UPDATE`; the columns use `DEFAULT FALSE`, which SQLite and PostgreSQL
/// both accept when adding a `NOT NULL` column to a table that has rows.
struct UpdateUserAddTeamRoles: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("users")
            .field("disabled", .bool, .required, .custom("DEFAULT FALSE"))
            .update()
        try await database.schema("users")
            .field("must_change_password", .bool, .required, .custom("DEFAULT FALSE"))
            .update()
        try await database.schema("users").field("deleted_at", .datetime).update()
        try await database.schema("servers").field("notes", .string).update()
        try await Self.sql(database).raw("UPDATE users SET role = 'maintainer' WHERE role = 'member'").run()
    }

    /// Back to version 7: `maintainer` and `viewer` become `member` (the only non-admin role there was).
    func revert(on database: any Database) async throws {
        try await Self.sql(database)
            .raw("UPDATE users SET role = 'member' WHERE role = 'maintainer' OR role = 'viewer'").run()
        try await database.schema("servers").deleteField("notes").update()
        try await database.schema("users").deleteField("deleted_at").update()
        try await database.schema("users").deleteField("must_change_password").update()
        try await database.schema("users").deleteField("disabled").update()
    }

    private static func sql(_ database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else { throw KeepHostKeyHistory.NotAnSQLDatabase() }
        return sql
    }
}
