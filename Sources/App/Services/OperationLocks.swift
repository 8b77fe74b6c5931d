import Foundation

/// Named, in-process, fail-fast locks: one state-changing operation per resource at a time
/// (e.g. `ssh_key:42` for deploy, undeploy, rotate and delete of key 42).
///
/// A second request for a held name gets 409 `operation_in_progress` at once instead of racing
/// (two rotations, a delete during a deploy). Scope: one service process; with several instances on
/// PostgreSQL the database constraints remain the last line of defence.
actor OperationLocks {
    private var held: Set<String> = []
    private var queues: [String: Task<Void, Never>] = [:]

    /// Runs `body` after every earlier `serialized` call with the same `name` has finished (waits, never
    /// fails): used where concurrent identical requests must see each other's result.
    func serialized<T: Sendable>(_ name: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = queues[name]
        let work = Task<Result<T, any Error>, Never> {
            await previous?.value
            do { return .success(try await body()) } catch { return .failure(error) }
        }
        let tail = Task<Void, Never> { _ = await work.value }
        queues[name] = tail
        let result = await work.value
        if queues[name] == tail { queues[name] = nil }
        return try result.get()
    }

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
