import Crypto
import Fluent
import FluentPostgresDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit

/// The PostgreSQL advisory-lock key of an operation-lock name such as `ssh_key:42` (docs/scaling.md
/// "Locks, idempotency and rate limits").
///
/// Pipewright uses the *two-`int4`* form of the advisory-lock functions (`pg_try_advisory_lock(int4, int4)`),
/// which PostgreSQL keeps apart from the single-`bigint` form (`pg_locks.objsubid` is 2, not 1): the keys can
/// never collide with the `bigint` data-directory ownership lock (`DatabaseOwnership.lockKey`).
///
/// - `classID` (the first `int4`): the first 4 bytes, big-endian, of SHA-256 of the part before the first `:`
///   (`ssh_key`, `repository`, `trigger`, `users`), a fixed number per kind of resource.
/// - `objectID` (the second `int4`): the part after the `:` when it is a decimal integer in `Int32` range
///   (ids: exact, no collision), else the first 4 bytes of its SHA-256 (names such as `acme/web`).
///
/// Worked example: `ssh_key:42` → `(classID: AdvisoryLockKey("ssh_key:0").classID, objectID: 42)`; in
/// `pg_locks` it shows as `classid = classID` (unsigned), `objid = 42`, `objsubid = 2`. Two hashed names of
/// one kind share a key with probability 2⁻³² per pair; the only effect is a spurious
/// `operation_in_progress` (never two holders of one name).
struct AdvisoryLockKey: Sendable, Hashable, CustomStringConvertible {
    var classID: Int32
    var objectID: Int32

    init(_ name: String) {
        let parts = name.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        classID = Self.hash32(String(parts[0]))
        let rest = parts.count > 1 ? String(parts[1]) : ""
        objectID = Int32(rest) ?? Self.hash32(rest)
    }

    var description: String { "(\(classID), \(objectID))" }

    private static func hash32(_ text: String) -> Int32 {
        let digest = Array(SHA256.hash(data: Data(text.utf8)))
        let value = digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Int32(bitPattern: value)
    }
}

/// Session-level PostgreSQL advisory locks on one dedicated connection per process, for operations that
/// last seconds (SSH deploys and rotations): `pg_try_advisory_lock` when an operation starts,
/// `pg_advisory_unlock` when it ends.
///
/// Why a dedicated session and not `pg_try_advisory_xact_lock`: a transaction-scoped lock would keep a pooled
/// connection idle in a transaction for the whole SSH operation (the pool has a few connections per event
/// loop, and the operation itself needs them). Why session locks die right: when an instance dies, its
/// TCP connection closes and PostgreSQL releases every lock of the session at once.
///
/// The connection is opened on first use and again after it was lost; locks held on a lost connection are
/// gone (logged as a warning): the operations that held them finish unprotected against other instances.
/// The caller (`OperationLocks`) guarantees one holder per name in this process, so the session never takes
/// a lock it already holds (session locks are re-entrant and would then need two unlocks).
actor PostgresAdvisoryLocks {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private var connection: PostgresConnection?
    private var connecting: Task<PostgresConnection, any Error>?
    private var held: Set<AdvisoryLockKey> = []
    private var isClosed = false

    /// - Throws: `ConfigurationError` (`DATABASE_URL`) for a URL PostgresNIO cannot use.
    init(url: String, logger: Logger) throws {
        do {
            configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        } catch {
            throw ConfigurationError.invalid(variable: "DATABASE_URL", reason: "not a usable PostgreSQL URL")
        }
        self.logger = logger
    }

    /// Takes the lock of `name` if no other session holds it.
    ///
    /// - Returns: `false` when another session (another instance) holds it.
    /// - Throws: PostgresNIO errors when the database cannot be reached.
    func tryLock(_ name: String) async throws -> Bool {
        let key = AdvisoryLockKey(name)
        let granted = try await queryBool(
            "SELECT pg_try_advisory_lock(\(key.classID)::int4, \(key.objectID)::int4)")
        if granted { held.insert(key) }
        return granted
    }

    /// Releases the lock of `name` (nothing when the session that held it is gone: so is the lock).
    func unlock(_ name: String) async {
        let key = AdvisoryLockKey(name)
        guard held.remove(key) != nil, let connection, !connection.isClosed else { return }
        do {
            _ = try await queryBool("SELECT pg_advisory_unlock(\(key.classID)::int4, \(key.objectID)::int4)")
        } catch {
            logger.warning("advisory unlock failed", metadata: ["lock": "\(name)", "error": "\(error)"])
        }
    }

    /// Closes the session (every lock it holds is released); later calls fail.
    func close() async {
        isClosed = true
        let connection = self.connection
        self.connection = nil
        try? await connection?.close()
    }

    private func queryBool(_ sql: String) async throws -> Bool {
        let rows = try await open().query(PostgresQuery(unsafeSQL: sql), logger: logger)
        var value = false
        for try await row in rows { value = try row.decode(Bool.self) }
        return value
    }

    /// The open session, connecting (once, for concurrent callers) when there is none or it was lost.
    private func open() async throws -> PostgresConnection {
        guard !isClosed else { throw PostgresAdvisoryLocksClosed() }
        if let connection, !connection.isClosed { return connection }
        if connection != nil, !held.isEmpty {
            logger.warning(
                "advisory lock session lost; operations holding locks continue unprotected across instances",
                metadata: ["locks": "\(held.count)"])
            held.removeAll()
        }
        connection = nil
        if let connecting { return try await connecting.value }
        let configuration = self.configuration
        let logger = self.logger
        let task = Task {
            try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger
            ).get()
        }
        connecting = task
        defer { connecting = nil }
        let opened = try await task.value
        connection = opened
        return opened
    }
}

/// `PostgresAdvisoryLocks` used after `close()` (the application is shutting down).
struct PostgresAdvisoryLocksClosed: Error {}

/// Transaction-scoped named locks for short check-then-insert decisions (identical triggers, the last-admin
/// rule) that must see each other across instances.
enum TransactionLocks {
    /// On PostgreSQL waits for `pg_advisory_xact_lock` of `name` (key: `AdvisoryLockKey`), released when the
    /// transaction `tx` ends; later statements of `tx` see everything the previous holder committed. On SQLite
    /// nothing: one process, and `SerialQueues` already orders the callers.
    ///
    /// - Parameter tx: a database *inside* a transaction (outside one, PostgreSQL would release at once).
    static func lock(_ name: String, on tx: any Database) async throws {
        guard let sql = tx as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        let key = AdvisoryLockKey(name)
        try await sql.raw(
            "SELECT pg_advisory_xact_lock(\(unsafeRaw: String(key.classID))::int4, \(unsafeRaw: String(key.objectID))::int4)"
        ).run()
    }
}
