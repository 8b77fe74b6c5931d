import Foundation

/// Incrementally maintained statistics, indexed by step number for speed; persisted as `stats.json`.
struct StatisticsAccumulator: Codable, Equatable {
    struct Step: Codable, Equatable {
        var lines = 0
        var bytes: Int64 = 0
        var errors = 0
        var warnings = 0
        var firstTimestamp: Double?
        var lastTimestamp: Double?
        /// Bytes of output dropped past the per-step cap (absent in snapshots written before the cap existed).
        var droppedBytes: Int64?
        /// Whether the truncation marker line was stored.
        var isTruncationMarked: Bool?
        /// Seq of the step's first and last stored line (absent in older snapshots).
        var firstSeq: Int?
        var lastSeq: Int?
    }

    /// Lines accounted for (the snapshot covers seq 1…lineCount).
    var lineCount = 0
    var bytes: Int64 = 0
    /// Counts by level rank 0…4 (0 = no level).
    var levels: [Int] = [0, 0, 0, 0, 0]
    var steps: [Step] = []
    var firstErrorSeq: Int?
    var firstErrorStep: Int?
    var firstErrorText: String?
    var firstTimestamp: Double?
    var lastTimestamp: Double?
    var timestampsFound = 0
    /// Bytes dropped past the per-step cap, all steps (optional: older snapshots lack it).
    var droppedBytes: Int64?

    /// Accounts for `count` bytes of `step`'s output that were dropped (over the step's size cap).
    mutating func addDropped(step: Int, count: Int64) {
        guard count > 0 else { return }
        while steps.count <= step { steps.append(Step()) }
        steps[step].droppedBytes = (steps[step].droppedBytes ?? 0) + count
        droppedBytes = (droppedBytes ?? 0) + count
    }

    /// Accounts for the next line (its seq is `lineCount + 1`).
    @inline(__always)
    mutating func add(step: Int, storedBytes: Int64, level: UInt8, timestamp: Double?, plain: () -> [UInt8]) {
        lineCount += 1
        bytes += storedBytes
        levels[Int(level)] += 1
        while steps.count <= step { steps.append(Step()) }
        steps[step].lines += 1
        steps[step].bytes += storedBytes
        if steps[step].firstSeq == nil { steps[step].firstSeq = lineCount }
        steps[step].lastSeq = lineCount
        if level == 4 {
            steps[step].errors += 1
            if firstErrorSeq == nil {
                var text = plain()
                if text.last == UInt8(ascii: "\r") { text.removeLast() }
                if text.count > LogStatistics.firstErrorTextLimit {
                    var cut = LogStatistics.firstErrorTextLimit
                    while cut > 0, text[cut] & 0xC0 == 0x80 { cut -= 1 }
                    text.removeSubrange(cut...)
                }
                firstErrorSeq = lineCount
                firstErrorStep = step
                firstErrorText = String(decoding: text, as: UTF8.self)
            }
        } else if level == 3 {
            steps[step].warnings += 1
        }
        if let timestamp {
            timestampsFound += 1
            if firstTimestamp == nil { firstTimestamp = timestamp }
            lastTimestamp = timestamp
            if steps[step].firstTimestamp == nil { steps[step].firstTimestamp = timestamp }
            steps[step].lastTimestamp = timestamp
        }
    }

    /// The public value, naming steps.
    func statistics(stepNames: [String]) -> LogStatistics {
        var result = LogStatistics()
        result.totalLines = lineCount
        result.bytes = bytes
        for level in LogLevel.allCases { result.byLevel[level] = levels[Int(level.rank)] }
        for (number, step) in steps.enumerated()
        where (step.lines > 0 || (step.droppedBytes ?? 0) > 0) && number < stepNames.count {
            var value = LogStatistics.StepStatistics()
            value.lines = step.lines
            value.bytes = step.bytes
            value.errors = step.errors
            value.warnings = step.warnings
            value.firstTimestamp = step.firstTimestamp.map { Date(timeIntervalSince1970: $0) }
            value.lastTimestamp = step.lastTimestamp.map { Date(timeIntervalSince1970: $0) }
            value.droppedBytes = step.droppedBytes ?? 0
            value.firstSeq = step.firstSeq
            value.lastSeq = step.lastSeq
            result.bySteps[stepNames[number]] = value
        }
        // Steps are numbered in order of first appearance, so number order is first-line order.
        result.stepOrder = steps.indices.filter { steps[$0].lines > 0 && $0 < stepNames.count }.map { stepNames[$0] }
        if let seq = firstErrorSeq, let step = firstErrorStep, step < stepNames.count {
            result.firstError = .init(seq: seq, step: stepNames[step], text: firstErrorText ?? "")
        }
        result.firstTimestamp = firstTimestamp.map { Date(timeIntervalSince1970: $0) }
        result.lastTimestamp = lastTimestamp.map { Date(timeIntervalSince1970: $0) }
        result.timestampsFound = timestampsFound
        result.droppedBytes = droppedBytes ?? 0
        return result
    }
}
