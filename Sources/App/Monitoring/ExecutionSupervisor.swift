import Bitbucket
import Fluent
import Foundation
import Logging
import PipewrightCore
import Realtime
import SSHKeys
import Vapor

/// Runs the background work of executions: trigger attempts with retries (docs/API.md "Triggering and
/// executions") and exactly one monitor per active execution, whatever the number of viewers
/// (docs/realtime.md "One stream per execution").
///
/// Started on trigger, on webhook, and at service start for executions still active (restart-safe:
/// the monitor resumes from the database). Cancelled at shutdown.
actor ExecutionSupervisor {
    private let application: Application
    private var triggers: [Int: Task<Void, Never>] = [:]
    private var monitors: [Int: Task<Void, Never>] = [:]
    private var wakeUps: [Int: WakeSignal] = [:]

    init(application: Application) {
        self.application = application
    }

    private var services: AppServices { application.services }
    private var logger: Logger { application.logger }

    // MARK: - Public operations

    /// Starts the trigger attempts of a new execution (idempotent per execution).
    func startTrigger(executionID: Int) {
        guard triggers[executionID] == nil else { return }
        let app = application
        triggers[executionID] = Task {
            // Viewers of the pipeline learn about the new execution at once (`pipeline_status`, docs/API.md
            // "Realtime events").
            if let execution = try? await Execution.find(executionID, on: app.db), execution.status == .triggering {
                await app.executionEvents.publish(
                    .pipelineStatus(
                        PipelineStatusPayload(
                            executionID: executionID, pipelineID: execution.$pipeline.id,
                            status: execution.status.rawValue,
                            previousStatus: nil, steps: [], seq: 0)))
            }
            await TriggerRunner(application: app).run(executionID: executionID)
            await self.triggerFinished(executionID: executionID)
        }
    }

    /// Ensures one monitor runs for an active execution (no-op if it already runs or has ended).
    func ensureMonitor(executionID: Int) {
        guard monitors[executionID] == nil else { return }
        let wakes = WakeSignal()
        wakeUps[executionID] = wakes
        let app = application
        PipewrightMetrics.monitorStarted()
        monitors[executionID] = Task {
            await ExecutionMonitor(application: app, executionID: executionID, wakeUps: wakes).run()
            await self.monitorFinished(executionID: executionID)
        }
    }

    /// Makes the execution's monitor poll now (webhook), starting it if needed.
    func wake(executionID: Int) async {
        ensureMonitor(executionID: executionID)
        await wakeUps[executionID]?.signal()
    }

    /// Number of running monitors (metrics, tests).
    var activeMonitorCount: Int { monitors.count }

    /// Whether a monitor runs for the execution.
    func isMonitoring(executionID: Int) -> Bool { monitors[executionID] != nil }

    /// Resumes triggers and monitors of executions that were active when the service stopped.
    func resumeActive() async {
        do {
            let active = try await Execution.query(on: application.db)
                .filter(\.$status ~~ Execution.Status.allCases.filter { !$0.isTerminal })
                .all()
            for execution in active {
                guard let id = execution.id else { continue }
                if execution.status == .triggering, execution.bitbucketUUID == nil {
                    startTrigger(executionID: id)
                } else {
                    ensureMonitor(executionID: id)
                }
            }
        } catch {
            logger.error("resuming executions failed", metadata: ["error_type": "\(type(of: error))"])
        }
    }

    /// Cancels all background work (graceful shutdown; monitors resume at the next start).
    func shutdown() async {
        let tasks = Array(triggers.values) + Array(monitors.values)
        for task in tasks { task.cancel() }
        for signal in wakeUps.values { await signal.signal() }
        for task in tasks { await task.value }
        triggers = [:]
        for _ in monitors.values { PipewrightMetrics.monitorStopped() }
        monitors = [:]
    }

    /// Waits until the execution's trigger attempts and monitor have finished (tests).
    func waitUntilIdle(executionID: Int) async {
        while let task = triggers[executionID] ?? monitors[executionID] { await task.value }
    }

    // MARK: - Bookkeeping

    private func triggerFinished(executionID: Int) {
        triggers[executionID] = nil
    }

    private func monitorFinished(executionID: Int) {
        if monitors.removeValue(forKey: executionID) != nil { PipewrightMetrics.monitorStopped() }
        wakeUps[executionID] = nil
    }
}

extension Application {
    private struct ExecutionSupervisorKey: StorageKey {
        typealias Value = ExecutionSupervisor
    }

    /// The process's execution supervisor (created by `configure`).
    var executionSupervisor: ExecutionSupervisor {
        get { configured(ExecutionSupervisorKey.self) }
        set { storage[ExecutionSupervisorKey.self] = newValue }
    }
}

/// Starts the supervisor's resume at boot and cancels its work at shutdown.
struct ExecutionSupervisorLifecycle: LifecycleHandler {
    func didBootAsync(_ application: Application) async throws {
        await application.executionSupervisor.resumeActive()
    }

    func shutdownAsync(_ application: Application) async {
        await application.executionSupervisor.shutdown()
    }
}
