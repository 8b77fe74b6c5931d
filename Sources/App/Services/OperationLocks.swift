import Foundation
import Vapor

/// Named, fail-fast locks: one state-changing operation per resource at a time (e.g. `ssh_key:42` for
/// deploy, undeploy, rotate and delete of key 42; `repository:acme/web` for provisioning).
///
/// A second request for a held name gets 409 `operation_in_progress` at once instead of racing
/// (two rotations, a delete during a deploy). In process a set of held names answers first; with
/// PostgreSQL (`shared`) the name is then also taken as a session-level advisory lock, so the rule holds
/// across every instance on the database (`PostgresAdvisoryLocks`; docs/scaling.md "Locks, idempotency and
/// rate limits"). SQLite: in process only (one instance owns a SQLite data directory).
actor OperationLocks {
    private var held: Set<String> = []
    private let shared: PostgresAdvisoryLocks?

    /// - Parameter shared: the cross-instance advisory locks (PostgreSQL), or `nil` for in-process only.
    init(shared: PostgresAdvisoryLocks? = nil) {
        self.shared = shared
    }

    /// Runs `body` holding `name`.
    ///
    /// - Throws: `AppError.operationInProgress` when `name` is already held, here or by another instance;
    ///   PostgresNIO errors when the shared lock cannot be asked for; whatever `body` throws.
    func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        guard held.insert(name).inserted else { throw AppError.operationInProgress(name) }
        if let shared {
            let granted: Bool
            do {
                granted = try await shared.tryLock(name)
            } catch {
                held.remove(name)
                throw error
            }
            guard granted else {
                held.remove(name)
                throw AppError.operationInProgress(name)
            }
        }
        do {
            let result = try await body()
            await release(name)
            return result
        } catch {
            await release(name)
            throw error
        }
    }

    /// Closes the shared session (application shutdown).
    func close() async {
        await shared?.close()
    }

    /// The shared lock first: until it is released no other caller in this process may ask for it again.
    private func release(_ name: String) async {
        await shared?.unlock(name)
        held.remove(name)
    }
}

/// Named serial queues: `serialized(name)` bodies with the same name run one after another (waiting,
/// never failing), so concurrent identical requests see each other's result (e.g. duplicate triggers).
///
/// In process only; a decision that must also hold across instances takes `TransactionLocks.lock` with the
/// same name inside the transaction that checks and writes (the queue then keeps this process's callers from
/// each holding a pooled connection while they wait for that lock).
actor SerialQueues {
    private var tails: [String: Task<Void, Never>] = [:]

    /// Runs `body` after every earlier call with the same `name` has finished.
    func serialized<T: Sendable>(_ name: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tails[name]
        let work = Task<Result<T, any Error>, Never> {
            await previous?.value
            do { return .success(try await body()) } catch { return .failure(error) }
        }
        let tail = Task<Void, Never> { _ = await work.value }
        tails[name] = tail
        let result = await work.value
        if tails[name] == tail { tails[name] = nil }
        return try result.get()
    }
}

/// Closes the advisory-lock session of `OperationLocks` at shutdown, after in-flight work has finished
/// (registered before `InFlightWorkLifecycle`, so it shuts down after it).
struct OperationLocksLifecycle: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.services.locks.close()
    }
}
