import Foundation

/// Named, in-process, fail-fast locks: one state-changing operation per resource at a time
/// (e.g. `ssh_key:42` for deploy, undeploy, rotate and delete of key 42).
///
/// A second request for a held name gets 409 `operation_in_progress` at once instead of racing
/// (two rotations, a delete during a deploy). Scope: one service process; with several instances on
/// PostgreSQL the database constraints remain the last line of defence.
actor OperationLocks {
    private var held: Set<String> = []
    /// Runs `body` holding `name`.
    ///
    /// - Throws: `AppError.operationInProgress` when `name` is already held; whatever `body` throws.
    func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        guard held.insert(name).inserted else { throw AppError.operationInProgress(name) }
        do {
            let result = try await body()
            held.remove(name)
            return result
        } catch {
            held.remove(name)
            throw error
        }
    }
}

/// Named serial queues: `serialized(name)` bodies with the same name run one after another (waiting,
/// never failing), so concurrent identical requests see each other's result (e.g. duplicate triggers).
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
