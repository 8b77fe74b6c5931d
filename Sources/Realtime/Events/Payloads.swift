import Foundation

/// A stored log line as events carry it (the line object of docs/API.md "Logs"):
/// `{"seq","step","ts"?,"level"?,"text","continues"?}`.
///
/// `continues: true` marks a piece whose text continues in the next line object of the same step: a stored
/// piece of a line over 1 MiB (as the REST API shows it), or a part of a line the server cut so that no
/// frame exceeds the advertised limit (those parts repeat the line's `seq`). Joining the `text` of
/// consecutive pieces up to the first one without `continues` gives the whole line.
public struct LogLinePayload: Sendable, Equatable, Codable {
    public var seq: Int
    public var step: String
    /// Timestamp parsed from the line, RFC 3339 UTC.
    public var ts: Date?
    /// `ERROR` | `WARN` | `INFO` | `DEBUG`, or absent.
    public var level: String?
    /// The line as stored (ANSI escapes kept), without its newline.
    public var text: String
    /// `true` when the next line object of the step continues this text; absent otherwise.
    public var continues: Bool?

    public init(seq: Int, step: String, ts: Date?, level: String?, text: String, continues: Bool? = nil) {
        self.seq = seq
        self.step = step
        self.ts = ts
        self.level = level
        self.text = text
        self.continues = continues
    }
}

/// The step a `pipeline_logs` event belongs to: `{"uuid","name","status"}`.
public struct StepRef: Sendable, Equatable, Codable {
    public var uuid: String
    public var name: String
    public var status: String

    public init(uuid: String, name: String, status: String) {
        self.uuid = uuid
        self.name = name
        self.status = status
    }
}

/// A step in `pipeline_status.steps`: `{"uuid","name","status","started_at"?,"duration_s"?}`.
public struct StepPayload: Sendable, Equatable, Codable {
    public var uuid: String
    public var name: String
    public var status: String
    public var startedAt: Date?
    /// Seconds.
    public var durationS: Double?

    enum CodingKeys: String, CodingKey {
        case uuid, name, status
        case startedAt = "started_at"
        case durationS = "duration_s"
    }

    public init(uuid: String, name: String, status: String, startedAt: Date?, durationS: Double?) {
        self.uuid = uuid
        self.name = name
        self.status = status
        self.startedAt = startedAt
        self.durationS = durationS
    }
}

/// `pipeline_status` payload (docs/API.md "Realtime events").
public struct PipelineStatusPayload: Sendable, Equatable, Codable {
    public var executionID: Int
    public var pipelineID: Int
    public var status: String
    public var previousStatus: String?
    /// Changed steps only (a snapshot carries all steps).
    public var steps: [StepPayload]
    /// Highest stored line seq when the status changed.
    public var seq: Int

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id"
        case pipelineID = "pipeline_id"
        case status
        case previousStatus = "previous_status"
        case steps, seq
    }

    public init(
        executionID: Int, pipelineID: Int, status: String, previousStatus: String?, steps: [StepPayload], seq: Int
    ) {
        self.executionID = executionID
        self.pipelineID = pipelineID
        self.status = status
        self.previousStatus = previousStatus
        self.steps = steps
        self.seq = seq
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(executionID, forKey: .executionID)
        try container.encode(pipelineID, forKey: .pipelineID)
        try container.encode(status, forKey: .status)
        // Explicit null: docs/API.md "Realtime events" shows the key.
        try container.encode(previousStatus, forKey: .previousStatus)
        try container.encode(steps, forKey: .steps)
        try container.encode(seq, forKey: .seq)
    }
}

/// `pipeline_logs` payload (docs/API.md "Realtime events"): new lines of one step, in `seq` order.
public struct PipelineLogsPayload: Sendable, Equatable, Codable {
    public var executionID: Int
    public var step: StepRef
    public var lines: [LogLinePayload]

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id"
        case step, lines
    }

    public init(executionID: Int, step: StepRef, lines: [LogLinePayload]) {
        self.executionID = executionID
        self.step = step
        self.lines = lines
    }
}

/// `log_error` payload: `{"execution_id"?, "code", "message", "after_seq"?}`; `after_seq` is where a
/// client resumes (`slow_consumer`).
public struct LogErrorPayload: Sendable, Equatable, Codable {
    public var executionID: Int?
    public var code: String
    public var message: String
    public var afterSeq: Int?

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id"
        case code, message
        case afterSeq = "after_seq"
    }

    public init(executionID: Int?, code: String, message: String, afterSeq: Int? = nil) {
        self.executionID = executionID
        self.code = code
        self.message = message
        self.afterSeq = afterSeq
    }
}

/// `log_timeout` payload: `{"execution_id","after_s"}` (seconds).
public struct LogTimeoutPayload: Sendable, Equatable, Codable {
    public var executionID: Int
    public var afterS: Double

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id"
        case afterS = "after_s"
    }

    public init(executionID: Int, afterS: Double) {
        self.executionID = executionID
        self.afterS = afterS
    }
}
