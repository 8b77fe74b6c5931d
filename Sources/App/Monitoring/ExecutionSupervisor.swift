import Bitbucket
import Fluent
import Foundation
import LogStore
import Logging
import PipewrightCore
import Realtime
import SSHKeys
import Vapor

/// Runs the background work of executions: trigger attempts with retries (docs/API.md "Triggering and
/// executions") and exactly one monitor per active execution, whatever the number of viewers
/// (docs/realtime.md "One stream per execution") — and, with several instances on one PostgreSQL
/// database, whatever the number of instances (docs/scaling.md "Leases").
///
/// An execution's trigger attempts and monitor run only where its lease (`ExecutionLeases`) is held:
/// starting either claims the lease first, and a refused claim means another instance does the work.
/// On PostgreSQL a heartbeat every third of `PIPEWRIGHT_MONITOR_LEASE_SECONDS` renews the leases held
/// here, stops work whose lease was lost, and claims active executions whose lease lapsed (their holder
/// died) — so another instance takes over within one lease period. A lease is released when the work
/// ends, and at graceful shutdown handed back with a notice the other instances act on at once. On SQLite
/// (one instance) claims are always granted.
///
/// Started on trigger, on webhook, and at service start for executions still active (restart-safe:
/// the monitor resumes from the log store). Cancelled at shutdown.
actor ExecutionSupervisor {
    private let application: Application
    private var triggers: [Int: Task<Void, Never>] = [:]
    private var monitors: [Int: Task<Void, Never>] = [:]
    private var wakeUps: [Int: WakeSignal] = [:]
    /// Executions whose claim is in flight (the heartbeat must not release them meanwhile).
    private var claiming: Set<Int> = []
    private var heartbeat: Task<Void, Never>?
    private var stopping = false

    init(application: Application) {
        self.application = application
    }

    private var services: AppServices { application.services }
    private var logger: Logger { application.logger }
    private var leases: ExecutionLeases {
        ExecutionLeases(
            db: application.db, holder: services.configuration.cluster.instanceID,
            duration: services.configuration.cluster.monitorLease)
    }

    // MARK: - Public operations

    /// Starts the trigger attempts of a new execution (idempotent per execution; a no-op where another
    /// instance holds the execution's lease).
    func startTrigger(executionID: Int) async {
        guard triggers[executionID] == nil, !stopping, await claim(executionID) else { return }
        guard triggers[executionID] == nil, !stopping else { return }
        let app = application
        triggers[executionID] = Task {
            // Viewers of the pipeline learn about the new execution at once (`pipeline_status`, docs/API.md
            // "Realtime events").
            if let execution = try? await Execution.find(executionID, on: app.db), execution.status == .triggering {
                await app.publishExecutionEvent(
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

    /// Ensures one monitor runs for an active execution (no-op if it already runs here, has ended, or
    /// another instance holds its lease).
    func ensureMonitor(executionID: Int) async {
        guard monitors[executionID] == nil, !stopping, await claim(executionID) else { return }
        guard monitors[executionID] == nil, !stopping else { return }
        let wakes = WakeSignal()
        wakeUps[executionID] = wakes
        let app = application
        PipewrightMetrics.monitorStarted()
        monitors[executionID] = Task {
            await ExecutionMonitor(application: app, executionID: executionID, wakeUps: wakes).run()
            await self.monitorFinished(executionID: executionID)
        }
    }

    /// Makes the execution's monitor poll now (webhook), starting it if needed; when another instance
    /// monitors it, that instance is asked to.
    func wake(executionID: Int) async {
        await ensureMonitor(executionID: executionID)
        if let signal = wakeUps[executionID] {
            await signal.signal()
        } else {
            application.clusterEvents.announceWake(executionID)
        }
    }

    /// Makes the execution's monitor poll now if it runs here (another instance received the webhook).
    func wakeLocal(executionID: Int) async {
        await wakeUps[executionID]?.signal()
    }

    /// Claims an execution whose lease another instance handed back at shutdown.
    func claimHandedBack(executionID: Int) async {
        await resume(executionID)
    }

    /// Number of running monitors (metrics, tests).
    var activeMonitorCount: Int { monitors.count }

    /// Whether a monitor runs for the execution.
    func isMonitoring(executionID: Int) -> Bool { monitors[executionID] != nil }

    /// Resumes triggers and monitors of executions that were active when the service stopped (or whose
    /// holder went away), then starts the heartbeat on PostgreSQL.
    func resumeActive() async {
        await resumeUnleased()
        guard leases.isShared, heartbeat == nil, !stopping else { return }
        let period = services.configuration.cluster.monitorLease / 3
        heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                if Task.isCancelled { return }
                await self.beat()
            }
        }
    }

    /// Cancels all background work and hands the leases back (graceful shutdown; another instance, or
    /// this one at its next start, resumes it).
    func shutdown() async {
        stopping = true
        heartbeat?.cancel()
        await heartbeat?.value
        heartbeat = nil
        let held = Array(Set(triggers.keys).union(monitors.keys))
        let tasks = Array(triggers.values) + Array(monitors.values)
        for task in tasks { task.cancel() }
        for signal in wakeUps.values { await signal.signal() }
        for task in tasks { await task.value }
        triggers = [:]
        for _ in monitors.values { PipewrightMetrics.monitorStopped() }
        monitors = [:]
        var released: [Int] = []
        for id in held {
            do {
                try await leases.release(id)
                released.append(id)
            } catch {
                logger.warning("handing back an execution lease failed", metadata: ["execution_id": "\(id)"])
            }
        }
        application.clusterEvents.announceReleased(released)
    }

    /// Waits until the execution's trigger attempts and monitor have finished (tests).
    func waitUntilIdle(executionID: Int) async {
        while let task = triggers[executionID] ?? monitors[executionID] { await task.value }
    }

    // MARK: - Leases

    private func claim(_ executionID: Int) async -> Bool {
        claiming.insert(executionID)
        defer { claiming.remove(executionID) }
        do {
            return try await leases.claim(executionID)
        } catch {
            logger.error(
                "claiming an execution lease failed",
                metadata: ["execution_id": "\(executionID)", "error_type": "\(type(of: error))"])
            return false
        }
    }

    /// Starts the work an active execution needs (trigger attempts or monitor), if its lease is free.
    private func resume(_ executionID: Int) async {
        guard let execution = try? await Execution.find(executionID, on: application.db),
            !execution.status.isTerminal
        else { return }
        if execution.status == .triggering, execution.bitbucketUUID == nil {
            await startTrigger(executionID: executionID)
        } else {
            await ensureMonitor(executionID: executionID)
        }
    }

    private func resumeUnleased() async {
        do {
            for id in try await leases.unleasedActive() where triggers[id] == nil && monitors[id] == nil {
                await resume(id)
            }
        } catch {
            logger.error("resuming executions failed", metadata: ["error_type": "\(type(of: error))"])
        }
    }

    /// One heartbeat: renew, stop work whose lease was lost, take over lapsed leases.
    private func beat() async {
        guard !stopping else { return }
        do {
            let held = try await leases.renewAll()
            for id in Set(triggers.keys).union(monitors.keys).subtracting(held) where !claiming.contains(id) {
                // Another instance took the execution over after this one's lease lapsed (a stall).
                logger.warning("execution lease lost; stopping its work here", metadata: ["execution_id": "\(id)"])
                triggers[id]?.cancel()
                monitors[id]?.cancel()
                await wakeUps[id]?.signal()
            }
        } catch {
            logger.error("renewing execution leases failed", metadata: ["error_type": "\(type(of: error))"])
        }
        await resumeUnleased()
    }

    // MARK: - Bookkeeping

    private func triggerFinished(executionID: Int) async {
        triggers[executionID] = nil
        await releaseIfIdle(executionID)
    }

    private func monitorFinished(executionID: Int) async {
        if monitors.removeValue(forKey: executionID) != nil { PipewrightMetrics.monitorStopped() }
        wakeUps[executionID] = nil
        // Another instance may write this log next (docs/scaling.md "Log store").
        services.logStore.close(execution: executionID)
        // A monitor that ended while its execution is still active gave up (`log_timeout`, or the pipeline
        // is gone): park the lease, so no heartbeat restarts it; a webhook or a viewer may.
        let active = (try? await Execution.find(executionID, on: application.db)).flatMap { $0 }.map {
            !$0.status.isTerminal
        }
        await releaseIfIdle(executionID, park: active == true)
    }

    /// Hands the lease back (or parks it) once nothing runs here for the execution (not while shutting
    /// down: `shutdown` releases and announces them together).
    private func releaseIfIdle(_ executionID: Int, park: Bool = false) async {
        guard !stopping, triggers[executionID] == nil, monitors[executionID] == nil,
            !claiming.contains(executionID)
        else { return }
        if park {
            try? await leases.park(executionID)
        } else {
            try? await leases.release(executionID)
        }
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
