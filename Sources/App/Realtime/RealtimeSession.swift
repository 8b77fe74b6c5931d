import Fluent
import Foundation
import LogStore
import PipewrightCore
import Realtime
import Vapor

/// One viewer's subscriptions on one realtime connection, whatever the transport (docs/API.md "Realtime events").
///
/// Handles the seed's client requests and runs one `ExecutionFeed` per subscribed topic:
/// - `subscribe_pipeline_status {"execution_id"? | "pipeline_id"?, "after_seq"?}` → ack
///   `{"ok": true, "status", "execution_id", "after_seq"}`, then the snapshot, then live events;
/// - `get_execution_status {"execution_id"}` → ack `{"ok": true, "execution": {…}}` (the
///   `GET /api/executions/{id}` shape);
/// - `unsubscribe {"execution_id"? | "pipeline_id"?}` (no field: everything) → ack `{"ok": true}`.
/// Refusals are acks `{"ok": false, "error": {"code", "message"}}`; a viewer only ever reaches
/// executions and pipelines it may read (others are `not_found`, as over HTTP).
actor RealtimeSession {
    typealias Emit = @Sendable (RealtimeEvent) async throws -> Void

    private let application: Application
    let user: AuthenticatedUser
    private let emit: Emit
    /// The connection, when the hub may write live events to it directly (WebSocket transports).
    private let writer: (any RealtimeFrameWriter)?
    /// Closes the connection (credential revoked).
    private let closeConnection: @Sendable () async -> Void
    private var feeds: [RealtimeTopic: Task<Void, Never>] = [:]
    private var feedIDs: [RealtimeTopic: UUID] = [:]
    /// When CONNECT checked the credential against the database; used once, by the first request.
    private var credentialCheckedAt: ContinuousClock.Instant?
    /// How long CONNECT's credential check stands for the first request on the connection (a viewer's
    /// `subscribe_pipeline_status` right after CONNECT costs no second token lookup). Every later request is
    /// checked against the database; revoking a token or ending a session through the API closes the
    /// connections at once anyway (`RealtimeConnections`).
    static let credentialCheckValidity: Duration = .seconds(1)

    /// - Parameter credentialCheckedAt: when the caller last checked `user`'s credential against the database
    ///   (CONNECT); `nil` makes the first request check it.
    init(
        application: Application, user: AuthenticatedUser, close: @escaping @Sendable () async -> Void = {},
        writer: (any RealtimeFrameWriter)? = nil, credentialCheckedAt: ContinuousClock.Instant? = nil,
        emit: @escaping Emit
    ) {
        self.writer = writer
        self.application = application
        self.user = user
        self.closeConnection = close
        self.credentialCheckedAt = credentialCheckedAt
        self.emit = emit
    }

    /// Whether the credential is still valid: CONNECT's check for the first request when it is recent, else
    /// the database.
    private func credentialIsValid() async throws -> Bool {
        if let checked = credentialCheckedAt {
            credentialCheckedAt = nil
            if ContinuousClock.now - checked < Self.credentialCheckValidity { return true }
        }
        return try await RealtimeCredential(user.method).isValid(on: application.db, now: application.services.now())
    }

    /// Handles one client event; `ack` (when the client asked for one) receives the ack payload JSON.
    func handle(event name: String, argument: JSONValue?, ack: (@Sendable (String) async throws -> Void)?) async {
        do {
            // A token revoked or a session ended since the connection opened ends the connection.
            guard try await credentialIsValid() else {
                try? await ack?(
                    "{\"ok\":false,\"error\":{\"code\":\"unauthenticated\",\"message\":\"Sign in again.\"}}")
                close()
                await closeConnection()
                return
            }
            switch name {
            case "subscribe_pipeline_status":
                try await subscribe(argument, ack: ack)
            case "get_execution_status":
                guard
                    let execution = try await Execution.find(
                        try requiredID(argument, "execution_id"), on: application.db)
                else { throw RealtimeError.notFound("Execution") }
                let attempts = try await TriggerAttempt.query(on: application.db)
                    .filter(\.$execution.$id == execution.requireID()).all()
                let response = try ExecutionResponse(execution, attempts: attempts)
                let json = try Self.encoder.encode(response)
                try await ack?("{\"ok\":true,\"execution\":" + String(decoding: json, as: UTF8.self) + "}")
            case "unsubscribe":
                await unsubscribe(try topic(argument, required: false))
                try await ack?("{\"ok\":true}")
            default:
                throw RealtimeError.unknownEvent(String(name.prefix(100)))
            }
        } catch {
            let (code, message) = Self.describe(error)
            try? await ack?(
                "{\"ok\":false,\"error\":{\"code\":\(Self.quote(code)),\"message\":\(Self.quote(message))}}")
        }
    }

    /// Cancels every feed (connection closed).
    func close() {
        for task in feeds.values { task.cancel() }
        feeds = [:]
        feedIDs = [:]
    }

    /// Subscriptions one connection may hold at once (each holds a hub buffer).
    static let maximumSubscriptions = 64

    /// Number of active subscriptions (tests).
    var subscriptionCount: Int { feeds.count }

    // MARK: - Requests

    private func subscribe(_ argument: JSONValue?, ack: (@Sendable (String) async throws -> Void)?) async throws {
        guard let topic = try topic(argument, required: true) else { return }
        var afterSeq = try optionalInt(argument, "after_seq", range: 0...Int(Int32.max)) ?? 0
        let snapshotExecution: ExecutionHead?
        switch topic {
        case .execution(let id):
            snapshotExecution = try await readableExecution(id)
        case .pipeline(let id):
            guard try await Pipeline.find(id, on: application.db) != nil else {
                throw RealtimeError.notFound("Pipeline")
            }
            snapshotExecution = try await Execution.query(on: application.db).filter(\.$pipeline.$id == id)
                .sort(\.$id, .descending).first().map(ExecutionHead.init)
        }
        let executionID = snapshotExecution?.id
        if let executionID {
            // A position beyond the stored log (a client that remembers another store) resumes at its end.
            let store = application.services.logStore
            let highest =
                store.hasLog(execution: executionID) ? ((try? store.highestSeq(execution: executionID)) ?? 0) : 0
            afterSeq = min(afterSeq, highest)
        }
        if let snapshotExecution { await application.monitorIfRunning(snapshotExecution) }
        let ackJSON =
            "{\"ok\":true,\"status\":\(snapshotExecution.map { Self.quote($0.status.rawValue) } ?? "null"),"
            + "\"execution_id\":\(executionID.map(String.init) ?? "null"),\"after_seq\":\(afterSeq)}"
        await stopFeed(topic)
        guard feeds.count < Self.maximumSubscriptions else {
            throw RealtimeError.invalidRequest(
                field: "subscriptions", reason: "at most \(Self.maximumSubscriptions) per connection; unsubscribe first"
            )
        }
        let feed = application.executionFeed
        let emit = self.emit
        let writer = self.writer
        let logger = application.logger
        let feedID = UUID()
        feedIDs[topic] = feedID
        feeds[topic] = Task {
            do {
                try await feed.run(
                    topic: topic, snapshotExecutionID: executionID, afterSeq: afterSeq, writer: writer,
                    ready: { try await ack?(ackJSON) }, emit: emit)
            } catch is CancellationError {
            } catch {
                logger.debug("realtime feed ended", metadata: ["error_type": "\(type(of: error))"])
            }
            await self.feedEnded(topic, feedID)
        }
    }

    /// Forgets a feed that ended by itself (slow consumer, connection error), unless it was replaced.
    private func feedEnded(_ topic: RealtimeTopic, _ id: UUID) {
        guard feedIDs[topic] == id else { return }
        feeds[topic] = nil
        feedIDs[topic] = nil
    }

    private func unsubscribe(_ topic: RealtimeTopic?) async {
        if let topic {
            await stopFeed(topic)
        } else {
            let all = Array(feeds.keys)
            for topic in all { await stopFeed(topic) }
        }
    }

    /// Cancels a topic's feed and waits for it, so nothing of it is sent after the next ack.
    private func stopFeed(_ topic: RealtimeTopic) async {
        feedIDs[topic] = nil
        guard let task = feeds.removeValue(forKey: topic) else { return }
        task.cancel()
        await task.value
    }

    private func readableExecution(_ id: Int) async throws -> ExecutionHead {
        guard let execution = try await ExecutionHead.find(id, on: application.db) else {
            throw RealtimeError.notFound("Execution")
        }
        return execution
    }

    // MARK: - Argument parsing

    private func topic(_ argument: JSONValue?, required: Bool) throws -> RealtimeTopic? {
        if let argument, !argument.isObject, argument != .null {
            throw RealtimeError.invalidRequest(field: "data", reason: "must be an object")
        }
        if argument?["execution_id"] != nil, argument?["pipeline_id"] != nil {
            throw RealtimeError.invalidRequest(
                field: "pipeline_id", reason: "send execution_id or pipeline_id, not both")
        }
        if argument?["execution_id"] != nil {
            return .execution(try requiredID(argument, "execution_id"))
        }
        if argument?["pipeline_id"] != nil {
            return .pipeline(try requiredID(argument, "pipeline_id"))
        }
        if required {
            throw RealtimeError.invalidRequest(field: "execution_id", reason: "execution_id or pipeline_id is required")
        }
        return nil
    }

    private func requiredID(_ argument: JSONValue?, _ field: String) throws -> Int {
        guard let value = argument?[field] else {
            throw RealtimeError.invalidRequest(field: field, reason: "is required")
        }
        guard let id = value.intValue, id >= 1, id <= Int(Int32.max) else {
            throw RealtimeError.invalidRequest(field: field, reason: "must be a positive integer")
        }
        return id
    }

    private func optionalInt(_ argument: JSONValue?, _ field: String, range: ClosedRange<Int>) throws -> Int? {
        guard let value = argument?[field], value != .null else { return nil }
        guard let number = value.intValue, range.contains(number) else {
            throw RealtimeError.invalidRequest(
                field: field, reason: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    // MARK: - Encoding

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func quote(_ text: String) -> String {
        JSONValue.string(text).jsonText
    }

    /// Code and message safe to show the client (no internals).
    static func describe(_ error: any Error) -> (String, String) {
        switch error {
        case let error as RealtimeError: (error.code, error.message)
        case let error as any PipewrightError: (error.code, error.message)
        default: ("internal_error", "The request could not be completed.")
        }
    }
}
