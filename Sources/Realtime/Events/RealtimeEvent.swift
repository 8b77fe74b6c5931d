import Foundation
import Synchronization

/// One event about an execution, as every transport delivers it (docs/API.md "Realtime events").
///
/// The JSON payload is encoded once, at publication; transports wrap it in their own framing
/// (Socket.IO `42["name",payload]`, plain WebSocket `{"event","data"}`, SSE `id:`/`event:`/`data:`).
public struct RealtimeEvent: Sendable {
    /// Event names, identical on every transport.
    public enum Name: String, Sendable, Equatable, CaseIterable {
        case pipelineStatus = "pipeline_status"
        case pipelineLogs = "pipeline_logs"
        case logError = "log_error"
        case logTimeout = "log_timeout"
    }

    public let name: Name
    public let executionID: Int
    public let pipelineID: Int?
    /// Position in the execution's stream: for `pipeline_logs` the last line's `seq`, for the other
    /// events the highest `seq` stored when they were published (they consume no number).
    public let seq: Int
    /// For `pipeline_logs`: the first line's `seq`.
    public let firstSeq: Int?
    /// For `pipeline_status`: the new status (subscribers skip a status they already delivered).
    public let status: String?
    /// Payload JSON object text.
    public let payloadJSON: String
    /// The typed logs payload (kept to trim lines a subscriber already has).
    public let logs: PipelineLogsPayload?
    /// For `pipeline_logs`: UTF-8 offset of the `[` that opens the `lines` array in `payloadJSON`.
    let linesOffset: Int?
    /// Transport encodings of this event, made once and shared by every copy of it (the hub hands the
    /// same event to all viewers of an execution, so a frame is encoded once per event, not per viewer).
    public let encodings = SharedEncodings()

    /// Approximate memory held by the event (payload bytes), for subscriber buffer limits.
    public var byteCount: Int { payloadJSON.utf8.count + 64 }

    init(
        name: Name, executionID: Int, pipelineID: Int?, seq: Int, firstSeq: Int? = nil, status: String? = nil,
        payloadJSON: String, logs: PipelineLogsPayload? = nil, linesOffset: Int? = nil
    ) {
        self.name = name
        self.executionID = executionID
        self.pipelineID = pipelineID
        self.seq = seq
        self.firstSeq = firstSeq
        self.status = status
        self.payloadJSON = payloadJSON
        self.logs = logs
        self.linesOffset = linesOffset
    }

    // MARK: - Construction

    /// `pipeline_status` (docs/API.md "Realtime events"): emitted only on change.
    public static func pipelineStatus(_ payload: PipelineStatusPayload) -> RealtimeEvent {
        RealtimeEvent(
            name: .pipelineStatus, executionID: payload.executionID, pipelineID: payload.pipelineID, seq: payload.seq,
            status: payload.status, payloadJSON: encode(payload))
    }

    /// `pipeline_logs` events for `lines` of one step, split so no event exceeds `maximumBytes` of
    /// line text or `maximumLines` lines (large deltas would otherwise hit clients' `maxPayload`).
    public static func pipelineLogs(
        executionID: Int, pipelineID: Int?, step: StepRef, lines: [LogLinePayload],
        maximumLines: Int = 1_000, maximumBytes: Int = 256 * 1024
    ) -> [RealtimeEvent] {
        var events: [RealtimeEvent] = []
        var chunk: [LogLinePayload] = []
        var bytes = 0
        func flush() {
            guard !chunk.isEmpty else { return }
            events.append(
                logsEvent(
                    PipelineLogsPayload(executionID: executionID, step: step, lines: chunk), pipelineID: pipelineID))
            chunk = []
            bytes = 0
        }
        for line in lines {
            if !chunk.isEmpty && (chunk.count >= maximumLines || bytes + line.text.utf8.count > maximumBytes) {
                flush()
            }
            chunk.append(line)
            bytes += line.text.utf8.count
        }
        flush()
        return events
    }

    static func logsEvent(_ payload: PipelineLogsPayload, pipelineID: Int?) -> RealtimeEvent {
        let prefix = logsPayloadPrefix(payload)
        return RealtimeEvent(
            name: .pipelineLogs, executionID: payload.executionID, pipelineID: pipelineID,
            seq: payload.lines.last?.seq ?? 0, firstSeq: payload.lines.first?.seq,
            payloadJSON: prefix + encode(payload.lines) + "}", logs: payload, linesOffset: prefix.utf8.count)
    }

    /// `{"execution_id":N,"step":{…},"lines":` — written by hand so `lines` is always last (JSONEncoder does
    /// not promise key order), which lets `mergedLogs` join payloads without re-encoding them.
    static func logsPayloadPrefix(_ payload: PipelineLogsPayload) -> String {
        "{\"execution_id\":\(payload.executionID),\"step\":" + encode(payload.step) + ",\"lines\":"
    }

    /// `log_error` (`code` is snake_case, e.g. `bitbucket_unavailable`, `slow_consumer`).
    public static func logError(_ payload: LogErrorPayload, pipelineID: Int?, seq: Int) -> RealtimeEvent {
        RealtimeEvent(
            name: .logError, executionID: payload.executionID ?? 0, pipelineID: pipelineID, seq: seq,
            payloadJSON: encode(payload))
    }

    /// `log_timeout`: the monitor gave up after `PIPEWRIGHT_MONITOR_TIMEOUT`.
    public static func logTimeout(_ payload: LogTimeoutPayload, pipelineID: Int?, seq: Int) -> RealtimeEvent {
        RealtimeEvent(
            name: .logTimeout, executionID: payload.executionID, pipelineID: pipelineID, seq: seq,
            payloadJSON: encode(payload))
    }

    /// Consecutive logs events of one execution and step (in seq order) as one event, its payload spliced
    /// from theirs (`{…,"lines":[` + each array's content + `]}`), so merging costs a copy, not a JSON
    /// encode. Returns `events` unchanged when they cannot be merged (nothing is ever dropped).
    static func mergedLogs(_ events: [RealtimeEvent]) -> [RealtimeEvent] {
        guard events.count > 1, let first = events.first, let logs = first.logs, let last = events.last,
            let firstOffset = first.linesOffset
        else { return events }
        var bodies: [Substring.UTF8View] = []
        var lines: [LogLinePayload] = []
        for event in events {
            guard let more = event.logs, more.step == logs.step, more.executionID == logs.executionID,
                let offset = event.linesOffset, event.payloadJSON.hasSuffix("]}")
            else { return events }
            let utf8 = event.payloadJSON[...].utf8
            bodies.append(utf8.dropFirst(offset + 1).dropLast(2))  // between `[` and `]}`
            lines += more.lines
        }
        var json = String(decoding: first.payloadJSON.utf8.prefix(firstOffset), as: UTF8.self) + "["
        json += bodies.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",")
        json += "]}"
        return [
            RealtimeEvent(
                name: .pipelineLogs, executionID: first.executionID, pipelineID: first.pipelineID, seq: last.seq,
                firstSeq: first.firstSeq, payloadJSON: json,
                logs: PipelineLogsPayload(executionID: logs.executionID, step: logs.step, lines: lines),
                linesOffset: firstOffset)
        ]
    }

    /// Runs of consecutive logs events of one execution and step with contiguous `seq` merged by
    /// ``mergedLogs(_:)``, each merged event holding at most `maximumLines` lines and `maximumBytes` bytes of
    /// payload; other events keep their place. Order and content are unchanged: the hub's flush window
    /// (docs/realtime.md "Fan-out") uses this to send one frame per window instead of one per batch.
    ///
    /// Example: logs 1–10, logs 11–20 (same step), status, logs 21–30 → logs 1–20, status, logs 21–30.
    public static func coalesced(
        _ events: [RealtimeEvent], maximumLines: Int = 1_000, maximumBytes: Int = 256 * 1024
    ) -> [RealtimeEvent] {
        guard events.count > 1 else { return events }
        var result: [RealtimeEvent] = []
        var run: [RealtimeEvent] = []
        var lines = 0
        var bytes = 0
        func flush() {
            result += mergedLogs(run)
            run = []
            lines = 0
            bytes = 0
        }
        for event in events {
            let count = event.logs?.lines.count ?? 0
            let size = event.payloadJSON.utf8.count
            if let previous = run.last {
                let joins =
                    event.name == .pipelineLogs && event.executionID == previous.executionID
                    && event.logs?.step == previous.logs?.step && event.firstSeq == previous.seq + 1
                    && lines + count <= maximumLines && bytes + size <= maximumBytes
                if !joins { flush() }
            }
            if event.name == .pipelineLogs, event.linesOffset != nil {
                run.append(event)
                lines += count
                bytes += size
            } else {
                result.append(event)
            }
        }
        flush()
        return result
    }

    /// The same logs event with only the lines after `seq` (and up to `upTo`), nil when none remain.
    func trimmed(after seq: Int, upTo last: Int = .max) -> RealtimeEvent? {
        guard let logs else { return self }
        // Common case first (a live viewer that is exactly caught up): nothing to cut, no copy.
        if let first = logs.lines.first?.seq, first > seq, (logs.lines.last?.seq ?? 0) <= last { return self }
        let remaining = logs.lines.filter { $0.seq > seq && $0.seq <= last }
        guard !remaining.isEmpty else { return nil }
        if remaining.count == logs.lines.count { return self }
        return Self.logsEvent(
            PipelineLogsPayload(executionID: logs.executionID, step: logs.step, lines: remaining),
            pipelineID: pipelineID)
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(rfc3339(date))
        }
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Payloads are plain structs of strings and numbers: encoding cannot fail.
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    // MARK: - Frame limit

    /// Bytes a transport adds around a payload, at most: Socket.IO `42["pipeline_logs",…]`, WebSocket
    /// `{"event":"pipeline_logs","data":…}`, SSE `id: <seq>`/`event:`/`data:` lines (all under 100 bytes).
    public static let maximumFramingBytes = 256
    /// The payload limit that keeps every frame within the advertised `maxPayload` of 1,000,000 bytes.
    public static let defaultMaximumPayloadBytes = 1_000_000 - maximumFramingBytes

    /// This event cut into events whose payloads are at most `limit` UTF-8 bytes (docs/realtime.md "Frame
    /// limit"). Only `pipeline_logs` can be that large: its lines are regrouped, and a line whose own JSON is
    /// too long is cut (on a Unicode scalar boundary) into parts that repeat its `seq`, `step`, `ts` and
    /// `level`; every part but the last has `"continues": true`, the last keeps the line's own `continues`.
    /// An event that ends inside a line has `seq` one less than that line's, so a client resuming after it
    /// (SSE `Last-Event-ID`, `after_seq`) receives the whole line again.
    public func framed(maximumPayloadBytes limit: Int) -> [RealtimeEvent] {
        guard name == .pipelineLogs, let logs, payloadJSON.utf8.count > limit else { return [self] }
        let prefix = Self.logsPayloadPrefix(logs)
        // `prefix` + `[` + lines joined by `,` + `]}`.
        let budget = max(1, limit - prefix.utf8.count - 3)
        var events: [RealtimeEvent] = []
        var chunk: [LogLinePayload] = []
        var chunkJSON: [String] = []
        var size = 0
        var endsInsideLine = false
        func flush() {
            guard let first = chunk.first, let last = chunk.last else { return }
            let json = prefix + "[" + chunkJSON.joined(separator: ",") + "]}"
            events.append(
                RealtimeEvent(
                    name: .pipelineLogs, executionID: executionID, pipelineID: pipelineID,
                    seq: endsInsideLine ? last.seq - 1 : last.seq, firstSeq: first.seq, payloadJSON: json,
                    logs: PipelineLogsPayload(executionID: logs.executionID, step: logs.step, lines: chunk),
                    linesOffset: prefix.utf8.count))
            chunk = []
            chunkJSON = []
            size = 0
        }
        for line in logs.lines {
            let parts = Self.parts(of: line, budget: budget)
            for (number, piece) in parts.enumerated() {
                let json = Self.encode(piece)
                let added = json.utf8.count + (chunk.isEmpty ? 0 : 1)
                if !chunk.isEmpty, size + added > budget { flush() }
                size += json.utf8.count + (chunk.isEmpty ? 0 : 1)
                chunk.append(piece)
                chunkJSON.append(json)
                endsInsideLine = number < parts.count - 1
            }
        }
        flush()
        return events
    }

    /// `line` itself when its JSON fits `budget` bytes, else parts of it that each fit.
    static func parts(of line: LogLinePayload, budget: Int) -> [LogLinePayload] {
        if encode(line).utf8.count <= budget { return [line] }
        var empty = line
        empty.text = ""
        empty.continues = true
        // What a part costs besides its text; the text budget keeps a margin for estimation slack.
        var textBudget = max(16, budget - encode(empty).utf8.count - 16)
        while true {
            var parts: [LogLinePayload] = []
            var current = String.UnicodeScalarView()
            var cost = 0
            for scalar in line.text.unicodeScalars {
                let scalarCost = jsonCost(scalar)
                if cost + scalarCost > textBudget, !current.isEmpty {
                    var part = line
                    part.text = String(current)
                    part.continues = true
                    parts.append(part)
                    current = String.UnicodeScalarView()
                    cost = 0
                }
                current.append(scalar)
                cost += scalarCost
            }
            var last = line
            last.text = String(current)
            parts.append(last)
            // The estimate matches JSONEncoder's escaping; should it ever differ, cut finer.
            if textBudget <= 16 || parts.allSatisfy({ encode($0).utf8.count <= budget }) { return parts }
            textBudget /= 2
        }
    }

    /// UTF-8 bytes `scalar` takes inside a JSON string as ``encode(_:)`` writes it.
    static func jsonCost(_ scalar: Unicode.Scalar) -> Int {
        switch scalar.value {
        case 0x22, 0x5C: 2  // \" \\
        case 0x08, 0x09, 0x0A, 0x0C, 0x0D: 2  // \b \t \n \f \r
        case 0x00..<0x20: 6  // \u00XX
        default: scalar.utf8.count
        }
    }

    // MARK: - Transport framing

    /// Socket.IO v5 EVENT frame in an Engine.IO v4 message: `42["name",{…}]`.
    public var socketIOFrame: String {
        SocketIOPacket.eventFrame(name: name.rawValue, payloadJSON: payloadJSON)
    }

    /// Plain WebSocket message: `{"event":"name","data":{…}}`.
    public var webSocketMessage: String {
        "{\"event\":" + jsonString(name.rawValue) + ",\"data\":" + payloadJSON + "}"
    }

    /// Server-Sent Events record (WHATWG HTML §9.2): `id: <seq>`, `event: <name>`, `data: <json>`, blank line.
    /// The payload is single-line JSON, so one `data:` field suffices.
    public var serverSentEvent: String {
        "id: \(seq)\nevent: \(name.rawValue)\ndata: \(payloadJSON)\n\n"
    }
}

/// Encodings of one event made by the transports (e.g. a Socket.IO frame as the bytes a socket writes),
/// computed on first use and then shared: every copy of a ``RealtimeEvent`` refers to the same instance.
public final class SharedEncodings: Sendable {
    private let values = Mutex<[String: any Sendable]>([:])

    public init() {}

    /// The value stored under `key`, made by `make` (once; later calls return the stored one) when absent.
    /// - Parameters:
    ///   - key: the encoding's name, e.g. `"socket.io"`.
    ///   - make: builds the encoding; called at most once per key unless two callers race (both results are
    ///     equal, one is kept).
    public func value<Value: Sendable>(_ key: String, make: () -> Value) -> Value {
        if let stored = values.withLock({ $0[key] }) as? Value { return stored }
        let made = make()
        values.withLock { $0[key] = made }
        return made
    }
}

/// RFC 3339 UTC with seconds, e.g. `2026-11-29T12:00:00Z` (the API's timestamp format, docs/API.md intro).
private func rfc3339(_ date: Date) -> String {
    date.formatted(.iso8601)
}
