import Fluent
import Foundation
import NIOCore
import NIOWebSocket
import Realtime
import Synchronization
import Vapor
import WebSocketKit

/// The open realtime connections of this process, so shutdown can close them (clients reconnect to
/// another instance or after the restart) and tests/metrics can count them.
actor RealtimeConnections {
    private var closers: [UUID: @Sendable () async -> Void] = [:]
    private var transports: [UUID: PipewrightMetrics.Transport] = [:]
    private var credentials: [UUID: RealtimeCredential] = [:]
    private var accepting = true

    /// Registers a connection; returns `nil` when the service is shutting down (close it at once).
    func register(
        transport: PipewrightMetrics.Transport, credential: RealtimeCredential? = nil,
        close: @escaping @Sendable () async -> Void
    ) -> UUID? {
        guard accepting else { return nil }
        let id = UUID()
        closers[id] = close
        transports[id] = transport
        credentials[id] = credential
        PipewrightMetrics.realtimeConnectionOpened(transport: transport)
        return id
    }

    /// Records what authenticated the connection (Socket.IO authenticates after the upgrade).
    func authenticated(_ id: UUID, by credential: RealtimeCredential) {
        guard closers[id] != nil else { return }
        credentials[id] = credential
    }

    func unregister(_ id: UUID) {
        closers[id] = nil
        credentials[id] = nil
        if let transport = transports.removeValue(forKey: id) {
            PipewrightMetrics.realtimeConnectionClosed(transport: transport)
        }
    }

    /// Closes every connection authenticated by `credential` (token revoked, session ended).
    func close(authenticatedBy credential: RealtimeCredential) async {
        let ids = credentials.filter { $0.value == credential }.map(\.key)
        for id in ids {
            let close = closers[id]
            unregister(id)
            await close?()
        }
    }

    /// Number of open connections, optionally of one transport.
    func count(transport: PipewrightMetrics.Transport? = nil) -> Int {
        guard let transport else { return closers.count }
        return transports.values.filter { $0 == transport }.count
    }

    /// Stops accepting and closes every connection.
    func closeAll() async {
        accepting = false
        let all = Array(closers.values)
        for transport in transports.values { PipewrightMetrics.realtimeConnectionClosed(transport: transport) }
        closers = [:]
        transports = [:]
        credentials = [:]
        for close in all { await close() }
    }
}

/// What authenticated a realtime connection: an API token or a session (by id).
enum RealtimeCredential: Sendable, Hashable {
    case token(Int)
    case session(Int)

    init(_ method: AuthenticatedUser.Method) {
        switch method {
        case .bearerToken(let id): self = .token(id)
        case .session(let id, _): self = .session(id)
        }
    }

    /// Whether the token or session still exists, has not expired, and its user is neither disabled nor
    /// deleted.
    func isValid(on db: any Database, now: Date) async throws -> Bool {
        switch self {
        case .token(let id):
            guard
                let token = try await APIToken.query(on: db).join(User.self, on: \APIToken.$user.$id == \User.$id)
                    .filter(\.$id == id).first()
            else { return false }
            let user = try token.joined(User.self)
            return (token.expiresAt.map { $0 > now } ?? true) && user.isActive
        case .session(let id):
            guard
                let session = try await UserSession.query(on: db).join(
                    User.self, on: \UserSession.$user.$id == \User.$id
                ).filter(\.$id == id).first()
            else { return false }
            let user = try session.joined(User.self)
            return session.expiresAt > now && user.isActive
        }
    }
}

extension Application {
    private struct RealtimeConnectionsKey: StorageKey {
        typealias Value = RealtimeConnections
    }

    /// Open realtime connections (created by `configure`).
    var realtimeConnections: RealtimeConnections {
        get { configured(RealtimeConnectionsKey.self) }
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

/// Writes realtime events as text frames on a WebSocket, each event encoded once for every viewer (the
/// frame's bytes are kept in the event's ``SharedEncodings`` and the same buffer is written to every socket).
///
/// Back-pressure (docs/realtime.md "Fan-out"): bytes handed to the socket's event loop and not yet written
/// to the kernel are counted; above ``allowanceBytes`` the writer is not writable, the hub stops writing to
/// it, and the viewer's feed takes over with awaited writes (its bounded buffer, then `slow_consumer`).
final class WebSocketFrameWriter: RealtimeFrameWriter {
    /// How an event becomes a text frame.
    enum Encoding: String, Sendable {
        /// Socket.IO v5 EVENT in an Engine.IO v4 message: `42["name",{…}]`.
        case socketIO = "socket.io"
        /// Plain WebSocket JSON: `{"event":"name","data":{…}}`.
        case webSocket = "websocket"
    }

    /// Queued, unwritten bytes above which the connection counts as not writable (1 MiB: a few hundred
    /// merged frames, far more than a reading client ever has outstanding).
    static let allowanceBytes = 1 << 20

    let socket: WebSocket
    let encoding: Encoding
    private let queuedBytes = Atomic<Int>(0)
    private let outbox: EventLoopOutbox

    init(socket: WebSocket, encoding: Encoding) {
        self.socket = socket
        self.encoding = encoding
        self.outbox = EventLoopOutbox.of(socket.eventLoop)
    }

    var isWritable: Bool { !socket.isClosed && queuedBytes.load(ordering: .relaxed) < Self.allowanceBytes }

    /// The event's frame bytes, made by the first writer that needs them.
    func frame(_ event: RealtimeEvent) -> ByteBuffer {
        let encoding = self.encoding
        return event.encodings.value(encoding.rawValue) {
            ByteBuffer(string: encoding == .socketIO ? event.socketIOFrame : event.webSocketMessage)
        }
    }

    func write(_ event: RealtimeEvent) {
        let buffer = frame(event)
        queuedBytes.add(buffer.readableBytes, ordering: .relaxed)
        outbox.enqueue(self, buffer)
    }

    /// On the event loop (from the outbox): hands the frame to the socket; its bytes stop counting once written.
    fileprivate func writeOnLoop(_ buffer: ByteBuffer) {
        let size = buffer.readableBytes
        let promise = socket.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in self.queuedBytes.subtract(size, ordering: .relaxed) }
        socket.send(buffer, opcode: .text, fin: true, promise: promise)
    }

    func send(_ event: RealtimeEvent) async throws {
        let promise = socket.eventLoop.makePromise(of: Void.self)
        socket.send(frame(event), opcode: .text, fin: true, promise: promise)
        try await promise.futureResult.get()
    }

    var barrierKey: ObjectIdentifier { ObjectIdentifier(socket.eventLoop) }

    func barrier() async {
        // Fails only when the event loop has shut down, and then nothing is left to wait for.
        _ = try? await socket.eventLoop.submit {}.get()
    }
}

/// The frames the hub's fan-out queued for the sockets of one event loop, written by one task on that loop:
/// one cross-thread hand-off per loop and fan-out instead of one per viewer and frame. Frames of one socket
/// keep their order, and stay ahead of anything queued on the loop after them (the task is scheduled when
/// the first frame arrives).
final class EventLoopOutbox: Sendable {
    private let loop: any EventLoop
    private let frames = Mutex<[(WebSocketFrameWriter, ByteBuffer)]>([])
    private static let all = Mutex<[ObjectIdentifier: EventLoopOutbox]>([:])

    private init(loop: any EventLoop) { self.loop = loop }

    /// The outbox of `loop` (one per event loop for the life of the process).
    static func of(_ loop: any EventLoop) -> EventLoopOutbox {
        all.withLock { outboxes in
            if let outbox = outboxes[ObjectIdentifier(loop)] { return outbox }
            let outbox = EventLoopOutbox(loop: loop)
            outboxes[ObjectIdentifier(loop)] = outbox
            return outbox
        }
    }

    func enqueue(_ writer: WebSocketFrameWriter, _ buffer: ByteBuffer) {
        let first = frames.withLock { frames in
            frames.append((writer, buffer))
            return frames.count == 1
        }
        if first { loop.execute { self.drain() } }
    }

    private func drain() {
        let batch = frames.withLock { frames in
            defer { frames = [] }
            return frames
        }
        for (writer, buffer) in batch { writer.writeOnLoop(buffer) }
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
