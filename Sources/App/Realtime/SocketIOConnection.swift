import Fluent
import Foundation
import Logging
import NIOWebSocket
import PipewrightCore
import Realtime
import Synchronization
import Vapor
import WebSocketKit

/// One Engine.IO v4 session over a WebSocket, carrying the Socket.IO v5 main namespace `/`.
///
/// Protocol: Engine.IO v4 (open packet, server-initiated heartbeat, packet types;
/// https://socket.io/docs/v4/engine-io-protocol/) and Socket.IO v5 (CONNECT/CONNECT_ERROR/EVENT/ACK/
/// DISCONNECT; https://socket.io/docs/v4/socket-io-protocol/); behaviour as seen by clients in
/// docs/realtime.md "Socket.IO". Sequence:
/// 1. the server sends `0{"sid","upgrades":[],"pingInterval","pingTimeout","maxPayload"}`;
/// 2. the client sends `40{…auth}` within `connectTimeout`, authenticated by `{"token":"pw_…"}` in the
///    auth object, else by the upgrade request's `Authorization: Bearer` header or session cookie;
///    success → `40{"sid"}`, failure → `44{"message":"unauthorized","data":{"code":401}}`;
/// 3. events `42[<id>]["name",{…}]` go to the `RealtimeSession`; acks return as `43<id>[{…}]`;
/// 4. every `pingInterval` the server sends `2` and drops the connection when no `3` arrives within
///    `pingTimeout`. A malformed frame closes the connection (conformance suite behaviour).
final class SocketIOConnection: Sendable {
    /// The user the upgrade request authenticated (header or cookie), used when CONNECT has no token.
    private let upgradeUser: AuthenticatedUser?
    private let application: Application
    private let sender: WebSocketSender
    private let writer: WebSocketFrameWriter
    private let engineSID: String
    private let state = Mutex(State())
    private let pongs = WakeSignal()
    private let logger: Logger
    static let connectTimeout: Duration = .seconds(10)

    private struct State {
        var registryID: UUID?
        var session: RealtimeSession?
        var lastPong = ContinuousClock.now
        var closed = false
    }

    init(application: Application, socket: WebSocket, upgradeUser: AuthenticatedUser?, logger: Logger) {
        self.application = application
        self.sender = WebSocketSender(socket: socket)
        self.writer = WebSocketFrameWriter(socket: socket, encoding: .socketIO)
        self.upgradeUser = upgradeUser
        self.engineSID = Self.randomSID()
        self.logger = logger
    }

    /// Runs the session until the socket closes. `frames` are the socket's text frames in order.
    func run(frames: AsyncStream<String>, registryID: UUID) async {
        state.withLock { $0.registryID = registryID }
        let settings = application.services.configuration.realtime
        let handshake = EngineIOHandshake(
            sid: engineSID,
            pingIntervalMilliseconds: Int(settings.pingInterval.seconds * 1000),
            pingTimeoutMilliseconds: Int(settings.pingTimeout.seconds * 1000),
            maxPayload: settings.maxPayload)
        guard (try? await sender.send(handshake.frame)) != nil else { return }
        let heartbeat = Task { await self.heartbeat(interval: settings.pingInterval, timeout: settings.pingTimeout) }
        let connectDeadline = Task {
            try await Task.sleep(for: Self.connectTimeout)
            if self.state.withLock({ $0.session == nil }) { await self.close() }
        }
        for await frame in frames {
            let outcome = await handle(frame: frame)
            guard case .keepOpen = outcome else {
                if case .close(let code) = outcome { await sender.close(code: code) }
                break
            }
        }
        heartbeat.cancel()
        connectDeadline.cancel()
        await pongs.signal()
        let session = state.withLock { state -> RealtimeSession? in
            state.closed = true
            defer { state.session = nil }
            return state.session
        }
        await session?.close()
    }

    /// Closes the WebSocket (clients with reconnection enabled come back).
    func close() async {
        await sender.close(code: .goingAway)
    }

    // MARK: - Frames

    /// What to do with the connection after a frame.
    enum Outcome {
        case keepOpen
        /// Close with this WebSocket status (RFC 6455 §7.4.1): 1000 on the client's Engine.IO close,
        /// 1002 on a protocol violation, 1008 after a refused CONNECT.
        case close(WebSocketErrorCode)
    }

    /// Handles one text frame.
    private func handle(frame: String) async -> Outcome {
        let packet: EngineIOPacket
        do { packet = try EngineIOPacket.decode(frame) } catch { return .close(.protocolError) }
        switch packet {
        case .pong:
            state.withLock { $0.lastPong = .now }
            await pongs.signal()
            return .keepOpen
        case .close:
            return .close(.normalClosure)
        case .message(let body):
            let socketPacket: SocketIOPacket
            do { socketPacket = try SocketIOPacket.decode(body) } catch { return .close(.protocolError) }
            return await handle(socketPacket)
        case .open, .ping, .upgrade, .noop:
            return .keepOpen  // not expected from a WebSocket-only client; ignored as python-engineio does
        }
    }

    private func handle(_ packet: SocketIOPacket) async -> Outcome {
        switch packet.kind {
        case .connect:
            return await connect(packet)
        case .disconnect:
            let session = state.withLock { state -> RealtimeSession? in
                defer { state.session = nil }
                return state.session
            }
            await session?.close()
            return .keepOpen
        case .event:
            guard packet.namespace == "/", let session = state.withLock({ $0.session }), let event = packet.event else {
                return .close(.protocolError)  // events before CONNECT, or for a namespace never joined
            }
            var ack: (@Sendable (String) async throws -> Void)?
            if let id = packet.ackID {
                let sender = self.sender
                ack = { json in try await sender.send(SocketIOPacket.ackFrame(ackID: id, argumentsJSON: [json])) }
            }
            await session.handle(event: event.name, argument: event.arguments.first, ack: ack)
            return .keepOpen
        case .ack:
            return .keepOpen  // the server never asks clients for acks
        case .connectError, .binaryEvent, .binaryAck:
            return .close(.protocolError)
        }
    }

    private func connect(_ packet: SocketIOPacket) async -> Outcome {
        guard packet.namespace == "/" else {
            try? await sender.send(
                SocketIOPacket.connectErrorFrame(namespace: packet.namespace, message: "Invalid namespace"))
            return .keepOpen
        }
        var user = upgradeUser
        let checkedAt = ContinuousClock.now
        if let token = packet.payload?["token"] {
            user = nil
            if let token = token.stringValue {
                user = try? await AuthenticationMiddleware.user(
                    bearerToken: token, on: application.db, now: application.services.now())
            }
        }
        guard let user, !user.mustChangePassword else {
            // Refused: the client tears the connection down itself; closing here too keeps one
            // connection from trying token after token.
            try? await sender.send(
                SocketIOPacket.connectErrorFrame(
                    namespace: "/", message: "unauthorized", data: "{\"code\":401}"))
            return .close(.policyViolation)
        }
        let sender = self.sender
        if let registryID = state.withLock({ $0.registryID }) {
            await application.realtimeConnections.authenticated(registryID, by: RealtimeCredential(user.method))
        }
        let writer = self.writer
        // A token in CONNECT was just checked against the database; a header or cookie at the upgrade.
        let session = RealtimeSession(
            application: application, user: user, close: { await sender.close() }, writer: writer,
            credentialCheckedAt: packet.payload?["token"] != nil ? checkedAt : nil
        ) { event in
            try await writer.send(event)
        }
        let previous = state.withLock { state -> RealtimeSession? in
            defer { state.session = session }
            return state.session
        }
        await previous?.close()
        do {
            try await sender.send(SocketIOPacket.connectFrame(namespace: "/", sid: Self.randomSID()))
        } catch {
            return .close(.goingAway)
        }
        return .keepOpen
    }

    // MARK: - Heartbeat

    /// Server-initiated heartbeat (Engine.IO v4): `2` every `interval`, close when no `3` within `timeout`.
    private func heartbeat(interval: Duration, timeout: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            let sentAt = ContinuousClock.now
            guard (try? await sender.send(EngineIOPacket.ping("").encoded)) != nil else { return }
            while true {
                let remaining = timeout - (ContinuousClock.now - sentAt)
                if state.withLock({ $0.lastPong >= sentAt }) { break }
                if remaining <= .zero || Task.isCancelled {
                    if !Task.isCancelled {
                        logger.debug("socket.io client missed its pong; closing", metadata: ["sid": "\(engineSID)"])
                        await close()
                    }
                    return
                }
                await pongs.wait(for: remaining, clock: ContinuousClock())
            }
        }
    }

    /// 20 URL-safe random characters, like the reference server's ids.
    static func randomSID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}
