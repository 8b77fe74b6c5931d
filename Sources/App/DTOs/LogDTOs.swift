import Foundation
import LogStore
import PipewrightCore
import Vapor

/// One stored log line (docs/API.md "Logs").
struct LogLineResponse: Content {
    var seq: Int
    var step: String
    var ts: Date?
    var level: String?
    var text: String
    /// UTF-16 `[start, end)` ranges over the ANSI-stripped text, with `highlight=true`.
    var highlights: [[Int]]?
    /// `true` for lines added by `context=N` around matches.
    var context: Bool?
    /// `true` when the line is a piece of a line longer than 1 MiB that continues on the next seq.
    var continues: Bool?

    init(_ line: LogLine, highlight: Bool) {
        seq = line.seq
        step = line.step
        ts = line.timestamp
        level = line.level?.rawValue
        text = line.safeText  // control bytes other than TAB/ESC/CR as U+FFFD (docs/API.md "Logs")
        highlights = highlight && !line.isContext ? line.highlights.map { [$0.start, $0.end] } : nil
        context = line.isContext ? true : nil
        continues = line.continuesOnNextLine ? true : nil
    }

    /// `level` is always present (`null` for a line no level was detected in); the synthesized encoder
    /// would leave it out (issue 12 item 11). `ts`, `highlights`, `context`, `continues` appear only when set.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(step, forKey: .step)
        try container.encodeIfPresent(ts, forKey: .ts)
        try container.encode(level, forKey: .level)
        try container.encode(text, forKey: .text)
        try container.encodeIfPresent(highlights, forKey: .highlights)
        try container.encodeIfPresent(context, forKey: .context)
        try container.encodeIfPresent(continues, forKey: .continues)
    }
}

/// `GET /api/executions/{id}/logs` response: page-based (`pagination`) or cursor-based (`next_after_seq`).
struct LogLinesResponse: Content {
    var items: [LogLineResponse]
    var pagination: PageResponse<LogLineResponse>.Pagination?
    var nextAfterSeq: Int?
    /// Highest seq stored when the query ran (resume live streams after it).
    var highestSeq: Int
    /// `true` when the regex budget ran out: the items are the matches among the lines up to `resume_after_seq`.
    var partial: Bool = false
    /// With `partial`: the last seq examined; `after_seq=` this value continues the search.
    var resumeAfterSeq: Int?
    /// With `partial` on a page query: `pagination.total` counts only the lines examined (a lower bound).
    var totalIsLowerBound: Bool?
}

/// `GET /api/executions/{id}/logs/stats` response (docs/API.md "Logs").
struct LogStatsResponse: Content {
    struct Step: Content {
        var lines: Int
        var bytes: Int64
        var errors: Int
        var warnings: Int
        var durationS: Double?
        /// Bytes of the step's output dropped past `PIPEWRIGHT_LOG_MAX_STEP_BYTES`.
        var droppedBytes: Int64
    }

    struct FirstError: Content {
        var seq: Int
        var step: String
        var text: String
    }

    var totalLines: Int
    var bytes: Int64
    var byLevel: [String: Int]
    var bySteps: [String: Step]
    var firstError: FirstError?
    var firstTimestamp: Date?
    var lastTimestamp: Date?
    var timestampsFound: Int
    var durationS: Double?
    /// Bytes dropped past `PIPEWRIGHT_LOG_MAX_STEP_BYTES`, all steps (not part of `bytes`).
    var droppedBytes: Int64

    enum CodingKeys: String, CodingKey {
        case totalLines = "total_lines", bytes, byLevel = "by_level", bySteps = "by_step", firstError = "first_error"
        case firstTimestamp = "first_timestamp", lastTimestamp = "last_timestamp", timestampsFound = "timestamps_found"
        case durationS = "duration_s"
        case droppedBytes = "dropped_bytes"
    }

    init(_ stats: LogStatistics) {
        totalLines = stats.totalLines
        bytes = stats.bytes
        byLevel = Dictionary(uniqueKeysWithValues: LogLevel.allCases.map { ($0.rawValue, stats.byLevel[$0] ?? 0) })
        bySteps = stats.bySteps.mapValues {
            Step(
                lines: $0.lines, bytes: $0.bytes, errors: $0.errors, warnings: $0.warnings,
                durationS: $0.durationSeconds,
                droppedBytes: $0.droppedBytes)
        }
        firstError = stats.firstError.map { FirstError(seq: $0.seq, step: $0.step, text: LogLine.jsonSafe($0.text)) }
        firstTimestamp = stats.firstTimestamp
        lastTimestamp = stats.lastTimestamp
        timestampsFound = stats.timestampsFound
        durationS = stats.durationSeconds
        droppedBytes = stats.droppedBytes
    }
}

/// One execution in `GET /api/pipelines/{id}/logs` (the seed endpoint): the execution object's fields at
/// the top level, as the seed returned them, with `excerpt`, `total_lines` and `errors` beside them.
struct PipelineLogEntry: Content {
    var execution: ExecutionResponse
    /// The last lines of the log (of `step_filter`'s step when given).
    var excerpt: [LogLineResponse]
    var totalLines: Int
    var errors: Int

    enum CodingKeys: String, CodingKey {
        case excerpt, totalLines, errors
    }

    init(execution: ExecutionResponse, excerpt: [LogLineResponse], totalLines: Int, errors: Int) {
        self.execution = execution
        self.excerpt = excerpt
        self.totalLines = totalLines
        self.errors = errors
    }

    init(from decoder: any Decoder) throws {
        execution = try ExecutionResponse(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        excerpt = try container.decode([LogLineResponse].self, forKey: .excerpt)
        totalLines = try container.decode(Int.self, forKey: .totalLines)
        errors = try container.decode(Int.self, forKey: .errors)
    }

    func encode(to encoder: any Encoder) throws {
        try execution.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(excerpt, forKey: .excerpt)
        try container.encode(totalLines, forKey: .totalLines)
        try container.encode(errors, forKey: .errors)
    }
}

/// `GET /api/pipelines/{id}/logs` response: executions matching the filters plus a summary of all of them.
struct PipelineLogsResponse: Content {
    /// Every field is always present; the optional ones are `null` when there is no value (no finished
    /// execution, no success yet, …).
    struct Summary: Content {
        var total: Int
        var byStatus: [String: Int]
        var successRate: Double?
        var averageDurationS: Double?
        var lastSuccessAt: Date?
        var lastFailureAt: Date?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(total, forKey: .total)
            try container.encode(byStatus, forKey: .byStatus)
            try container.encode(successRate, forKey: .successRate)
            try container.encode(averageDurationS, forKey: .averageDurationS)
            try container.encode(lastSuccessAt, forKey: .lastSuccessAt)
            try container.encode(lastFailureAt, forKey: .lastFailureAt)
        }
    }

    var items: [PipelineLogEntry]
    var pagination: PageResponse<PipelineLogEntry>.Pagination
    var summary: Summary
}
