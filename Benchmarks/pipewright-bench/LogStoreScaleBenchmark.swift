// `logstore-scale`: the log store across instances (issue 16 item 5): the file store on a directory (what a
// shared volume holds) against log lines in a PostgreSQL table, measured in the same run; and the cost of
// the shared rate-limit bucket (issue 16 item 4). Figures: docs/scaling.md.
//
//   swift build -c release && .build/release/pipewright-bench logstore-scale [--lines 1000000] [--batches 20000]
//
// PostgreSQL: $PIPEWRIGHT_TEST_POSTGRES_URL (an admin URL), else a throwaway cluster started with
// scripts/test-postgres in a temporary directory (run from the repository root) and removed afterwards,
// with production durability (PIPEWRIGHT_TEST_POSTGRES_DURABLE=1: fsync, full_page_writes and
// synchronous_commit on, where the tests turn them off). The settings in force are printed.
//
// Measured, each for (a) `LogStore` in a temporary directory and (b) a prototype table
// `log_lines (execution_id, seq, step, level, text, PRIMARY KEY (execution_id, seq))`:
//   - ingest: `--batches` batches of 10 lines (one 10 ms flush at 1,000 lines/s), one `append` call / one
//     multi-row INSERT (`unnest` of arrays, one statement and one commit) per batch; lines/s and µs per batch;
//     PostgreSQL with synchronous_commit on (a commit waits for the WAL flush) and off;
//   - page: the first and a middle page (100 lines) of a `--lines` log, by cursor (`after_seq`) and by page
//     number (`OFFSET` in PostgreSQL);
//   - search: count of lines containing "error" (case-insensitive) over the whole log: the store's scan,
//     `ILIKE '%error%'`, and `ILIKE` with a pg_trgm GIN index when the extension is available.
// Shared rate-limit bucket: the statement of `SharedRateLimitBuckets.take` (Sources/App/RateLimiting) for two
// keys, sequentially and from 4 connections on one key, against a `SELECT 1` round trip.
import FluentPostgresDriver
import Foundation
import LogStore
import Logging
import NIOCore
import NIOPosix
import PipewrightCore

/// Entry point of `pipewright-bench logstore-scale`.
func benchmarkLogStoreScale(arguments: [String]) async throws {
    func value(_ name: String, _ fallback: Int) -> Int {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
        return Int(arguments[index + 1]) ?? fallback
    }
    try await LogStoreScaleBench.run(lines: value("--lines", 1_000_000), batches: value("--batches", 20_000))
}

enum LogStoreScaleBench {
    static let batchLines = 10
    static let pageSize = 100

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(lines: Int, batches: Int) async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pw-lss-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        if let configured = ProcessInfo.processInfo.environment["PIPEWRIGHT_TEST_POSTGRES_URL"], !configured.isEmpty {
            try await measure(adminURL: configured, work: work, lines: lines, batches: batches)
            return
        }
        guard FileManager.default.fileExists(atPath: "scripts/test-postgres") else {
            throw Failure(
                description: "run from the repository root (scripts/test-postgres) or set PIPEWRIGHT_TEST_POSTGRES_URL")
        }
        // A durable cluster (fsync, full_page_writes, synchronous_commit as in production): these are
        // command-line settings of scripts/test-postgres, which ALTER SYSTEM cannot override.
        let cluster = "/tmp/pw-bench-postgres-\(UUID().uuidString.prefix(8))"
        let (status, output) = try await runCommand(
            "/bin/bash", ["scripts/test-postgres", "start", cluster],
            environment: ["PIPEWRIGHT_TEST_POSTGRES_DURABLE": "1"])
        guard status == 0 else {
            throw Failure(description: "scripts/test-postgres start failed (\(status)): \(output)")
        }
        do {
            try await measure(
                adminURL: output.trimmingCharacters(in: .whitespacesAndNewlines), work: work, lines: lines,
                batches: batches)
        } catch {
            _ = try? await runCommand("/bin/bash", ["scripts/test-postgres", "stop", cluster])
            throw error
        }
        _ = try await runCommand("/bin/bash", ["scripts/test-postgres", "stop", cluster])
    }

    static func measure(adminURL: String, work: String, lines: Int, batches: Int) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let admin = try await connect(adminURL, logger: logger)
        let database = "pw_bench_\(UUID().uuidString.prefix(8).lowercased())"
        try await exec(admin, "CREATE DATABASE \(database)", logger)
        let base = adminURL.hasSuffix("/postgres") ? String(adminURL.dropLast("/postgres".count)) : adminURL
        let url = "\(base)/\(database)"
        let pg = try await connect(url, logger: logger)
        print("logstore-scale: \(lines) lines, ingest \(batches) batches of \(batchLines) lines, work dir \(work)")
        print("  PostgreSQL \(try await scalar(pg, "SHOW server_version", logger)) at \(url)")
        print(
            "  fsync=\(try await scalar(pg, "SHOW fsync", logger)) "
                + "full_page_writes=\(try await scalar(pg, "SHOW full_page_writes", logger))")

        try await exec(
            pg,
            """
            CREATE TABLE log_lines (execution_id bigint NOT NULL, seq bigint NOT NULL, step text NOT NULL,
                level text, text text NOT NULL, PRIMARY KEY (execution_id, seq))
            """, logger)
        var rows: [(String, String, String, String)] = []

        // Ingest: 10-line batches.
        // No per-step cap (64 MiB by default): the whole log must be in both stores for the comparison.
        let store = try LogStore(directory: work + "/store", maximumStepBytes: .max)
        let fileIngest = try LogsBench.time {
            var seq = 0
            for _ in 0..<batches {
                var bytes: [UInt8] = []
                for _ in 0..<batchLines {
                    seq += 1
                    bytes += Array(line(seq).utf8) + [10]
                }
                _ = try store.append(execution: 1, step: "Build", bytes: bytes)
            }
            _ = try store.finishStep(execution: 1, step: "Build")
        }
        let ingested = Double(batches * batchLines)
        var pgIngest: [String: Double] = [:]
        for (execution, synchronous) in [(1, "on"), (2, "off")] {
            try await exec(pg, "SET synchronous_commit = \(synchronous)", logger)
            let start = ContinuousClock.now
            var seq = 0
            for _ in 0..<batches {
                var texts: [String] = []
                var seqs: [Int64] = []
                for _ in 0..<batchLines {
                    seq += 1
                    seqs.append(Int64(seq))
                    texts.append(line(seq))
                }
                try await insert(pg, execution: execution, seqs: seqs, texts: texts, logger: logger)
            }
            pgIngest[synchronous] = (ContinuousClock.now - start).seconds
        }
        try await exec(pg, "SET synchronous_commit = on", logger)
        func ingestCell(_ seconds: Double) -> String {
            "\(LogsBench.format(ingested / seconds, 0)) lines/s (\(LogsBench.format(seconds / Double(batches) * 1e6, 0)) µs/batch)"
        }
        let syncOn = pgIngest["on"] ?? .nan
        let syncOff = pgIngest["off"] ?? .nan
        rows.append(
            (
                "ingest, 10-line batches, synchronous_commit=on", ingestCell(fileIngest), ingestCell(syncOn),
                LogsBench.format(syncOn / fileIngest, 1)
            ))
        rows.append(
            (
                "ingest, 10-line batches, synchronous_commit=off", ingestCell(fileIngest), ingestCell(syncOff),
                LogsBench.format(syncOff / fileIngest, 1)
            ))

        // A `lines`-line log in each (execution 10), loaded in large batches.
        let big = 10
        let fileLoad = try LogsBench.time {
            var bytes: [UInt8] = []
            for seq in 1...lines {
                bytes += Array(line(seq).utf8) + [10]
                if seq % 10_000 == 0 {
                    _ = try bytes.withUnsafeBytes { try store.ingest(execution: big, step: "Build", bytes: $0) }
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            if !bytes.isEmpty {
                _ = try bytes.withUnsafeBytes { try store.ingest(execution: big, step: "Build", bytes: $0) }
            }
            _ = try store.finishStep(execution: big, step: "Build")
        }
        try await exec(pg, "SET synchronous_commit = off", logger)
        let loadStart = ContinuousClock.now
        var seqs: [Int64] = []
        var texts: [String] = []
        for seq in 1...lines {
            seqs.append(Int64(seq))
            texts.append(line(seq))
            if seqs.count == 10_000 || seq == lines {
                try await insert(pg, execution: big, seqs: seqs, texts: texts, logger: logger)
                seqs.removeAll(keepingCapacity: true)
                texts.removeAll(keepingCapacity: true)
            }
        }
        try await exec(pg, "SET synchronous_commit = on", logger)
        try await exec(pg, "VACUUM ANALYZE log_lines", logger)
        let pgLoad = (ContinuousClock.now - loadStart).seconds
        rows.append(
            (
                "bulk load \(lines) lines (10,000-line batches)",
                "\(LogsBench.format(Double(lines) / fileLoad, 0)) lines/s",
                "\(LogsBench.format(Double(lines) / pgLoad, 0)) lines/s", LogsBench.format(pgLoad / fileLoad, 1)
            ))
        let tableBytes = try await scalar(pg, "SELECT pg_total_relation_size('log_lines')::text", logger)
        print("  table log_lines with indexes: \(Int(tableBytes).map { $0 >> 20 } ?? 0) MiB for all executions")

        // Pages.
        let middle = lines / 2
        let pageCases: [(String, LogPagination, String)] = [
            (
                "first page (cursor after_seq=0)", .after(seq: 0, perPage: pageSize),
                "SELECT seq, step, level, text FROM log_lines WHERE execution_id = \(big) AND seq > 0 ORDER BY seq LIMIT \(pageSize)"
            ),
            (
                "middle page (cursor after_seq=\(middle))", .after(seq: middle, perPage: pageSize),
                "SELECT seq, step, level, text FROM log_lines WHERE execution_id = \(big) AND seq > \(middle) ORDER BY seq LIMIT \(pageSize)"
            ),
            (
                "middle page (page=\(middle / pageSize), OFFSET)",
                .page(try PageRequest(page: middle / pageSize, perPage: pageSize)),
                "SELECT seq, step, level, text FROM log_lines WHERE execution_id = \(big) ORDER BY seq "
                    + "LIMIT \(pageSize) OFFSET \((middle / pageSize - 1) * pageSize)"
            ),
        ]
        for (name, pagination, sql) in pageCases {
            let file = try LogsBench.median(
                (0..<21).map { _ in
                    try LogsBench.time {
                        _ = try store.lines(execution: big, query: LogQuery(pagination: pagination))
                    }
                })
            let database = try await medianSeconds(21) { _ = try await fetchCount(pg, sql, logger) }
            rows.append((name, milliseconds(file), milliseconds(database), LogsBench.format(database / file, 1)))
        }

        // Search.
        var fileCount = 0
        let fileSearch = try LogsBench.median(
            (0..<3).map { _ in
                try LogsBench.time {
                    fileCount =
                        try store.lines(
                            execution: big,
                            query: LogQuery(
                                filter: LogFilter(text: "error"),
                                pagination: .page(try PageRequest(page: 1, perPage: 20)))
                        ).total ?? -1
                }
            })
        let searchSQL = "SELECT count(*)::text FROM log_lines WHERE execution_id = \(big) AND text ILIKE '%error%'"
        var pgCount = ""
        let pgSearch = try await medianSeconds(3) { pgCount = try await scalar(pg, searchSQL, logger) }
        // Both stores must hold the same lines, or the comparison means nothing.
        guard String(fileCount) == pgCount else {
            throw Failure(description: "the stores disagree: the file store counts \(fileCount), PostgreSQL \(pgCount)")
        }
        rows.append(
            (
                "search 'error' over \(lines) lines (count)", "\(milliseconds(fileSearch)) (\(fileCount))",
                "ILIKE: \(milliseconds(pgSearch)) (\(pgCount))", LogsBench.format(pgSearch / fileSearch, 1)
            ))
        let trigram = (try? await exec(pg, "CREATE EXTENSION IF NOT EXISTS pg_trgm", logger)) != nil
        if trigram {
            let indexStart = ContinuousClock.now
            try await exec(pg, "CREATE INDEX log_lines_text_trgm ON log_lines USING gin (text gin_trgm_ops)", logger)
            let indexSeconds = (ContinuousClock.now - indexStart).seconds
            let pgIndexed = try await medianSeconds(3) { pgCount = try await scalar(pg, searchSQL, logger) }
            rows.append(
                (
                    "search 'error' with pg_trgm GIN index", "\(milliseconds(fileSearch))",
                    "\(milliseconds(pgIndexed)) (\(pgCount)); index build \(LogsBench.format(indexSeconds, 1)) s",
                    LogsBench.format(pgIndexed / fileSearch, 1)
                ))
            // Ingest with the trigram index in place (every line is indexed as it arrives).
            let start = ContinuousClock.now
            var seq = 0
            for _ in 0..<(batches / 4) {
                var texts: [String] = []
                var seqs: [Int64] = []
                for _ in 0..<batchLines {
                    seq += 1
                    seqs.append(Int64(seq))
                    texts.append(line(seq))
                }
                try await insert(pg, execution: 3, seqs: seqs, texts: texts, logger: logger)
            }
            let withIndex = (ContinuousClock.now - start).seconds * 4
            rows.append(
                (
                    "ingest, 10-line batches, with the pg_trgm index", ingestCell(fileIngest), ingestCell(withIndex),
                    LogsBench.format(withIndex / fileIngest, 1)
                ))
        } else {
            print("  pg_trgm is not available on this cluster: indexed search not measured")
        }
        print("")
        printTable([("measure", "file store (a)", "PostgreSQL table (b)", "ratio PostgreSQL/file (time)")] + rows)

        try await benchmarkSharedBucket(pg, logger: logger, url: url)
        try await pg.close()
        try await exec(admin, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)", logger)
        try await admin.close()
    }

    // MARK: - Shared rate-limit bucket

    /// The cost of one `SharedRateLimitBuckets.take` statement (two keys), sequential and contended.
    static func benchmarkSharedBucket(_ pg: PostgresConnection, logger: Logger, url: String) async throws {
        // The schema of migration 010 (Sources/App/Migrations/010/CreateRateLimitBucket.swift).
        try await exec(
            pg,
            """
            CREATE TABLE rate_limit_buckets (key text PRIMARY KEY, tokens double precision NOT NULL,
                updated_at double precision NOT NULL, rejections bigint NOT NULL DEFAULT 0)
            """, logger)
        // The statement of `SharedRateLimitBuckets.take` with a budget of 1,000,000/1 s (never refusing, so
        // every call takes the same path as an allowed request).
        func take(_ keys: [String]) -> PostgresQuery {
            let refilled =
                "least(1000000::float8, b.tokens + greatest(0, EXCLUDED.updated_at - b.updated_at) * 1000000::float8)"
            var query: PostgresQuery = """
                INSERT INTO rate_limit_buckets AS b (key, tokens, updated_at, rejections)
                SELECT k, 999999::float8, n.t, 0
                FROM unnest(\(keys)::text[]) WITH ORDINALITY AS u(k, i),
                    (SELECT extract(epoch FROM clock_timestamp())::float8 AS t) AS n
                ORDER BY u.i
                ON CONFLICT (key) DO UPDATE SET
                    tokens = CASE WHEN REFILLED >= 1 THEN REFILLED - 1 ELSE REFILLED END,
                    rejections = CASE WHEN REFILLED >= 1 THEN 0 ELSE b.rejections + 1 END,
                    updated_at = EXCLUDED.updated_at
                RETURNING key, tokens, rejections
                """
            query.sql = query.sql.replacingOccurrences(of: "REFILLED", with: refilled)
            return query
        }
        let iterations = 5_000
        func perCall(_ body: () async throws -> Void) async throws -> Double {
            for _ in 0..<200 { try await body() }  // warm-up
            let start = ContinuousClock.now
            for _ in 0..<iterations { try await body() }
            return (ContinuousClock.now - start).seconds / Double(iterations) * 1e6
        }
        let select1 = try await perCall { _ = try await fetchCount(pg, "SELECT 1", logger) }
        let bucket = try await perCall {
            _ = try await pg.query(take(["TRIGGER|ip:203.0.113.9", "TRIGGER|user:7"]), logger: logger).collect()
        }
        // Four connections on the same two keys (one user hammering from four instances).
        var connections: [PostgresConnection] = []
        for _ in 0..<4 { connections.append(try await connect(url, logger: logger)) }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    for _ in 0..<iterations {
                        _ = try await connection.query(
                            take(["TRIGGER|ip:203.0.113.9", "TRIGGER|user:7"]), logger: logger
                        ).collect()
                    }
                }
            }
            try await group.waitForAll()
        }
        let contended = (ContinuousClock.now - start).seconds
        for connection in connections { try await connection.close() }
        print("")
        print("shared rate-limit bucket (SharedRateLimitBuckets.take, 2 keys), \(iterations) calls each:")
        print("  SELECT 1 round trip:                \(LogsBench.format(select1, 0)) µs")
        print(
            "  take, sequential:                   \(LogsBench.format(bucket, 0)) µs per request "
                + "(ratio to SELECT 1: \(LogsBench.format(bucket / select1, 2)))")
        print(
            "  take, 4 connections on the same keys: \(LogsBench.format(Double(4 * iterations) / contended, 0)) "
                + "requests/s (\(LogsBench.format(contended / Double(4 * iterations) * 1e6, 0)) µs each, wall)")
    }

    // MARK: - Helpers

    /// Median wall time in seconds of `runs` runs of `body` (the async counterpart of `LogsBench.time`).
    static func medianSeconds(_ runs: Int, _ body: () async throws -> Void) async throws -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try await body()
            times.append((ContinuousClock.now - start).seconds)
        }
        return LogsBench.median(times)
    }

    /// A synthetic build-log line (~90 bytes); every 97th line is an error.
    static func line(_ seq: Int) -> String {
        let level = seq % 97 == 0 ? "ERROR" : (seq % 13 == 0 ? "WARN" : "INFO")
        return "2026-12-07T02:\(String(format: "%02d:%02d", (seq / 60) % 60, seq % 60)).\(seq % 1000)Z [\(level)] "
            + "step \(seq % 7): compiling module Module\(seq % 1009) (\(seq % 313) of 313) in 0.\(seq % 97) s"
    }

    static func insert(
        _ pg: PostgresConnection, execution: Int, seqs: [Int64], texts: [String], logger: Logger
    ) async throws {
        let levels = texts.map { LevelDetector.level(of: $0).map { "\($0)" } ?? "" }
        let query: PostgresQuery = """
            INSERT INTO log_lines (execution_id, seq, step, level, text)
            SELECT \(Int64(execution)), s, 'Build', NULLIF(l, ''), t FROM unnest(\(seqs)::int8[], \(levels)::text[], \(texts)::text[]) AS u(s, l, t)
            """
        _ = try await pg.query(query, logger: logger).collect()
    }

    static func connect(_ url: String, logger: Logger) async throws -> PostgresConnection {
        let configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        return try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger
        ).get()
    }

    static func exec(_ pg: PostgresConnection, _ sql: String, _ logger: Logger) async throws {
        _ = try await pg.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
    }

    static func scalar(_ pg: PostgresConnection, _ sql: String, _ logger: Logger) async throws -> String {
        var value = ""
        for try await row in try await pg.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
            value = try row.decode(String.self)
        }
        return value
    }

    /// Runs `sql` and reads every row (as a client rendering the page would).
    static func fetchCount(_ pg: PostgresConnection, _ sql: String, _ logger: Logger) async throws -> Int {
        try await pg.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().count
    }

    /// A Markdown table; the first row is the header.
    static func printTable(_ rows: [(String, String, String, String)]) {
        let columns = rows.map { [$0.0, $0.1, $0.2, $0.3] }
        let widths = (0..<4).map { index in columns.map { $0[index].count }.max() ?? 0 }
        for (number, row) in columns.enumerated() {
            let cells = zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
            print("| " + cells.joined(separator: " | ") + " |")
            if number == 0 {
                print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
            }
        }
    }

    static func milliseconds(_ seconds: Double) -> String { "\(LogsBench.format(seconds * 1000, 2)) ms" }
}
