import Foundation
import Logging
import NIOConcurrencyHelpers
import Vapor

/// Graceful shutdown of `pipewright serve` (README "TLS, reverse proxy, shutdown"), run by the entry point
/// after SIGTERM/SIGINT and before `app.asyncShutdown()`.
///
/// Vapor's own order would close the database (a lifecycle handler) before the HTTP server stops, under
/// the feet of in-flight requests. Here:
/// 1. the listening socket closes (new connections are refused) and idle keep-alive connections close;
///    in-flight requests run on and are answered with `Connection: close` (NIO quiescing);
/// 2. at the same time the drain handlers run (`app.shutdownDrain.use { … }`): realtime transports close
///    WebSocket and SSE streams so clients reconnect to another instance;
/// 3. after `PIPEWRIGHT_SHUTDOWN_GRACE` seconds, requests still running are answered 503 `shutting_down`
///    and their work is cancelled (SSH sessions are killed; the remote `authorized_keys` change is one
///    append or one rename, never half-written), with 2 more seconds to unwind;
/// 4. then `app.asyncShutdown()` runs the lifecycle handlers: monitors are handed back (cancelled, resumed
///    from the database by the next instance), realtime lifecycle handlers close what is left, the
///    database closes; the process exits 0.
public enum GracefulShutdown {
    /// Steps 1-3. Safe when the server never started (other commands).
    public static func drain(_ app: Application) async {
        guard app.http.server.shared.localAddress != nil else { return }
        let grace = app.serverSettings.shutdownGrace
        let inFlight = app.inFlightRequests
        app.logger.notice(
            "shutting down: no new connections; waiting for in-flight requests",
            metadata: [
                "in_flight": .stringConvertible(inFlight.count), "grace_s": .string(RequestTimeoutError.seconds(grace)),
            ])
        let handlers = app.shutdownDrain.handlers
        let finished = NIOLockedValueBox(false)
        // Unstructured: a drain handler that hangs must not hold shutdown past the grace period.
        Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await app.server.shutdown() }
                for handler in handlers { group.addTask { await handler(app) } }
            }
            finished.withLockedValue { $0 = true }
        }
        let deadline = ContinuousClock.now + grace
        while !finished.withLockedValue({ $0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = inFlight.count
        if remaining > 0 {
            app.logger.warning(
                "shutdown grace over: cancelling in-flight requests",
                metadata: ["in_flight": .stringConvertible(remaining)])
            inFlight.abortAll()
            let deadline = ContinuousClock.now + .seconds(2)
            while inFlight.count > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        }
        app.logger.notice("in-flight requests done; stopping background work")
    }
}

/// What runs when shutdown begins (`GracefulShutdown` step 2): close long-lived connections.
public final class ShutdownDrain: Sendable {
    private let box = NIOLockedValueBox<[@Sendable (Application) async -> Void]>([])

    /// Registers `handler` (for example: close every WebSocket with 1001 "going away", end SSE streams).
    public func use(_ handler: @escaping @Sendable (Application) async -> Void) {
        box.withLockedValue { $0.append(handler) }
    }

    var handlers: [@Sendable (Application) async -> Void] { box.withLockedValue { $0 } }
}

/// Requests between `RequestTimeoutMiddleware` entry and response, so shutdown can abort what the grace
/// period did not finish.
final class InFlightRequests: Sendable {
    private let box = NIOLockedValueBox<[ObjectIdentifier: @Sendable () -> Void]>([:])

    var count: Int { box.withLockedValue { $0.count } }

    /// Adds an abort action under `key`; returns nothing, remove with `remove(_:)`.
    func insert(_ key: ObjectIdentifier, abort: @escaping @Sendable () -> Void) {
        box.withLockedValue { $0[key] = abort }
    }

    func remove(_ key: ObjectIdentifier) {
        box.withLockedValue { _ = $0.removeValue(forKey: key) }
    }

    /// Calls every abort action (each answers its request 503 `shutting_down` and cancels its work).
    func abortAll() {
        let actions = box.withLockedValue { Array($0.values) }
        for action in actions { action() }
    }
}

/// 503 `shutting_down`: the service stopped before the request finished; retry against another instance.
struct ShuttingDownError: APIErrorConvertible {
    var status: HTTPResponseStatus { .serviceUnavailable }
    var code: String { "shutting_down" }
    var message: String { "The service is shutting down; the request was cancelled. Retry shortly." }
    var details: [String: String] { [:] }
}

extension Application {
    private struct ShutdownDrainKey: StorageKey { typealias Value = ShutdownDrain }
    private struct InFlightRequestsKey: StorageKey { typealias Value = InFlightRequests }
    private struct ServerSettingsKey: StorageKey { typealias Value = ServerSettings }

    /// Handlers run when graceful shutdown begins (close realtime connections here).
    public var shutdownDrain: ShutdownDrain {
        if let existing = storage[ShutdownDrainKey.self] { return existing }
        let created = ShutdownDrain()
        storage[ShutdownDrainKey.self] = created
        return created
    }

    /// Requests in flight (set up by `configure`).
    var inFlightRequests: InFlightRequests {
        if let existing = storage[InFlightRequestsKey.self] { return existing }
        let created = InFlightRequests()
        storage[InFlightRequestsKey.self] = created
        return created
    }

    /// The HTTP settings `configure` applied.
    var serverSettings: ServerSettings {
        get { storage[ServerSettingsKey.self] ?? ServerSettings() }
        set { storage[ServerSettingsKey.self] = newValue }
    }
}

/// Waits, at shutdown, for request work still running after its response went out (a request that
/// timed out keeps running until its cancellation lands), so that work never outlives the database.
/// Bounded: after `limit` the shutdown goes on.
struct InFlightWorkLifecycle: LifecycleHandler {
    var limit: Duration = .seconds(10)

    func shutdownAsync(_ application: Application) async {
        let requests = application.inFlightRequests
        requests.abortAll()
        let deadline = ContinuousClock.now + limit
        while requests.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
