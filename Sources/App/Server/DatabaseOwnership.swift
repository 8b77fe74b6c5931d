import Fluent
import FluentPostgresDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import Vapor

/// Who may rewrite a PostgreSQL database shared by several `serve` instances (docs/operations.md "One
/// owner of a data directory").
///
/// Every running server holds a *shared* session-level advisory lock (key ``lockKey``) on its own
/// connection for its whole life; an offline command that rewrites shared data (`master-key rotate`,
/// `migrate --revert`, `restore`) takes the same lock *exclusively* and is refused while any server holds
/// it (and a server is refused while such a command runs). The connection is separate from Fluent's pool,
/// so the lock never occupies a pooled connection. PostgreSQL drops the lock when the session ends.
final class DatabaseOwnership: Sendable {
    /// `pg_advisory_lock` key: "PIPEWRIG" in ASCII.
    static let lockKey: Int64 = 0x5049_5045_5752_4947

    private let connection: PostgresConnection

    private init(connection: PostgresConnection) { self.connection = connection }

    /// Takes the lock, or fails at once.
    ///
    /// - Parameters:
    ///   - url: `DATABASE_URL`.
    ///   - exclusive: `true` for offline commands, `false` for `serve`.
    ///   - purpose: for the refusal message.
    /// - Throws: `CommandFailure` when the lock is held the other way; `ConfigurationError` (`DATABASE_URL`)
    ///   when the database cannot be reached.
    static func acquire(url: String, exclusive: Bool, purpose: String, logger: Logger) async throws
        -> DatabaseOwnership
    {
        let connection: PostgresConnection
        do {
            let configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
            connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: logger
            ).get()
        } catch {
            throw ConfigurationError.invalid(
                variable: "DATABASE_URL",
                reason: "cannot connect to PostgreSQL (\(String(reflecting: type(of: error))))")
        }
        let function = exclusive ? "pg_try_advisory_lock" : "pg_try_advisory_lock_shared"
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(function)(\(lockKey))"), logger: logger)
        var granted = false
        for try await row in rows { granted = try row.decode(Bool.self) }
        guard granted else {
            try? await connection.close()
            throw CommandFailure(
                exclusive
                    ? "\(purpose) refused: a pipewright server is using this PostgreSQL database (DATABASE_URL); "
                        + "stop every instance first"
                    : "serve refused: an offline pipewright command (master-key rotate, migrate --revert or restore) "
                        + "holds this PostgreSQL database (DATABASE_URL); start again when it has finished")
        }
        return DatabaseOwnership(connection: connection)
    }

    /// How many server sessions hold the lock now (`pg_locks`; a bigint key is split into `classid`, the
    /// high 32 bits, and `objid`, the low 32 bits, with `objsubid` 1).
    static func runningServers(on database: any Database) async throws -> Int {
        guard let sql = database as? any SQLDatabase else { return 1 }
        let high = UInt32(truncatingIfNeeded: lockKey >> 32)
        let low = UInt32(truncatingIfNeeded: lockKey)
        let query: SQLQueryString =
            "SELECT count(DISTINCT pid) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
            + "AND classid = \(unsafeRaw: String(high)) AND objid = \(unsafeRaw: String(low))"
        return try await sql.raw(query).first(decodingColumn: "n", as: Int.self) ?? 1
    }

    /// Releases the lock (closing the session drops it).
    func release() async {
        try? await connection.close()
    }

    /// For `ServiceBoot`: takes the lock that `access` needs with PostgreSQL and releases it on shutdown.
    static func acquire(for access: DataAccess, configuration: PipewrightConfiguration, app: Application) async throws {
        guard case .postgres(let url) = configuration.database else { return }
        let ownership: DatabaseOwnership
        switch access {
        case .shared: return
        case .serve: ownership = try await acquire(url: url, exclusive: false, purpose: "serve", logger: app.logger)
        case .rewrite(let purpose):
            ownership = try await acquire(url: url, exclusive: true, purpose: purpose, logger: app.logger)
        }
        app.lifecycle.use(Release(ownership: ownership))
    }

    /// Closes the lock session when the application shuts down.
    private struct Release: LifecycleHandler {
        let ownership: DatabaseOwnership
        func shutdownAsync(_ application: Application) async { await ownership.release() }
    }
}
