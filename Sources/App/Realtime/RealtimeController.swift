import Fluent
import Foundation
import NIOWebSocket
import PipewrightCore
import Realtime
import Vapor
import WebSocketKit

/// The realtime endpoints (docs/realtime.md, docs/API.md "Realtime events"), all fed by the same `ExecutionFeed`:
/// - `GET /socket.io/?EIO=4&transport=websocket` — Socket.IO v5 over Engine.IO v4, WebSocket only;
///   polling, other EIO versions and requests without `Upgrade: websocket` get HTTP 400 with an
///   Engine.IO JSON error (`{"code":0,"message":"Transport unknown"}`, `{"code":5,…}`), a foreign
///   `Origin` 403 `{"code":4,"message":"Forbidden"}` — never a bare 101 (a client that starts with
///   long-polling must see the 400; Vapor's `webSocket` route would answer a GET that is not an upgrade
///   with 101 anyway, so this is a plain GET route that upgrades itself; docs/realtime.md "Socket.IO");
/// - `GET /api/ws` — plain WebSocket, JSON `{"event","data","id"?}` both ways (signed in);
/// - `GET /api/executions/{id}/events` — Server-Sent Events with `id: <seq>` and `Last-Event-ID` resume.
struct RealtimeController {
    let services: AppServices

    /// `/socket.io/` sits outside `/api` and authenticates at CONNECT, so it is registered on the root.
    func bootSocketIO(routes: any RoutesBuilder) {
        routes.get("socket.io", use: socketIO)
    }

    /// `/api/ws` and the SSE route, on a builder that already requires a signed-in user.
    func bootSignedIn(routes: any RoutesBuilder) {
        routes.get("ws", use: plainWebSocket)
        routes.get("executions", ":executionID", "events", use: serverSentEvents)
    }

    // MARK: - Socket.IO

    @Sendable func socketIO(req: Request) async throws -> Response {
        guard req.query[String.self, at: "EIO"] == "4" else {
            return Self.engineIOError(.badRequest, code: 5, "Unsupported protocol version")
        }
        guard req.query[String.self, at: "transport"] == "websocket", Self.isWebSocketUpgrade(req) else {
            return Self.engineIOError(.badRequest, code: 0, "Transport unknown")
        }
        guard req.query[String.self, at: "sid"] == nil else {
            return Self.engineIOError(.badRequest, code: 1, "Session ID unknown")
        }
        guard
            Self.originAllowed(
                req, settings: services.configuration.realtime, publicURL: services.configuration.publicURL)
        else {
            return Self.engineIOError(.forbidden, code: 4, "Forbidden")
        }
        let upgradeUser = try await Self.upgradeUser(req, now: services.now())
        let application = req.application
        let logger = req.logger
        return req.webSocket(maxFrameSize: Self.frameLimit(services.configuration.realtime)) { _, socket in
            let connection = SocketIOConnection(
                application: application, socket: socket, upgradeUser: upgradeUser, logger: logger)
            let frames = Self.textFrames(of: socket)
            Task {
                guard
                    let id = await application.realtimeConnections.register(
                        transport: .socketIO, close: { await connection.close() })
                else {
                    try? await socket.close(code: .goingAway)
                    return
                }
                await connection.run(frames: frames, registryID: id)
                await application.realtimeConnections.unregister(id)
            }
        }
    }

    // MARK: - Plain WebSocket

    @Sendable func plainWebSocket(req: Request) async throws -> Response {
        let user = try req.requireUser()
        guard Self.isWebSocketUpgrade(req) else {
            throw AppError.invalidField("Upgrade", reason: "this endpoint only speaks WebSocket (Upgrade: websocket)")
        }
        guard
            Self.originAllowed(
                req, settings: services.configuration.realtime, publicURL: services.configuration.publicURL)
        else {
            throw AppError.forbidden("This Origin may not open realtime connections.")
        }
        let application = req.application
        let settings = services.configuration.realtime
        return req.webSocket(maxFrameSize: Self.frameLimit(settings)) { _, socket in
            socket.pingInterval = .milliseconds(Int64(settings.pingInterval.seconds * 1000))
            let frames = Self.textFrames(of: socket)
            Task {
                let sender = WebSocketSender(socket: socket)
                guard
                    let id = await application.realtimeConnections.register(
                        transport: .webSocket, credential: RealtimeCredential(user.method),
                        close: { await sender.close() })
                else {
                    await sender.close()
                    return
                }
                let writer = WebSocketFrameWriter(socket: socket, encoding: .webSocket)
                let session = RealtimeSession(
                    application: application, user: user, close: { await sender.close() }, writer: writer
                ) { event in
                    try await writer.send(event)
                }
                for await frame in frames {
                    await Self.handlePlainMessage(frame, session: session, sender: sender)
                }
                await session.close()
                await application.realtimeConnections.unregister(id)
            }
        }
    }

    /// One client message `{"event","data","id"?}` → the session; the ack returns as
    /// `{"event":"ack","id":<id>,"data":{…}}`. A message that is not such an object gets
    /// `{"event":"error","data":{"code":"invalid_message","message":…}}` and the connection stays open.
    static func handlePlainMessage(_ frame: String, session: RealtimeSession, sender: WebSocketSender) async {
        guard let message = JSONValue.parse(frame[...]), let name = message["event"]?.stringValue else {
            try? await sender.send(
                "{\"event\":\"error\",\"data\":{\"code\":\"invalid_message\",\"message\":\"Expected a JSON object {\\\"event\\\", \\\"data\\\", \\\"id\\\"}.\"}}"
            )
            return
        }
        // Requests with an `id` (integer or string) get an ack; without one, only refusals are reported.
        let id = message["id"].flatMap { value -> String? in
            switch value {
            case .int, .string: value.jsonText
            default: nil
            }
        }
        let ack: (@Sendable (String) async throws -> Void)? = { json in
            if let id {
                try await sender.send("{\"event\":\"ack\",\"id\":\(id),\"data\":\(json)}")
            } else if json.hasPrefix("{\"ok\":false") {
                try await sender.send("{\"event\":\"error\",\"data\":\(json)}")
            }
        }
        await session.handle(event: name, argument: message["data"], ack: ack)
    }

    // MARK: - Server-Sent Events

    @Sendable func serverSentEvents(req: Request) async throws -> Response {
        let execution = try await Execution.find(
            try FieldRules.pathID(req, "executionID"), visibleTo: try req.requireUser(), on: req.db)
        let afterSeq = try Self.resumePosition(req)
        return await Self.serverSentEventStream(
            req, execution: execution, afterSeq: afterSeq, credential: RealtimeCredential(try req.requireUser().method)
        ) { $0.serverSentEvent }
    }

    /// A Server-Sent Events response for one execution: `retry: 2000`, the snapshot after `afterSeq`, then
    /// live events, each written as `render` formats it (`nil` skips the event), a `: ping` comment every
    /// heartbeat; it ends after the final status, on shutdown or revocation, or when the client goes. The
    /// JSON API (`/api/executions/{id}/events`) and the dashboard's live log (`/executions/{id}/live`) use it.
    static func serverSentEventStream(
        _ req: Request, execution: Execution, afterSeq: Int, credential: RealtimeCredential,
        render: @escaping @Sendable (RealtimeEvent) -> String?
    ) async -> Response {
        let executionID = execution.id ?? 0
        let application = req.application
        await application.monitorIfRunning(execution)
        let heartbeat = application.services.configuration.realtime.sseHeartbeat
        let feed = application.executionFeed
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "event-stream", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .cacheControl, value: "no-cache")
        headers.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        let body = Response.Body(managedAsyncStream: { writer in
            let closed = WakeSignal()
            guard
                let id = await application.realtimeConnections.register(
                    transport: .serverSentEvents, credential: credential, close: { await closed.signal() })
            else { return }
            defer { Task { await application.realtimeConnections.unregister(id) } }
            try await writer.writeBuffer(ByteBuffer(string: "retry: 2000\n\n"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await feed.run(
                        topic: .execution(executionID), snapshotExecutionID: executionID, afterSeq: afterSeq
                    ) {
                        event in
                        if let text = render(event) { try await writer.writeBuffer(ByteBuffer(string: text)) }
                        // The stream ends after the final status (curl returns; EventSource should close()).
                        if event.name == .pipelineStatus, let status = event.status,
                            Execution.Status(rawValue: status)?.isTerminal == true
                        {
                            throw CancellationError()
                        }
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeat)
                        try await writer.writeBuffer(ByteBuffer(string: ": ping\n\n"))
                    }
                }
                group.addTask {
                    // Ends on shutdown/revocation (signal) or when the group is cancelled.
                    await withTaskCancellationHandler {
                        await closed.wait(for: .seconds(86_400 * 365), clock: ContinuousClock())
                    } onCancel: {
                        Task { await closed.signal() }
                    }
                }
                // Whichever ends first (client gone → write error, shutdown → closed) ends the stream.
                _ = try? await group.next()
                group.cancelAll()
            }
        })
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `Last-Event-ID` (SSE reconnection, WHATWG HTML §9.2.4) or `?after_seq`; 0 when neither is sent.
    static func resumePosition(_ req: Request) throws -> Int {
        // An empty `Last-Event-ID` header does not hide a malformed `after_seq` (a fuzz finding).
        let header = req.headers.first(name: "Last-Event-ID").flatMap { $0.isEmpty ? nil : $0 }
        let raw = header ?? req.query[String.self, at: "after_seq"]
        guard let raw, !raw.isEmpty else { return 0 }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), value >= 0, value <= Int(Int32.max) else {
            throw AppError.invalidField(
                "after_seq", reason: "must be a whole number from 0 to 2147483647 (Last-Event-ID, else after_seq)")
        }
        return value
    }

    // MARK: - Shared

    static func isWebSocketUpgrade(_ req: Request) -> Bool {
        req.headers[.upgrade].contains { $0.lowercased().contains("websocket") }
            && req.headers[.connection].contains { $0.lowercased().contains("upgrade") }
    }

    /// Frame limit a little above the advertised `maxPayload` (Vapor's default of 16 KiB is far too low).
    static func frameLimit(_ settings: PipewrightConfiguration.RealtimeSettings) -> WebSocketMaxFrameSize {
        WebSocketMaxFrameSize(integerLiteral: settings.maxPayload + 4096)
    }

    /// Browsers do not apply CORS to WebSockets, so the server checks `Origin` (docs/realtime.md "Origins"):
    /// absent → allowed (non-browser clients); else it must be listed in `PIPEWRIGHT_ALLOWED_ORIGINS`
    /// (`*` allows any), or — with no list — match the request's own `Host` or `PIPEWRIGHT_PUBLIC_URL`.
    static func originAllowed(_ req: Request, settings: PipewrightConfiguration.RealtimeSettings, publicURL: String)
        -> Bool
    {
        let origins = req.headers[.origin]
        guard !origins.isEmpty else { return true }
        // Every Origin header must pass (a second one cannot smuggle a foreign origin past the first).
        return origins.allSatisfy { origin in
            let normalized = (origin.hasSuffix("/") ? String(origin.dropLast()) : origin).lowercased()
            if !settings.allowedOrigins.isEmpty {
                return settings.allowedOrigins.contains("*")
                    || settings.allowedOrigins.contains { $0.lowercased() == normalized }
            }
            if normalized == publicURL.lowercased() { return true }
            guard let host = req.headers.first(name: .host)?.lowercased() else { return false }
            return normalized == "http://\(host)" || normalized == "https://\(host)"
        }
    }

    /// The user the upgrade request's `Authorization` header or session cookie names, if any.
    static func upgradeUser(_ req: Request, now: Date) async throws -> AuthenticatedUser? {
        if let bearer = req.headers.bearerAuthorization {
            return try await AuthenticationMiddleware.user(bearerToken: bearer.token, on: req.db, now: now)
        }
        if let cookie = req.cookies[AuthenticationMiddleware.sessionCookie]?.string, !cookie.isEmpty {
            return try await AuthenticationMiddleware.user(sessionCookie: cookie, on: req.db, now: now)
        }
        return nil
    }

    /// The socket's text frames, in order. A client that floods faster than they are handled (over
    /// 1,024 pending frames) is disconnected rather than buffered without bound; binary frames close
    /// the connection (this server speaks JSON only).
    static func textFrames(of socket: WebSocket) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(1_024))
        socket.onText { socket, text in
            if case .dropped = continuation.yield(text) {
                _ = socket.close(code: .policyViolation)
            }
        }
        socket.onBinary { socket, _ in
            _ = socket.close(code: .unacceptableData)
        }
        socket.onClose.whenComplete { _ in continuation.finish() }
        return stream
    }

    static func engineIOError(_ status: HTTPResponseStatus, code: Int, _ message: String) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(
            status: status, headers: headers,
            body: .init(string: "{\"code\":\(code),\"message\":\(JSONValue.string(message).jsonText)}"))
    }
}
