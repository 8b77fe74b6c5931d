import Fluent
import FluentSQLiteDriver
import Foundation
import SQLKit
import Testing
import Vapor

@testable import App

/// Issue 13 item 1: schema version 8 turns `member` into `maintainer` and adds the account flags, on a
/// database that was migrated to version 7 with users in it (SQLite here; the PostgreSQL smoke run in
/// scripts/test migrates a fresh cluster through the same `UPDATE` and `DEFAULT FALSE` columns).
@Suite struct TeamRolesMigrationTests {
    @Test func version8_turnsMembersIntoMaintainers_onADatabaseWithUsers() async throws {
        let app = try await Application.make(.testing)
        do {
            app.databases.use(.sqlite(.memory), as: .sqlite)
            let all = Migrations.all(sqlite: true)
            let version8 = try #require(all.firstIndex { $0 is UpdateUserAddTeamRoles })
            for migration in all[..<version8] { app.migrations.add(migration) }
            try await app.autoMigrate()
            let sql = try #require(app.db as? any SQLDatabase)
            for (name, role) in [("ada", "admin"), ("bob", "member"), ("cy", "member")] {
                try await sql.raw(
                    "INSERT INTO users (username, password_hash, role, created_at) VALUES (\(bind: name), 'x', \(bind: role), CURRENT_TIMESTAMP)"
                ).run()
            }
            try await sql.raw("INSERT INTO servers (owner_id, host, port, username) VALUES (2, 'h', 22, 'u')").run()
            app.migrations.add(all[version8])
            try await app.autoMigrate()

            let users = try await User.query(on: app.db).sort(\.$id).all()
            #expect(users.map(\.role) == [.admin, .maintainer, .maintainer])
            #expect(users.allSatisfy { !$0.isDisabled && !$0.mustChangePassword && $0.deletedAt == nil })
            #expect(try await Server.query(on: app.db).first()?.notes == nil)
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Only the last batch reverted: maintainers and viewers go back to `member` (the one non-admin role
    /// of version 7), the columns go away.
    @Test func version8_revert_mapsRolesBackToMember() async throws {
        let app = try await Application.make(.testing)
        do {
            app.databases.use(.sqlite(.memory), as: .sqlite)
            for migration in Migrations.all(sqlite: true) { app.migrations.add(migration) }
            try await app.autoMigrate()
            for (name, role) in [("ada", User.Role.admin), ("bob", .maintainer), ("cy", .viewer)] {
                try await User(username: name, passwordHash: "x", role: role).create(on: app.db)
            }
            try await UpdateUserAddTeamRoles().revert(on: app.db)
            let sql = try #require(app.db as? any SQLDatabase)
            struct Row: Decodable { var role: String }
            let rows = try await sql.raw("SELECT role FROM users ORDER BY id").all(decoding: Row.self)
            #expect(rows.map(\.role) == ["admin", "member", "member"])
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
