import Foundation
import LogStore
import PipewrightCore
import PipewrightTesting
import Testing

@Suite struct LogStatisticsTests {
    /// A deterministic mixed log over three steps.
    static func sampleLines() -> [(step: String, text: String)] {
        var generator = SplitMix64(seed: 42)
        let steps = ["Build", "Test", "Deploy"]
        let templates = [
            "{ts} INFO  Resolving dependency", "{ts} DEBUG cache hit", "\u{1B}[31mERROR\u{1B}[0m: test failed",
            "npm WARN deprecated x", "plain output é 🚀", "FATAL: could not connect", "[12:00:00] bare time",
            "WARNING: retrying", "Traceback (most recent call last):", "",
        ]
        var lines: [(String, String)] = []
        for index in 0..<3000 {
            let step = steps[min(2, index / 1000 + (generator.next() % 10 == 0 ? 1 : 0))]
            let ts =
                "2026-11-29T\(String(format: "%02d", index / 3600 % 24)):\(String(format: "%02d", index / 60 % 60)):\(String(format: "%02d", index % 60))Z"
            let template = templates[Int(generator.next() % UInt64(templates.count))]
            lines.append((step, template.replacingOccurrences(of: "{ts}", with: ts)))
        }
        return lines
    }

    /// Recomputes the statistics from the input with the public detectors, independently of the store.
    static func bruteForce(_ lines: [(step: String, text: String)]) -> LogStatistics {
        var stats = LogStatistics()
        for (offset, line) in lines.enumerated() {
            stats.totalLines += 1
            let size = Int64(line.text.utf8.count + 1)
            stats.bytes += size
            if stats.bySteps[line.step] == nil { stats.stepOrder.append(line.step) }
            var step = stats.bySteps[line.step] ?? LogStatistics.StepStatistics()
            step.lines += 1
            step.bytes += size
            step.firstSeq = step.firstSeq ?? offset + 1
            step.lastSeq = offset + 1
            let level = LevelDetector.level(of: line.text)
            if let level { stats.byLevel[level, default: 0] += 1 }
            if level == .error {
                step.errors += 1
                if stats.firstError == nil {
                    stats.firstError = .init(
                        seq: offset + 1, step: line.step,
                        text: String(decoding: ANSIStripper.strip(Array(line.text.utf8)), as: UTF8.self))
                }
            }
            if level == .warn { step.warnings += 1 }
            if let ts = TimestampParser.timestamp(in: line.text) {
                stats.timestampsFound += 1
                stats.firstTimestamp = stats.firstTimestamp ?? ts
                stats.lastTimestamp = ts
                step.firstTimestamp = step.firstTimestamp ?? ts
                step.lastTimestamp = ts
            }
            stats.bySteps[line.step] = step
        }
        return stats
    }

    @Test func stats_equalBruteForceRecomputation_liveAndAfterReopen() async throws {
        try await withStore { store, directory in
            let lines = Self.sampleLines()
            for line in lines.prefix(1500) {
                try store.append(execution: 3, step: line.step, bytes: (line.text + "\n").bytes)
            }
            try store.finishStep(execution: 3, step: "Build")  // writes a snapshot covering 1,500 lines
            for line in lines.dropFirst(1500) {
                try store.append(execution: 3, step: line.step, bytes: (line.text + "\n").bytes)
            }
            let expected = Self.bruteForce(lines)
            let live = try store.stats(execution: 3)
            #expect(live == expected)
            #expect(live.byLevel[.error]! > 0 && live.byLevel[.warn]! > 0)
            #expect(live.durationSeconds == expected.lastTimestamp!.timeIntervalSince(expected.firstTimestamp!))
            #expect(live.bySteps["Build"]?.durationSeconds != nil)
            #expect(live.firstError?.text == "ERROR: test failed")

            // A stale snapshot plus replay of the later lines.
            store.close(execution: 3)
            #expect(try LogStore(directory: directory).stats(execution: 3) == expected)
            // Without any snapshot the statistics are rebuilt from the files.
            try FileManager.default.removeItem(atPath: directory + "/3/stats.json")
            #expect(try LogStore(directory: directory).stats(execution: 3) == expected)
        }
    }
}
