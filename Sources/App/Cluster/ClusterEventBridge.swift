import Fluent
import FluentPostgresDriver
import Foundation
import LogStore
import Logging
import PipewrightCore
import Realtime
import SQLKit
import Vapor

/// Carries execution events between instances on one PostgreSQL database with `LISTEN`/`NOTIFY`
/// (https://www.postgresql.org/docs/current/sql-notify.html; docs/scaling.md "Live events across instances").
///
/// The instance that stores lines (the lease holder's monitor) publishes them into its own hub and
/// `announce`s them: one `NOTIFY pipewright_events` per event with the execution, pipeline and seq range —
/// never the lines (a payload is at most 8,000 bytes). Every other instance listens on a dedicated
/// connection; for an execution someone watches there, it reads the announced lines from the shared log
/// store (`StoreSnapshotSource`, the same reader a new subscriber's snapshot uses) and publishes them into
/// its local ``ExecutionEventHub`` with `publish(_:)` — so Socket.IO, WebSocket and SSE viewers on any
/// instance get the same events in seq order and resume (`after_seq`, `Last-Event-ID`) as before.
/// Status, error and timeout events travel whole (their payloads are small).
///
/// After a lost connection the listener reconnects (100 ms doubling to 5 s) and catches every watched
/// execution up from the store. On SQLite (one instance) nothing is sent or listened to.
actor ClusterEventBridge {
    /// The `LISTEN`/`NOTIFY` channel.
    static let channel = "pipewright_events"
    /// Largest `NOTIFY` payload PostgreSQL accepts is 8,000 bytes; whole events above this go as a reference.
    static let maximumInlineEventBytes = 7_000

    /// One notification: short keys keep it far under the payload limit.
    struct Notice: Codable, Sendable {
        enum Kind: String, Codable, Sendable {
            /// Lines `first...seq` of `execution` were stored (read them from the store).
            case logs
            /// A whole status/error/timeout event (`name`, `json`); `json` nil when too big (status read from the database).
            case event
            /// `executions`' leases were handed back (graceful shutdown): claim them now.
            case released
            /// A webhook for `execution` arrived here: its lease holder polls now.
            case wake
        }
        var kind: Kind
        /// Sending instance (`PIPEWRIGHT_INSTANCE_ID`); an instance ignores its own notices.
        var instance: String
        var execution: Int?
        var pipeline: Int?
        var seq: Int?
        var first: Int?
        var name: String?
        var json: String?
        var executions: [Int]?
    }

    private let application: Application
    private let instanceID: String
    private let listenConfiguration: PostgresConnection.Configuration?
    /// PostgreSQL (several instances possible): notices are sent.
    private nonisolated let isShared: Bool
    private let logger: Logger
    private let outbox: AsyncStream<String>.Continuation
    private let outboxStream: AsyncStream<String>
    private var sender: Task<Void, Never>?
    private var listener: Task<Void, Never>?
    /// Per execution: the last seq this instance published into its hub from another instance's notices.
    private var forwarded: [Int: Int] = [:]
    /// Whether the listener is connected (tests, `/health`-style checks).
    private(set) var isListening = false

    /// - Parameters:
    ///   - postgresURL: the `DATABASE_URL` when it is PostgreSQL (`nil`: SQLite, the bridge stays idle).
    init(application: Application, postgresURL: String?, instanceID: String) throws {
        self.application = application
        self.instanceID = instanceID
        listenConfiguration = try postgresURL.map { try SQLPostgresConfiguration(url: $0).coreConfiguration }
        logger = Logger(label: "pipewright.cluster")
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(100_000))
        outboxStream = stream
        outbox = continuation
        isShared = postgresURL != nil
    }

    private var hub: ExecutionEventHub { application.executionEvents }
    private var source: StoreSnapshotSource {
        StoreSnapshotSource(db: application.db, logStore: application.services.logStore)
    }

    // MARK: - Lifecycle

    /// Starts sending and listening (PostgreSQL only).
    func start() {
        guard listenConfiguration != nil, sender == nil else { return }
        let stream = outboxStream
        let app = application
        sender = Task {
            // One sender, in order: notices from one session are delivered in the order sent.
            for await payload in stream {
                guard let sql = app.db as? any SQLDatabase else { continue }
                do {
                    try await sql.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: payload))").run()
                } catch {
                    app.logger.warning("cluster notify failed", metadata: ["error_type": "\(type(of: error))"])
                }
            }
        }
        listener = Task { await self.listenForever() }
    }

    /// Stops listening, then sends what is queued and stops sending (shutdown, before the database closes).
    func stop() async {
        listener?.cancel()
        await listener?.value
        listener = nil
        outbox.finish()
        await sender?.value
        sender = nil
    }

    // MARK: - Sending

    /// Tells the other instances about an event this instance published into its hub (a no-op on SQLite).
    nonisolated func announce(_ event: RealtimeEvent) {
        guard isShared else { return }
        var notice = Notice(
            kind: .logs, instance: instanceID, execution: event.executionID, pipeline: event.pipelineID, seq: event.seq)
        if event.name == .pipelineLogs {
            notice.first = event.firstSeq
        } else {
            notice.kind = .event
            notice.name = event.name.rawValue
            if event.payloadJSON.utf8.count <= Self.maximumInlineEventBytes { notice.json = event.payloadJSON }
        }
        send(notice)
    }

    /// Tells the other instances that these leases were handed back (they claim them at once).
    nonisolated func announceReleased(_ executionIDs: [Int]) {
        guard isShared, !executionIDs.isEmpty else { return }
        // At most ~700 ids per notice, well under the 8,000-byte limit.
        for start in stride(from: 0, to: executionIDs.count, by: 700) {
            let slice = Array(executionIDs[start..<min(start + 700, executionIDs.count)])
            send(Notice(kind: .released, instance: instanceID, executions: slice))
        }
    }

    /// Asks the lease holder of `executionID` to poll now (a webhook arrived at this instance).
    nonisolated func announceWake(_ executionID: Int) {
        guard isShared else { return }
        send(Notice(kind: .wake, instance: instanceID, execution: executionID))
    }

    private nonisolated func send(_ notice: Notice) {
        guard let data = try? JSONEncoder().encode(notice) else { return }
        outbox.yield(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Listening

    private func listenForever() async {
        guard let configuration = listenConfiguration else { return }
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: 1, logger: logger)
                delay = .milliseconds(100)
                do {
                    try await connection.listen(on: Self.channel) { notices in
                        // Anything announced while not listening is read from the store now.
                        await self.connected()
                        for try await notice in notices { await self.handle(notice.payload) }
                    }
                } catch {
                    isListening = false
                    try? await connection.close()
                    throw error
                }
                isListening = false
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                logger.warning(
                    "cluster listener lost its connection; reconnecting",
                    metadata: ["error_type": "\(type(of: error))", "retry_s": "\(delay.seconds)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
        isListening = false
    }

    /// Handles one notice from another instance.
    func handle(_ payload: String) async {
        guard let notice = try? JSONDecoder().decode(Notice.self, from: Data(payload.utf8)),
            notice.instance != instanceID
        else { return }
        switch notice.kind {
        case .logs:
            guard let execution = notice.execution, let seq = notice.seq else { return }
            await forwardLines(execution: execution, pipeline: notice.pipeline, upTo: seq, first: notice.first)
        case .event:
            guard let execution = notice.execution else { return }
            await forwardLines(execution: execution, pipeline: notice.pipeline, upTo: notice.seq ?? 0, first: nil)
            guard await isWatched(execution: execution, pipeline: notice.pipeline),
                let event = await rebuild(notice, execution: execution)
            else { return }
            await hub.publish(event)
            if event.name == .pipelineStatus, let status = event.status,
                Execution.Status(rawValue: status)?.isTerminal == true
            {
                forwarded[execution] = nil
            }
        case .released:
            for execution in notice.executions ?? [] {
                await application.executionSupervisor.claimHandedBack(executionID: execution)
            }
        case .wake:
            guard let execution = notice.execution else { return }
            await application.executionSupervisor.wakeLocal(executionID: execution)
        }
    }

    private func isWatched(execution: Int, pipeline: Int?) async -> Bool {
        if await hub.subscriberCount(.execution(execution)) > 0 { return true }
        guard let pipeline else { return false }
        return await hub.subscriberCount(.pipeline(pipeline)) > 0
    }

    /// Publishes the stored lines after what was forwarded for `execution`, through `upTo`, into the hub
    /// (only when someone here watches it; otherwise just notes the position).
    private func forwardLines(execution: Int, pipeline: Int?, upTo seq: Int, first: Int?) async {
        let have = forwarded[execution] ?? first.map { $0 - 1 } ?? seq
        guard seq > have else { return }
        guard await isWatched(execution: execution, pipeline: pipeline) else {
            forwarded[execution] = seq
            return
        }
        var position = have
        do {
            while position < seq {
                let events = try await source.logEvents(
                    executionID: execution, afterSeq: position, limit: seq - position)
                if events.isEmpty { break }
                for event in events {
                    await hub.publish(event)
                    position = max(position, event.seq)
                }
            }
        } catch {
            logger.warning(
                "cluster: reading announced lines failed",
                metadata: ["execution_id": "\(execution)", "error_type": "\(type(of: error))"])
        }
        forwarded[execution] = max(position, have)
    }

    /// After (re)connecting: lines and status of every execution watched here, from the store.
    private func connected() async {
        isListening = true
        for (execution, have) in forwarded {
            guard await hub.subscriberCount(.execution(execution)) > 0 else { continue }
            let highest = (try? application.services.logStore.highestSeq(execution: execution)) ?? have
            await forwardLines(execution: execution, pipeline: nil, upTo: highest, first: nil)
            if let status = try? await source.statusEvent(executionID: execution) { await hub.publish(status) }
        }
    }

    /// The event a notice carries (decoded with the public payload types and constructors).
    private func rebuild(_ notice: Notice, execution: Int) async -> RealtimeEvent? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        let name = notice.name.flatMap(RealtimeEvent.Name.init(rawValue:))
        guard let json = notice.json.map({ Data($0.utf8) }) else {
            // Too big to travel: the current status from the database (a viewer's snapshot has the same shape).
            return name == .pipelineStatus ? try? await source.statusEvent(executionID: execution) : nil
        }
        switch name {
        case .pipelineStatus?:
            return (try? decoder.decode(PipelineStatusPayload.self, from: json)).map(RealtimeEvent.pipelineStatus)
        case .logError?:
            return (try? decoder.decode(LogErrorPayload.self, from: json)).map {
                RealtimeEvent.logError($0, pipelineID: notice.pipeline, seq: notice.seq ?? 0)
            }
        case .logTimeout?:
            return (try? decoder.decode(LogTimeoutPayload.self, from: json)).map {
                RealtimeEvent.logTimeout($0, pipelineID: notice.pipeline, seq: notice.seq ?? 0)
            }
        case .pipelineLogs?, nil:
            return nil
        }
    }
}

extension Application {
    private struct ClusterEventBridgeKey: StorageKey {
        typealias Value = ClusterEventBridge
    }

    /// The process's bridge to the other instances (created by `configure`).
    var clusterEvents: ClusterEventBridge {
        get { configured(ClusterEventBridgeKey.self) }
        set { storage[ClusterEventBridgeKey.self] = newValue }
    }

    /// Publishes an execution event to this instance's viewers and announces it to the other instances
    /// (every producer of events — monitor, trigger runner, log ingestion — publishes through this).
    func publishExecutionEvent(_ event: RealtimeEvent) async {
        await executionEvents.publish(event)
        clusterEvents.announce(event)
    }
}

/// Starts the bridge after boot and stops it at shutdown (before the database closes).
struct ClusterEventBridgeLifecycle: LifecycleHandler {
    func didBootAsync(_ application: Application) async throws {
        await application.clusterEvents.start()
    }

    func shutdownAsync(_ application: Application) async {
        await application.clusterEvents.stop()
    }
}
