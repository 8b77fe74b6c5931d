import Fluent
import Foundation
import PipewrightCore
import SQLKit

/// The lease rows of `execution_leases` (docs/scaling.md "Leases"): which instance runs an execution's
/// trigger attempts and monitor.
///
/// Every operation is one statement, atomic on its own. PostgreSQL compares with the server's `now()`, so
/// the instances' clocks do not matter; SQLite (one instance) uses this process's clock. An execution has
/// at most one holder whose lease has not lapsed: a claim succeeds only for a free row, a lapsed row or
/// the caller's own row (`INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`).
struct ExecutionLeases: Sendable {
    let db: any Database
    /// `PIPEWRIGHT_INSTANCE_ID` of this process.
    let holder: String
    /// `PIPEWRIGHT_MONITOR_LEASE_SECONDS`.
    let duration: Duration

    /// The database as SQL (both drivers, SQLite and PostgreSQL, are).
    private var sql: any SQLDatabase {
        get throws {
            guard let sql = db as? any SQLDatabase else { throw LeaseError.notSQL }
            return sql
        }
    }
    private var isPostgres: Bool { (db as? any SQLDatabase)?.dialect.name == "postgresql" }

    enum LeaseError: Error { case notSQL }
    private var seconds: Double { duration.seconds }
    private static var unixNow: Double { Date().timeIntervalSince1970 }

    /// Takes (or renews) the lease of `executionID` for this instance.
    ///
    /// - Returns: whether this instance now holds it (`false`: another instance's lease has not lapsed).
    func claim(_ executionID: Int) async throws -> Bool {
        let query: SQLQueryString
        if isPostgres {
            query = """
                INSERT INTO execution_leases (execution_id, holder, lease_expires_at)
                VALUES (\(bind: executionID), \(bind: holder), now() + make_interval(secs => \(bind: seconds)))
                ON CONFLICT (execution_id) DO UPDATE
                SET holder = excluded.holder, lease_expires_at = excluded.lease_expires_at
                WHERE execution_leases.lease_expires_at < now() OR execution_leases.holder = excluded.holder
                    OR execution_leases.holder = \(bind: Self.parked)
                RETURNING execution_id
                """
        } else {
            // SQLite has one instance (it owns the data directory, `DataDirectoryLock`): always granted, so
            // a restart after a crash resumes at once.
            query = """
                INSERT INTO execution_leases (execution_id, holder, lease_expires_at)
                VALUES (\(bind: executionID), \(bind: holder), \(bind: Self.unixNow + seconds))
                ON CONFLICT (execution_id) DO UPDATE
                SET holder = excluded.holder, lease_expires_at = excluded.lease_expires_at
                RETURNING execution_id
                """
        }
        return try await !sql.raw(query).all().isEmpty
    }

    /// The heartbeat: extends every lease this instance holds by one lease period.
    ///
    /// - Returns: the executions whose lease this instance still holds (one it had but is missing was
    ///   taken over after it lapsed).
    func renewAll() async throws -> Set<Int> {
        let query: SQLQueryString
        if isPostgres {
            query = """
                UPDATE execution_leases SET lease_expires_at = now() + make_interval(secs => \(bind: seconds))
                WHERE holder = \(bind: holder) RETURNING execution_id
                """
        } else {
            query = """
                UPDATE execution_leases SET lease_expires_at = \(bind: Self.unixNow + seconds)
                WHERE holder = \(bind: holder) RETURNING execution_id
                """
        }
        return Set(try await sql.raw(query).all().map { try $0.decode(column: "execution_id", as: Int.self) })
    }

    /// `holder` of a parked lease: nobody works on the execution, and the heartbeats leave it alone.
    static let parked = ""

    /// Parks the lease of an execution still active whose monitor gave up (`log_timeout`): no instance
    /// resumes it by itself any more, but a webhook or a viewer may start a monitor again (a claim takes a
    /// parked lease), as with one instance.
    func park(_ executionID: Int) async throws {
        let expiry: SQLQueryString = isPostgres ? "'infinity'" : "1e300"
        try await sql.raw(
            """
            UPDATE execution_leases SET holder = \(bind: Self.parked), lease_expires_at = \(expiry)
            WHERE execution_id = \(bind: executionID) AND holder = \(bind: holder)
            """
        ).run()
    }

    /// Hands the lease of `executionID` back (work finished, or graceful shutdown): the row goes, so any
    /// instance may claim it at once.
    func release(_ executionID: Int) async throws {
        try await sql.raw(
            "DELETE FROM execution_leases WHERE execution_id = \(bind: executionID) AND holder = \(bind: holder)"
        ).run()
    }

    /// Whether several instances may share the database (PostgreSQL): leases can be refused, and lapse.
    var isShared: Bool { isPostgres }

    /// Active executions (not in a final status) nobody holds a live lease on, oldest first; on SQLite
    /// every active execution (claims are always granted there).
    func unleasedActive() async throws -> [Int] {
        let active = Execution.Status.allCases.filter { !$0.isTerminal }.map(\.rawValue)
        let lapsed: SQLQueryString = isPostgres ? "l.lease_expires_at < now()" : "1 = 1"
        let query: SQLQueryString = """
            SELECT e.id AS id FROM executions e LEFT JOIN execution_leases l ON l.execution_id = e.id
            WHERE e.status IN (\(binds: active)) AND (l.execution_id IS NULL OR \(lapsed))
            ORDER BY e.id
            """
        return try await sql.raw(query).all().map { try $0.decode(column: "id", as: Int.self) }
    }
}
