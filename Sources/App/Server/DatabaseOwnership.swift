import Fluent
import FluentPostgresDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import Synchronization
import Vapor

/// Who may rewrite a PostgreSQL database shared by several `serve` instances (docs/operations.md "One
/// owner of a data directory").
///
/// Every running server holds a *shared* session-level advisory lock (key ``lockKey``) on its own
/// connection for its whole life; an offline command that rewrites shared data (`master-key rotate`,
/// `migrate --revert`, `restore`) takes the same lock *exclusively* and is refused while any server holds
/// it (and a server is refused while such a command runs). The connection is separate from Fluent's pool,
/// so the lock never occupies a pooled connection. PostgreSQL drops the lock when the session ends.
///
/// A server also holds, on the same connection, an exclusive advisory lock named after its
/// `PIPEWRIGHT_INSTANCE_ID` (`instance:<id>`, mapped as in ``AdvisoryLockKey``): leases are keyed by that id,
/// so a second instance with the same id would renew leases it never works on (docs/scaling.md
/// "Configuration"); it is refused at start.
///
/// The connection can be lost while the server runs (PostgreSQL restarted, a network cut): PostgreSQL then
/// drops the locks. The server notices at once (the connection's close future), reconnects with backoff and
/// takes its locks again. If an offline command took the database meanwhile, or another instance took its id,
/// it stops serving (``onLost``): going on would write while that command rewrites the data.
final class DatabaseOwnership: Sendable {
    /// `pg_advisory_lock` key: "PIPEWRIG" in ASCII.
    static let lockKey: Int64 = 0x5049_5045_5752_4947
    /// `pg_advisory_lock` key that serialises migrations between instances starting together: "PIPEMIGR".
    static let migrationLockKey: Int64 = 0x5049_5045_4D49_4752

    private struct State {
        var connection: PostgresConnection?
        var released = false
    }
    private let state: Mutex<State>
    private let configuration: PostgresConnection.Configuration
    private let exclusive: Bool
    private let purpose: String
    private let instanceID: String?
    private let logger: Logger
    private let onLost: @Sendable (String) -> Void

    private init(
        connection: PostgresConnection, configuration: PostgresConnection.Configuration, exclusive: Bool,
        purpose: String, instanceID: String?, logger: Logger, onLost: @escaping @Sendable (String) -> Void
    ) {
        self.state = Mutex(State(connection: connection))
        self.configuration = configuration
        self.exclusive = exclusive
        self.purpose = purpose
        self.instanceID = instanceID
        self.logger = logger
        self.onLost = onLost
    }

    /// Takes the lock, or fails at once.
    ///
    /// - Parameters:
    ///   - url: `DATABASE_URL`.
    ///   - exclusive: `true` for offline commands, `false` for `serve`.
    ///   - purpose: for the refusal message.
    ///   - instanceID: `serve`'s `PIPEWRIGHT_INSTANCE_ID`, locked too (`nil` for commands).
    ///   - onLost: called (once) when the locks were lost and cannot be taken again; `serve` stops.
    /// - Throws: `CommandFailure` when the lock is held the other way or the instance id is in use;
    ///   `ConfigurationError` (`DATABASE_URL`) when the database cannot be reached.
    static func acquire(
        url: String, exclusive: Bool, purpose: String, logger: Logger, instanceID: String? = nil,
        onLost: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> DatabaseOwnership {
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        } catch {
            throw ConfigurationError.invalid(variable: "DATABASE_URL", reason: "not a usable PostgreSQL URL")
        }
        let connection: PostgresConnection
        do {
            connection = try await connect(configuration, logger: logger)
        } catch {
            throw ConfigurationError.invalid(
                variable: "DATABASE_URL",
                reason: "cannot connect to PostgreSQL (\(String(reflecting: type(of: error))))")
        }
        if let refusal = try await takeLocks(
            on: connection, exclusive: exclusive, purpose: purpose, instanceID: instanceID, logger: logger)
        {
            try? await connection.close()
            throw CommandFailure(refusal)
        }
        let ownership = DatabaseOwnership(
            connection: connection, configuration: configuration, exclusive: exclusive, purpose: purpose,
            instanceID: instanceID, logger: logger, onLost: onLost)
        ownership.watch(connection)
        return ownership
    }

    private static func connect(_ configuration: PostgresConnection.Configuration, logger: Logger) async throws
        -> PostgresConnection
    {
        try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: logger
        ).get()
    }

    /// Takes the ownership lock (and the instance id's); returns the refusal message when one is held.
    private static func takeLocks(
        on connection: PostgresConnection, exclusive: Bool, purpose: String, instanceID: String?, logger: Logger
    ) async throws -> String? {
        let function = exclusive ? "pg_try_advisory_lock" : "pg_try_advisory_lock_shared"
        guard try await boolean(connection, "SELECT \(function)(\(lockKey))", logger: logger) else {
            return exclusive
                ? "\(purpose) refused: a pipewright server is using this PostgreSQL database (DATABASE_URL); "
                    + "stop every instance first"
                : "serve refused: an offline pipewright command (master-key rotate, migrate --revert or restore) "
                    + "holds this PostgreSQL database (DATABASE_URL); start again when it has finished"
        }
        if let instanceID {
            let key = AdvisoryLockKey("instance:" + instanceID)
            guard
                try await boolean(
                    connection, "SELECT pg_try_advisory_lock(\(key.classID), \(key.objectID))", logger: logger)
            else {
                return "serve refused: another instance runs with PIPEWRIGHT_INSTANCE_ID=\(instanceID) on this "
                    + "PostgreSQL database; every instance needs its own id (unset it for a generated one)"
            }
        }
        return nil
    }

    private static func boolean(_ connection: PostgresConnection, _ sql: String, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        var value = false
        for try await row in rows { value = try row.decode(Bool.self) }
        return value
    }

    /// Re-takes the locks when `connection` closes without ``release()``.
    private func watch(_ connection: PostgresConnection) {
        connection.closeFuture.whenComplete { _ in
            guard !self.state.withLock({ $0.released }) else { return }
            Task { await self.reacquire() }
        }
    }

    /// Reconnects every 0.1 s, then every 0.25 s, until the locks are taken again or refused: the time
    /// between PostgreSQL accepting connections again and this instance holding its locks (when an offline
    /// command could slip in) stays under a few hundred milliseconds.
    private func reacquire() async {
        logger.warning("database ownership lock lost (connection closed); taking it again")
        var delay = Duration.milliseconds(100)
        while !state.withLock({ $0.released }) {
            do {
                let connection = try await Self.connect(configuration, logger: logger)
                if let refusal = try await Self.takeLocks(
                    on: connection, exclusive: exclusive, purpose: purpose, instanceID: instanceID, logger: logger)
                {
                    try? await connection.close()
                    logger.critical("database ownership lock cannot be taken again: \(refusal)")
                    onLost(refusal)
                    return
                }
                let released = state.withLock { state -> Bool in
                    if !state.released { state.connection = connection }
                    return state.released
                }
                if released {
                    try? await connection.close()
                    return
                }
                watch(connection)
                logger.notice("database ownership lock taken again")
                return
            } catch {
                try? await Task.sleep(for: delay)
                delay = .milliseconds(250)
            }
        }
    }

    /// Runs `body` (the migrations) while holding the migration lock on its own connection, so instances that
    /// start together migrate one after the other: the later ones find nothing left to do. Waits for the lock.
    ///
    /// - Throws: `ConfigurationError` (`DATABASE_URL`) when the database cannot be reached; what `body` throws.
    static func serializingMigrations<T: Sendable>(
        url: String, logger: Logger, _ body: () async throws -> T
    ) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await connect(try SQLPostgresConfiguration(url: url).coreConfiguration, logger: logger)
        } catch {
            throw ConfigurationError.invalid(
                variable: "DATABASE_URL",
                reason: "cannot connect to PostgreSQL (\(String(reflecting: type(of: error))))")
        }
        do {
            _ = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT pg_advisory_lock(\(migrationLockKey))"), logger: logger
            ).collect()
            let result = try await body()
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
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
        let connection = state.withLock { state -> PostgresConnection? in
            state.released = true
            defer { state.connection = nil }
            return state.connection
        }
        try? await connection?.close()
    }

    /// For `ServiceBoot`: takes the lock that `access` needs with PostgreSQL and releases it on shutdown.
    static func acquire(for access: DataAccess, configuration: PipewrightConfiguration, app: Application) async throws {
        guard case .postgres(let url) = configuration.database else { return }
        let ownership: DatabaseOwnership
        switch access {
        case .shared: return
        case .serve(let ownershipLost):
            ownership = try await acquire(
                url: url, exclusive: false, purpose: "serve", logger: app.logger,
                instanceID: configuration.cluster.instanceID, onLost: ownershipLost)
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
