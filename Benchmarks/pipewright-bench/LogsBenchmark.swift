// `logs`: the log store (issue 5) against its baselines, measured in the same run.
//
//   swift run -c release pipewright-bench logs [SIZE_MB] [--regex-only]   (default 100; 1000 for the 1 GB goal)
//
// Generates SIZE_MB of build log with ../shared/bench/make_log.py (or $PIPEWRIGHT_BENCH_DIR/make_log.py),
// ingests it into a LogStore in a temporary folder, then measures:
//   - text search (case-insensitive count) vs `grep -F -i -c` on the same file (throughput ratio);
//   - search, level filter, statistics and a deep page vs ../shared/bench/seed_log_utils.py on a 100 MB log
//     (the same log when SIZE_MB is 100, else a second 100 MB store);
//   - cursor page latency after the first query; peak RSS growth while searching (VmHWM, reset first);
//   - regex search vs `grep -E -c` / `grep -P -c`, in process and over HTTP (RegexLogsBenchmark.swift);
//     `--regex-only` skips everything else but ingestion.
import Foundation
import LogStore
import PipewrightCore

/// Entry point of `pipewright-bench logs [SIZE_MB]`.
func benchmarkLogs(arguments: [String]) async throws {
    try await LogsBench.run(
        sizeMB: arguments.first.flatMap(Double.init) ?? 100, regexOnly: arguments.contains("--regex-only"))
}

/// Helpers of the `logs` benchmark, namespaced so they do not clash with other benchmark files.
enum LogsBench {
    static let pattern = "error"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(sizeMB: Double, regexOnly: Bool) async throws {
        let bench = try benchDirectory()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pw-logs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        print("logs benchmark: \(format(sizeMB, 0)) MB log, scripts in \(bench), work dir \(work)")

        let logFile = work + "/log-\(Int(sizeMB)).txt"
        let generation = try time { try generate(bench: bench, sizeMB: sizeMB, to: logFile) }
        let fileBytes = try fileSize(logFile)
        print("generated \(fileBytes) bytes in \(format(generation, 1)) s")

        let store = try LogStore(directory: work + "/store")
        var rows: [(String, String, String, String)] = []
        let ingestSeconds = try time { try ingest(file: logFile, into: store, execution: 1) }
        let ingestRate = Double(fileBytes) / 1_048_576 / ingestSeconds
        rows.append(("ingest", "\(format(ingestRate, 0)) MB/s (\(format(ingestSeconds, 2)) s)", "-", "-"))
        if regexOnly {
            try await RegexLogsBench.run(store: store, execution: 1, logFile: logFile, sizeMB: sizeMB)
            return
        }

        // Text search vs grep, with peak RSS growth.
        let grepArguments = ["-F", "-i", "-c", pattern, logFile]
        _ = try runTool("/usr/bin/env", ["grep"] + grepArguments)  // warm the page cache for both
        var ourTimes: [Double] = []
        var grepTimes: [Double] = []
        var ourCount = 0
        var grepCount = ""
        resetPeakRSS()
        let rssBefore = readStatus("VmRSS")
        for _ in 0..<3 {
            ourTimes.append(try time { ourCount = try search(store, execution: 1) })
            grepTimes.append(
                try time {
                    grepCount = try runTool("/usr/bin/env", ["grep"] + grepArguments).trimmingCharacters(
                        in: .whitespacesAndNewlines)
                })
        }
        let peak = readStatus("VmHWM")
        let ours = median(ourTimes)
        let grep = median(grepTimes)
        let mb = Double(fileBytes) / 1_048_576
        rows.append(
            (
                "text search '\(pattern)' (count)",
                "\(format(mb / ours, 0)) MB/s (\(format(ours, 3)) s, \(ourCount) lines)",
                "grep -F -i -c: \(format(mb / grep, 0)) MB/s (\(format(grep, 3)) s, \(grepCount) lines)",
                "\(format(grep / ours, 2))× grep"
            ))
        rows.append(
            (
                "peak RSS growth during search",
                "\(format(Double(peak - rssBefore) / 1024, 1)) MB (RSS \(format(Double(rssBefore) / 1024, 1)) → peak \(format(Double(peak) / 1024, 1)) MB)",
                "-", "target < 100 MB"
            ))

        // Cursor pages after the first query.
        let cursor = try cursorLatency(store, execution: 1)
        rows.append(
            ("cursor page (q=\(pattern), 100/page), first query", "\(format(cursor.first * 1000, 2)) ms", "-", "-"))
        rows.append(
            (
                "cursor page N after first (median / max of \(cursor.count))",
                "\(format(cursor.median * 1000, 3)) / \(format(cursor.max * 1000, 3)) ms", "-", "target < 5 ms"
            ))
        let levelCursor = try cursorLatency(store, execution: 1, level: .error)
        rows.append(
            (
                "cursor page N, level=ERROR (median / max of \(levelCursor.count))",
                "\(format(levelCursor.median * 1000, 3)) / \(format(levelCursor.max * 1000, 3)) ms", "-",
                "target < 5 ms"
            ))

        // Reference implementation on a 100 MB log.
        var referenceFile = logFile
        var referenceExecution = 1
        if abs(sizeMB - 100) > 0.5 {
            referenceFile = work + "/log-100.txt"
            try generate(bench: bench, sizeMB: 100, to: referenceFile)
            try ingest(file: referenceFile, into: store, execution: 2)
            referenceExecution = 2
        }
        let script = bench + "/seed_log_utils.py"
        let comparisons: [(String, [String], () throws -> String)] = [
            (
                "search q=\(pattern) (100 MB)", ["--q", pattern, "--per-page", "20"],
                {
                    "total \(try ourTotal(store, referenceExecution, LogFilter(text: pattern)))"
                }
            ),
            (
                "level=ERROR (100 MB)", ["--level", "ERROR", "--per-page", "20"],
                {
                    "total \(try ourTotal(store, referenceExecution, LogFilter(minimumLevel: .error)))"
                }
            ),
            (
                "level=WARN (100 MB)", ["--level", "WARN", "--per-page", "20"],
                {
                    "total \(try ourTotal(store, referenceExecution, LogFilter(minimumLevel: .warn)))"
                }
            ),
            (
                "statistics (100 MB)", ["--stats"],
                {
                    let stats = try store.stats(execution: referenceExecution)
                    return
                        "lines \(stats.totalLines) E/W/I/D \(stats.byLevel[.error]!)/\(stats.byLevel[.warn]!)/\(stats.byLevel[.info]!)/\(stats.byLevel[.debug]!)"
                }
            ),
            (
                "deep page 10000 ×100 (100 MB)", ["--page", "10000", "--per-page", "100"],
                {
                    let page = try store.lines(
                        execution: referenceExecution,
                        query: LogQuery(pagination: .page(try PageRequest(page: 10_000, perPage: 100))))
                    return "total \(page.total ?? -1), first seq \(page.items.first?.seq ?? -1)"
                }
            ),
        ]
        for (name, referenceArguments, ourRun) in comparisons {
            var ourResult = ""
            var ourTimes: [Double] = []
            for _ in 0..<3 { ourTimes.append(try time { ourResult = try ourRun() }) }
            var referenceOutput = ""
            var referencePeakKB = 0
            let referenceTime = try time {
                (referenceOutput, referencePeakKB) = try runMeasured(
                    "python3", [script, referenceFile] + referenceArguments)
            }
            let ours = median(ourTimes)
            rows.append(
                (
                    name, "\(format(ours * 1000, 2)) ms (\(ourResult))",
                    "seed: \(format(referenceTime, 2)) s, peak \(referencePeakKB / 1024) MB (\(summary(referenceOutput)))",
                    "\(format(referenceTime / ours, 0))× faster"
                ))
        }

        printTable(rows)
        try await RegexLogsBench.run(store: store, execution: 1, logFile: logFile, sizeMB: sizeMB)
    }

    // MARK: - Steps

    static func benchDirectory() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["PIPEWRIGHT_BENCH_DIR"] { return explicit }
        var candidates: [String] = []
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("../shared/bench").standardized.path)
            directory.deleteLastPathComponent()
        }
        var executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<6 {
            executable.deleteLastPathComponent()
            candidates.append(executable.appendingPathComponent("../shared/bench").standardized.path)
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/make_log.py") })
        else {
            throw Failure(description: "make_log.py not found; set PIPEWRIGHT_BENCH_DIR (looked in \(candidates))")
        }
        return found
    }

    static func generate(bench: String, sizeMB: Double, to path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let output = FileHandle(forWritingAtPath: path) else {
            throw Failure(description: "cannot write \(path)")
        }
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", bench + "/make_log.py", String(sizeMB)]
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "make_log.py failed") }
    }

    static func ingest(file: String, into store: LogStore, execution: Int) throws {
        guard let input = FileHandle(forReadingAtPath: file) else { throw Failure(description: "cannot read \(file)") }
        defer { try? input.close() }
        while true {
            let chunk = input.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            _ = try chunk.withUnsafeBytes { try store.ingest(execution: execution, step: "Build", bytes: $0) }
        }
        try store.finishStep(execution: execution, step: "Build")
    }

    static func search(_ store: LogStore, execution: Int) throws -> Int {
        try ourTotal(store, execution, LogFilter(text: pattern))
    }

    static func ourTotal(_ store: LogStore, _ execution: Int, _ filter: LogFilter) throws -> Int {
        let page = try store.lines(
            execution: execution,
            query: LogQuery(filter: filter, pagination: .page(try PageRequest(page: 1, perPage: 20))))
        return page.total ?? -1
    }

    static func cursorLatency(_ store: LogStore, execution: Int, level: LogLevel? = nil) throws -> (
        first: Double, median: Double, max: Double, count: Int
    ) {
        let filter = level.map { LogFilter(minimumLevel: $0) } ?? LogFilter(text: pattern)
        var cursor = 0
        var first = 0.0
        var times: [Double] = []
        // Start in the middle of the log, then walk 50 pages.
        let middle = try store.highestSeq(execution: execution) / 2
        cursor = middle
        for index in 0..<51 {
            var next: Int?
            let elapsed = try time {
                let page = try store.lines(
                    execution: execution,
                    query: LogQuery(
                        filter: filter, pagination: .after(seq: cursor, perPage: 100), includesHighlights: true))
                next = page.nextAfterSeq
            }
            if index == 0 { first = elapsed } else { times.append(elapsed) }
            guard let next, next > cursor else { break }
            cursor = next
        }
        return (first, median(times), times.max() ?? .nan, times.count)
    }

    // MARK: - Measuring

    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    static func fileSize(_ path: String) throws -> Int64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// A `/proc/self/status` field in kB.
    static func readStatus(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// Resets VmHWM to the current RSS (`echo 5 > /proc/self/clear_refs`, Linux ≥ 4.0).
    static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func runTool(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a command under `/usr/bin/time -f %M`; returns stdout and peak RSS in kB.
    static func runMeasured(_ command: String, _ arguments: [String]) throws -> (String, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%M", command] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let peak = String(decoding: errors, as: UTF8.self).split(separator: "\n").last.flatMap { Int($0) } ?? 0
        return (String(decoding: data, as: UTF8.self), peak)
    }

    static func summary(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return String(json.prefix(80))
        }
        if let total = object["total"] { return "total \(total)" }
        if let lines = object["total_lines"], let levels = object["by_level"] as? [String: Any] {
            return
                "lines \(lines) E/W/I/D \(levels["ERROR"] ?? "?")/\(levels["WARN"] ?? "?")/\(levels["INFO"] ?? "?")/\(levels["DEBUG"] ?? "?")"
        }
        return String(json.prefix(80))
    }

    static func printTable(_ rows: [(String, String, String, String)]) {
        let headers = ("measure", "ours", "baseline", "ratio")
        let all = [headers] + rows
        var widths = [0, 0, 0, 0]
        for row in all {
            widths[0] = max(widths[0], row.0.count)
            widths[1] = max(widths[1], row.1.count)
            widths[2] = max(widths[2], row.2.count)
            widths[3] = max(widths[3], row.3.count)
        }
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        print("")
        for (index, row) in all.enumerated() {
            print(
                "| \(pad(row.0, widths[0])) | \(pad(row.1, widths[1])) | \(pad(row.2, widths[2])) | \(pad(row.3, widths[3])) |"
            )
            if index == 0 {
                print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
            }
        }
    }
}
