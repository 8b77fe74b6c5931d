import Foundation
import Realtime
import Vapor
import NIOWebSocket
import WebSocketKit

/// The open realtime connections of this process, so shutdown can close them (clients reconnect to
/// another instance or after the restart) and tests/metrics can count them.
actor RealtimeConnections {
    private var closers: [UUID: @Sendable () async -> Void] = [:]
    private var transports: [UUID: String] = [:]
    private var accepting = true

    /// Registers a connection; returns `nil` when the service is shutting down (close it at once).
    func register(transport: String, close: @escaping @Sendable () async -> Void) -> UUID? {
        guard accepting else { return nil }
        let id = UUID()
        closers[id] = close
        transports[id] = transport
        return id
    }

    func unregister(_ id: UUID) {
        closers[id] = nil
        transports[id] = nil
    }

    /// Number of open connections, optionally of one transport (`socket.io`, `websocket`, `sse`).
    func count(transport: String? = nil) -> Int {
        guard let transport else { return closers.count }
        return transports.values.filter { $0 == transport }.count
    }

    /// Stops accepting and closes every connection.
    func closeAll() async {
        accepting = false
        let all = Array(closers.values)
        closers = [:]
        transports = [:]
        for close in all { await close() }
    }
}

extension Application {
    private struct RealtimeConnectionsKey: StorageKey {
        typealias Value = RealtimeConnections
    }

    /// Open realtime connections (created by `configure`).
    var realtimeConnections: RealtimeConnections {
        get {
            guard let connections = storage[RealtimeConnectionsKey.self] else {
                fatalError("configure(_:) must run before realtime connections are used")
            }
            return connections
        }
        set { storage[RealtimeConnectionsKey.self] = newValue }
    }
}

/// Closes realtime connections at shutdown, before the supervisor stops the monitors, so clients
/// see a dropped transport and reconnect (Socket.IO clients do so automatically, SSE `EventSource` too).
struct RealtimeLifecycle: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.realtimeConnections.closeAll()
        await application.executionEvents.finishAll()
    }
}

/// Sends text frames on a WebSocket in order, waiting for each write (so a slow reader pushes back on
/// its feeds instead of growing NIO's buffers without bound).
struct WebSocketSender: Sendable {
    let socket: WebSocket

    func send(_ text: String) async throws {
        try await socket.send(text)
    }

    func close(code: WebSocketErrorCode = .goingAway) async {
        try? await socket.close(code: code)
    }
}
