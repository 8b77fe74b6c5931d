import Fluent
import Foundation
import LogStore
import PipewrightCore
import Vapor

/// Deletes stored logs of executions that finished more than `PIPEWRIGHT_LOG_RETENTION_DAYS` ago
/// (docs/API.md "Logs").
/// Never touches an execution that is still active. Runs at start-up and then every six hours.
enum LogRetention {
    /// Prunes once.
    ///
    /// - Returns: the execution ids whose logs were deleted.
    @discardableResult
    static func prune(application: Application, now: Date) async throws -> [Int] {
        let days = application.services.configuration.logRetentionDays
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        let store = application.services.logStore
        var deleted: [Int] = []
        for id in try store.storedExecutions() {
            let execution = try await Execution.find(id, on: application.db)
            if let execution, !execution.status.isTerminal { continue }
            let finished = execution?.finishedAt ?? store.lastModified(execution: id) ?? now
            guard finished < cutoff else { continue }
            try store.delete(execution: id)
            deleted.append(id)
        }
        if !deleted.isEmpty {
            application.logger.info(
                "pruned logs", metadata: ["executions": "\(deleted.count)", "retention_days": "\(days)"])
        }
        return deleted
    }
}

/// Runs `LogRetention.prune` at boot and every six hours until shutdown.
final class LogRetentionLifecycle: LifecycleHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    func didBootAsync(_ application: Application) async throws {
        let work = Task {
            while !Task.isCancelled {
                do {
                    try await LogRetention.prune(application: application, now: application.services.now())
                } catch {
                    application.logger.warning("log retention failed", metadata: ["error_type": "\(type(of: error))"])
                }
                try? await Task.sleep(for: .seconds(6 * 3600))
            }
        }
        lock.withLock { task = work }
    }

    func shutdownAsync(_ application: Application) async {
        let work = lock.withLock { task }
        work?.cancel()
        await work?.value
    }
}
