import Fluent
import FluentPostgresDriver
import Foundation
import Logging
import SQLKit
import Vapor

/// Copies a SQLite installation into an empty PostgreSQL database (`pipewright db copy --to URL`,
/// docs/operations.md "Moving to PostgreSQL").
///
/// Steps: take the target's exclusive ownership lock (`DatabaseOwnership`: no `serve` on it meanwhile);
/// refuse a target whose tables hold any row; migrate the target (`Migrations.all(sqlite: false)`); then, in
/// one PostgreSQL transaction, copy every table of the schema in foreign-key order keeping every column
/// (ids included, which sealed secrets are bound to), reset each identity sequence past the highest id,
/// compare row counts table by table, open every sealed secret on the target with the installation's master
/// key (`SecretInventory.verify`, what `keys verify` does) and record one `database.copy` audit entry.
/// Any failure rolls the transaction back: the target keeps its (migrated) schema and no row.
///
/// Column values are read with the types the target declares (`information_schema.columns`): `bigint`/
/// `integer` as `Int`, `boolean` as `Bool`, `timestamp with time zone` as `Date`, `text`/`character varying`
/// as `String`, `double precision` as `Double`, `bigint[]` (SQLite stores JSON text) as `[Int]`; any other
/// type stops the copy before anything is committed.
enum DatabaseCopy {
    /// One copied table.
    struct TableCopy: Sendable, Equatable {
        var table: String
        var rows: Int
    }

    /// What was copied and checked.
    struct Report: Sendable {
        /// In copy order (parents before children).
        var tables: [TableCopy]
        /// Sealed values opened on the target with the master key.
        var secrets: Int
        var rows: Int { tables.reduce(0) { $0 + $1.rows } }
    }

    /// Fluent's bookkeeping table: the target gets its own rows from migrating.
    static let migrationsTable = "_fluent_migrations"
    /// Rows per `INSERT` (each row binds one parameter per column; PostgreSQL allows 65,535 per statement).
    static let batchSize = 500

    /// Copies `app`'s SQLite database into the PostgreSQL database at `url`.
    ///
    /// - Parameters:
    ///   - app: configured on the SQLite installation (master key checked against it by `configure`).
    ///   - url: `postgres://…` of an existing, empty database.
    ///   - osUser: recorded as the audit entry's actor `cli:<osUser>`.
    /// - Returns: the per-table row counts and the number of secrets verified.
    /// - Throws: `CommandFailure` for a source that is not SQLite, a non-empty target, a schema mismatch, a
    ///   count mismatch or a secret that does not open (nothing committed); `ConfigurationError`
    ///   (`--to`) when the target cannot be reached; database errors (transaction rolled back).
    static func copy(app: Application, to url: String, osUser: String) async throws -> Report {
        guard let source = app.db as? any SQLDatabase, source.dialect.name == "sqlite" else {
            throw CommandFailure("db copy copies a SQLite installation; DATABASE_URL already names another database")
        }
        let targetID = DatabaseID(string: "copy-target")
        do {
            app.databases.use(try .postgres(url: url, sqlLogLevel: .trace), as: targetID, isDefault: false)
        } catch {
            throw CommandFailure("db copy: --to is not a usable PostgreSQL URL")
        }
        let ownership: DatabaseOwnership
        do {
            ownership = try await DatabaseOwnership.acquire(
                url: url, exclusive: true, purpose: "db copy", logger: app.logger)
        } catch is ConfigurationError {
            throw CommandFailure("db copy: cannot connect to the PostgreSQL database given with --to")
        }
        do {
            let report = try await copy(
                app: app, source: source, targetID: targetID, osUser: osUser)
            await ownership.release()
            return report
        } catch {
            await ownership.release()
            throw error
        }
    }

    private static func copy(
        app: Application, source: any SQLDatabase, targetID: DatabaseID, osUser: String
    ) async throws -> Report {
        let target = app.db(targetID)
        guard let targetSQL = target as? any SQLDatabase else { throw CommandFailure("db copy: target is not SQL") }
        if let occupied = try await firstOccupiedTable(targetSQL) {
            throw CommandFailure(
                "db copy refused: the target database already holds data (table \(occupied)); "
                    + "copy only into an empty database")
        }
        app.migrations.add(Migrations.all(sqlite: false), to: targetID)
        try await app.autoMigrate()

        let sourceTables = try await source.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).all(decodingColumn: "name", as: String.self).filter { $0 != migrationsTable }
        let order = try await tablesInDependencyOrder(targetSQL)
        guard Set(sourceTables) == Set(order) else {
            throw CommandFailure(
                "db copy: the schemas differ after migrating (source tables \(sourceTables.sorted()), "
                    + "target tables \(order.sorted()))")
        }
        let masterKey = app.services.masterKey
        let now = app.services.now()
        return try await target.transaction { tx in
            guard let sql = tx as? any SQLDatabase else { throw CommandFailure("db copy: target is not SQL") }
            var copies: [TableCopy] = []
            for table in order {
                let columns = try await targetColumns(table, sql)
                let rows = try await copyTable(table, columns: columns, from: source, to: sql)
                copies.append(TableCopy(table: table, rows: rows))
                if columns.contains(where: { $0.name == "id" }) {
                    try await sql.raw(
                        """
                        SELECT setval(pg_get_serial_sequence(\(bind: quoted(table)), 'id'), \
                        COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM \(ident: table)
                        """
                    ).run()
                }
            }
            for copied in copies {
                let onSource = try await count(copied.table, source)
                let onTarget = try await count(copied.table, sql)
                guard onSource == copied.rows, onTarget == copied.rows else {
                    throw CommandFailure(
                        "db copy: \(copied.table) has \(onSource) row(s) in SQLite but \(onTarget) on the target "
                            + "(nothing was copied)")
                }
            }
            let verified = try await SecretInventory.verify(with: masterKey, on: tx)
            guard verified.failures.isEmpty else {
                throw CommandFailure(
                    "db copy: \(verified.failures.count) secret(s) do not open on the target with the master key "
                        + "(nothing was copied)")
            }
            let report = Report(tables: copies, secrets: verified.checked)
            let entry = AuditEntry(
                at: now, actorID: nil, actorUsername: "cli:\(osUser)", action: AuditAction.databaseCopy.rawValue,
                resourceType: nil, resourceID: nil, ip: "cli", outcome: .success,
                details: [
                    "from": "sqlite", "tables": "\(copies.count)", "rows": "\(report.rows)",
                    "secrets": "\(verified.checked)",
                ])
            try await entry.create(on: tx)
            return report
        }
    }

    /// A table of the current schema (other than `_fluent_migrations`) that holds a row, if any.
    private static func firstOccupiedTable(_ sql: any SQLDatabase) async throws -> String? {
        let tables = try await sql.raw(
            """
            SELECT table_name::text AS table_name FROM information_schema.tables \
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name
            """
        ).all(decodingColumn: "table_name", as: String.self)
        for table in tables where table != migrationsTable {
            let occupied = try await sql.raw("SELECT EXISTS (SELECT 1 FROM \(ident: table)) AS occupied")
                .first(decodingColumn: "occupied", as: Bool.self)
            if occupied == true { return table }
        }
        return nil
    }

    /// The migrated target's tables, parents before children (foreign keys; ties by name).
    private static func tablesInDependencyOrder(_ sql: any SQLDatabase) async throws -> [String] {
        let tables = try await sql.raw(
            """
            SELECT table_name::text AS table_name FROM information_schema.tables \
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
            """
        ).all(decodingColumn: "table_name", as: String.self).filter { $0 != migrationsTable }
        struct Edge: Decodable, Sendable {
            var child: String
            var parent: String
        }
        let edges = try await sql.raw(
            """
            SELECT DISTINCT child.relname::text AS child, parent.relname::text AS parent FROM pg_constraint c \
            JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid \
            WHERE c.contype = 'f' AND child.relnamespace = current_schema()::regnamespace
            """
        ).all(decoding: Edge.self)
        var parents: [String: Set<String>] = [:]
        for edge in edges where edge.child != edge.parent { parents[edge.child, default: []].insert(edge.parent) }
        var ordered: [String] = []
        var remaining = Set(tables)
        while !remaining.isEmpty {
            let ready = remaining.filter { (parents[$0] ?? []).isDisjoint(with: remaining) }.sorted()
            guard let next = ready.first else {
                throw CommandFailure("db copy: the foreign keys of \(remaining.sorted()) form a cycle")
            }
            ordered.append(next)
            remaining.remove(next)
        }
        return ordered
    }

    private struct Column: Decodable, Sendable {
        var name: String
        var dataType: String
        var udtName: String
    }

    private static func targetColumns(_ table: String, _ sql: any SQLDatabase) async throws -> [Column] {
        try await sql.raw(
            """
            SELECT column_name::text AS name, data_type::text AS "dataType", udt_name::text AS "udtName" \
            FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(bind: table) \
            ORDER BY ordinal_position
            """
        ).all(decoding: Column.self)
    }

    /// Copies every row of `table`, `batchSize` rows per statement, in SQLite `rowid` order.
    ///
    /// - Returns: the number of rows copied.
    private static func copyTable(
        _ table: String, columns: [Column], from source: any SQLDatabase, to target: any SQLDatabase
    ) async throws -> Int {
        var copied = 0
        var lastRowID = Int.min
        while true {
            let rows = try await source.raw(
                """
                SELECT rowid AS "_copy_rowid", * FROM \(ident: table) WHERE rowid > \(bind: lastRowID) \
                ORDER BY rowid LIMIT \(unsafeRaw: String(batchSize))
                """
            ).all()
            guard let last = rows.last else { return copied }
            let insert = target.insert(into: table).columns(columns.map(\.name))
            for row in rows {
                insert.values(try columns.map { try value(of: $0, table: table, in: row) })
            }
            try await insert.run()
            copied += rows.count
            lastRowID = try last.decode(column: "_copy_rowid", as: Int.self)
        }
    }

    /// One SQLite value read as the target column's type.
    private static func value(of column: Column, table: String, in row: any SQLRow) throws -> any SQLExpression {
        guard row.contains(column: column.name) else {
            throw CommandFailure("db copy: column \(table).\(column.name) is missing in SQLite")
        }
        if try row.decodeNil(column: column.name) { return SQLLiteral.null }
        let name = column.name
        switch (column.dataType, column.udtName) {
        case ("bigint", _), ("integer", _), ("smallint", _): return SQLBind(try row.decode(column: name, as: Int.self))
        case ("boolean", _): return SQLBind(try row.decode(column: name, as: Bool.self))
        case ("timestamp with time zone", _), ("timestamp without time zone", _):
            return SQLBind(try row.decode(column: name, as: Date.self))
        case ("text", _), ("character varying", _): return SQLBind(try row.decode(column: name, as: String.self))
        case ("double precision", _), ("real", _): return SQLBind(try row.decode(column: name, as: Double.self))
        case ("ARRAY", "_int8"), ("ARRAY", "_int4"): return SQLBind(try row.decode(column: name, as: [Int].self))
        case ("ARRAY", "_text"): return SQLBind(try row.decode(column: name, as: [String].self))
        default:
            throw CommandFailure(
                "db copy: column \(table).\(column.name) has a type this command does not copy (\(column.dataType))")
        }
    }

    private static func count(_ table: String, _ sql: any SQLDatabase) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first(decodingColumn: "n", as: Int.self) ?? 0
    }

    /// `"name"` for `pg_get_serial_sequence`, which parses its first argument as an identifier.
    private static func quoted(_ table: String) -> String {
        "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
