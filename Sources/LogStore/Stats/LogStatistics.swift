import Foundation

/// Statistics of one execution's log (`GET /api/executions/{id}/logs/stats`, docs/API.md "Logs"),
/// maintained as lines are stored.
///
/// Reading them costs nothing regardless of log size: the store updates them on every append and persists
/// a snapshot (`stats.json`) at least every 8 MiB of data and at ``LogStore/finishStep(execution:step:)``;
/// on reopen, lines stored after the snapshot are replayed from the data file.
public struct LogStatistics: Sendable, Equatable, Codable {
    /// Number of stored lines (split pieces count one each); equals the highest `seq`.
    public var totalLines: Int
    /// Bytes stored, including the `\n` terminators (the size of the raw log).
    public var bytes: Int64
    /// Lines per detected level; every level is present (0 when none). Lines without a level are not counted.
    public var byLevel: [LogLevel: Int]
    /// Per-step figures keyed by step name.
    public var bySteps: [String: StepStatistics]
    /// Step names in order of their first line.
    public var stepOrder: [String]
    /// The first line whose level is ERROR, or `nil`.
    public var firstError: FirstError?
    /// Timestamp of the first line that has one (in storage order).
    public var firstTimestamp: Date?
    /// Timestamp of the last line that has one (in storage order).
    public var lastTimestamp: Date?
    /// Number of lines with a parsed timestamp.
    public var timestampsFound: Int
    /// Bytes of step output not stored because their step reached the per-step cap
    /// (``LogStore/maximumStepBytes``), all steps; not part of ``bytes``.
    public var droppedBytes: Int64

    /// `lastTimestamp − firstTimestamp` in seconds, or `nil` without two timestamps.
    public var durationSeconds: Double? {
        guard let firstTimestamp, let lastTimestamp else { return nil }
        return lastTimestamp.timeIntervalSince(firstTimestamp)
    }

    /// Empty statistics.
    public init() {
        totalLines = 0
        bytes = 0
        byLevel = Dictionary(uniqueKeysWithValues: LogLevel.allCases.map { ($0, 0) })
        bySteps = [:]
        stepOrder = []
        firstError = nil
        firstTimestamp = nil
        lastTimestamp = nil
        timestampsFound = 0
        droppedBytes = 0
    }

    /// Figures for one step.
    public struct StepStatistics: Sendable, Equatable, Codable {
        /// Lines stored for the step.
        public var lines: Int
        /// Bytes stored for the step, including `\n` terminators (the size of its raw log).
        public var bytes: Int64
        /// Lines of level ERROR.
        public var errors: Int
        /// Lines of level WARN.
        public var warnings: Int
        /// First timestamp in the step.
        public var firstTimestamp: Date?
        /// Last timestamp in the step.
        public var lastTimestamp: Date?
        /// Bytes of the step's output dropped past the per-step cap (not part of ``bytes``).
        public var droppedBytes: Int64
        /// Seq of the step's first stored line (`nil` for logs stored before it was recorded).
        public var firstSeq: Int?
        /// Seq of the step's last stored line (`nil` for logs stored before it was recorded). Steps that
        /// ran one after another have disjoint `firstSeq…lastSeq` ranges; parallel steps' ranges overlap.
        public var lastSeq: Int?

        /// `lastTimestamp − firstTimestamp` in seconds, or `nil`.
        public var durationSeconds: Double? {
            guard let firstTimestamp, let lastTimestamp else { return nil }
            return lastTimestamp.timeIntervalSince(firstTimestamp)
        }

        /// Empty figures.
        public init() {
            lines = 0
            bytes = 0
            errors = 0
            warnings = 0
            droppedBytes = 0
        }
    }

    /// Where the first error is.
    public struct FirstError: Sendable, Equatable, Codable {
        /// Its line number.
        public var seq: Int
        /// Its step.
        public var step: String
        /// Its ``LogLine/plainText``, cut to at most ``LogStatistics/firstErrorTextLimit`` UTF-8 bytes.
        public var text: String

        /// Creates a value.
        ///
        /// - Parameters:
        ///   - seq: the line's seq.
        ///   - step: its step name.
        ///   - text: its plain text.
        public init(seq: Int, step: String, text: String) {
            self.seq = seq
            self.step = step
            self.text = text
        }
    }

    /// Longest `firstError.text` kept, in UTF-8 bytes.
    public static let firstErrorTextLimit = 4096
}
