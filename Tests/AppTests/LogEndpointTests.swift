import Fluent
import Foundation
import LogStore
import Testing
import Vapor
import VaporTesting

@testable import App

/// Log endpoints (docs/API.md "Logs") over logs loaded through the admin ingestion path.
@Suite struct LogEndpointTests {
    /// A member pipeline with executions of the given statuses; returns (pipeline id, execution ids).
    func seed(_ ctx: TestContext, statuses: [Execution.Status]) async throws -> (Int, [Int]) {
        var ids: [Int] = []
        for (path, payload) in [
            (
                "api/connections",
                ["name": "acme", "workspace": "acme", "auth": ["type": "access_token", "token": "t0k3n"]]
            ),
            ("api/ssh-keys", ["name": "deploy", "key_type": "ed25519"]),
            ("api/servers", ["host": "203.0.113.10", "username": "deploy"]),
        ] as [(String, [String: Any])] {
            try await ctx.app.testing().test(.POST, path, headers: .json(ctx.memberAuth), body: try jsonBody(payload)) {
                res async throws in
                ids.append(try #require(try res.json()["id"] as? Int))
            }
        }
        var pipelineID = 0
        try await ctx.app.testing().test(
            .POST, "api/pipelines", headers: .json(ctx.memberAuth),
            body: try jsonBody([
                "name": "web", "connection_id": ids[0], "repo_slug": "web",
                "deploy": ["server_ids": [ids[2]], "ssh_key_id": ids[1], "deploy_path": "/srv/web"],
            ])
        ) { res async throws in pipelineID = try #require(try res.json()["id"] as? Int) }
        var executions: [Int] = []
        for (index, status) in statuses.enumerated() {
            let execution = Execution()
            execution.$owner.id = ctx.memberID
            execution.$pipeline.id = pipelineID
            execution.branch = "main"
            execution.retry = true
            execution.maxRetries = 3
            execution.status = status
            execution.stepsJSON = #"[{"name":"Build","status":"COMPLETED","uuid":"{s1}"}]"#
            execution.triggerBy = "member"
            execution.triggerAt = Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 3600)
            execution.startedAt = execution.triggerAt
            execution.finishedAt = status.isTerminal ? execution.triggerAt.addingTimeInterval(60) : nil
            try await execution.create(on: ctx.app.db)
            executions.append(try execution.requireID())
        }
        return (pipelineID, executions)
    }

    func ingest(_ ctx: TestContext, _ id: Int, step: String, _ text: String, finish: Bool = true) async throws {
        try await ctx.app.testing().test(
            .POST, "api/executions/\(id)/logs?step=\(step)&finish=\(finish)", headers: ctx.adminAuth,
            body: ByteBuffer(string: text)
        ) { res async throws in #expect(res.status == .ok, "\(res.body.string)") }
    }

    /// One date rule for log and audit filters: a shown (whole-second) time as `to_date` includes that
    /// row, impossible days and reversed ranges are 400.
    @Test func pipelineLogs_dateRange_oneRule() async throws {
        try await withTestApp { ctx in
            let (pipelineID, ids) = try await seed(ctx, statuses: [.success])
            let execution = try #require(try await Execution.find(ids[0], on: ctx.app.db))
            execution.triggerAt = Date(timeIntervalSince1970: 1_700_000_000.4)  // shown as …:13:20Z
            try await execution.save(on: ctx.app.db)
            let shown = "2023-11-14T22:13:20Z"
            try await ctx.app.testing().test(
                .GET, "api/pipelines/\(pipelineID)/logs?from_date=\(shown)&to_date=\(shown)", headers: ctx.memberAuth
            ) { res async throws in
                #expect(res.status == .ok)
                #expect((try res.json()["items"] as? [Any])?.count == 1)
            }
            for (query, field) in [
                ("to_date=2026-02-30", "to_date"), ("from_date=2026-02-01&to_date=2026-01-31", "to_date"),
                ("from_date=yesterday", "from_date"),
            ] {
                try await ctx.app.testing().test(
                    .GET, "api/pipelines/\(pipelineID)/logs?\(query)", headers: ctx.memberAuth
                ) {
                    res async throws in
                    #expect(res.status == .badRequest, "\(query)")
                    let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body))
                    #expect(body.error.details["field"] == field, "\(query)")
                }
            }
        }
    }

    @Test func seedStep4_failedExecutions_shapeAndTotals() async throws {
        try await withTestApp { ctx in
            let (pipelineID, ids) = try await seed(ctx, statuses: [.success, .failed, .failed, .success, .failed])
            try await ingest(ctx, ids[1], step: "Build", "npm ci\nERROR build broke\n")
            try await ctx.app.testing().test(
                .GET, "api/pipelines/\(pipelineID)/logs?status=FAILED&page=1&per_page=20", headers: ctx.memberAuth
            ) { res async throws in
                #expect(res.status == .ok)
                let json = try res.json()
                let items = try #require(json["items"] as? [[String: Any]])
                #expect(items.count == 3)
                // Executions at the top level, as the seed returned them (issue 12 item 11).
                #expect(items.allSatisfy { $0["status"] as? String == "FAILED" && $0["steps"] is [Any] })
                #expect(items.allSatisfy { $0["execution"] == nil && $0["started_at"] is String })
                let pagination = try #require(json["pagination"] as? [String: Any])
                #expect(
                    pagination["total"] as? Int == 3 && pagination["pages"] as? Int == 1
                        && pagination["per_page"] as? Int == 20)
                let withLog = try #require(items.first { $0["id"] as? Int == ids[1] })
                #expect(withLog["errors"] as? Int == 1)
                #expect((withLog["excerpt"] as? [[String: Any]])?.last?["text"] as? String == "ERROR build broke")
                let summary = try #require(json["summary"] as? [String: Any])
                #expect(summary["total"] as? Int == 3)
                #expect((summary["by_status"] as? [String: Int])?["FAILED"] == 3)
            }
            try await ctx.app.testing().test(.GET, "api/pipelines/\(pipelineID)/logs", headers: ctx.memberAuth) {
                res async throws in
                let summary = try #require(try res.json()["summary"] as? [String: Any])
                #expect(summary["success_rate"] as? Double == 0.4)
                #expect(summary["average_duration_s"] as? Double == 60)
            }
            for bad in ["status=NOPE", "page=0", "page=-1", "per_page=abc", "from_date=yesterday"] {
                try await ctx.app.testing().test(
                    .GET, "api/pipelines/\(pipelineID)/logs?\(bad)", headers: ctx.memberAuth
                ) { res async throws in
                    #expect(res.status == .badRequest, "\(bad)")
                }
            }
        }
    }

    @Test func lines_filterHighlightAndCursor() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await seed(ctx, statuses: [.failed])
            let id = ids[0]
            let log =
                (1...250).map { $0 % 50 == 0 ? "\u{1B}[31mERROR\u{1B}[0m step \($0) failed ✗ 日本" : "INFO line \($0)" }
                .joined(separator: "\n") + "\n"
            try await ingest(ctx, id, step: "Build", log)
            try await ctx.app.testing().test(
                .GET, "api/executions/\(id)/logs?q=error&highlight=true", headers: ctx.memberAuth
            ) { res async throws in
                let json = try res.json()
                let items = try #require(json["items"] as? [[String: Any]])
                #expect(items.count == 5)
                #expect((json["pagination"] as? [String: Any])?["total"] as? Int == 5)
                #expect((items.first?["highlights"] as? [[Int]]) == [[0, 5]])
                #expect(items.first?["level"] as? String == "ERROR")
            }
            try await ctx.app.testing().test(
                .GET, "api/executions/\(id)/logs?level=WARN&per_page=1000", headers: ctx.memberAuth
            ) { res async throws in
                let json = try res.json()
                #expect((json["items"] as? [Any])?.count == 5)
                #expect((json["pagination"] as? [String: Any])?["per_page"] as? Int == 100)
            }
            // Cursor walk: every line once, in order.
            var seen: [Int] = []
            var after = 0
            for _ in 0..<20 {
                var next: Int?
                var count = 0
                try await ctx.app.testing().test(
                    .GET, "api/executions/\(id)/logs?after_seq=\(after)&per_page=40", headers: ctx.memberAuth
                ) { res async throws in
                    let json = try res.json()
                    let items = (json["items"] as? [[String: Any]]) ?? []
                    count = items.count
                    seen += items.compactMap { $0["seq"] as? Int }
                    next = json["next_after_seq"] as? Int
                }
                guard let next, count > 0 else { break }
                after = next
            }
            #expect(seen == Array(1...250))
            try await ctx.app.testing().test(.GET, "api/executions/\(id)/logs?q=(a&regex=true", headers: ctx.memberAuth)
            { res async throws in
                #expect(res.status == .badRequest)
                #expect(res.errorCode == "invalid_regex")
            }
        }
    }

    @Test func raw_isByteExact_andSupportsRange() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await seed(ctx, statuses: [.success])
            let id = ids[0]
            let log = "a 10%\ra 50%\ra 100%\n\u{1B}[32m✔ done\u{1B}[0m\n"
            try await ingest(ctx, id, step: "Build", log)
            try await ctx.app.testing().test(.GET, "api/executions/\(id)/logs/raw", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok)
                #expect(Array(res.body.readableBytesView) == Array(log.utf8))
            }
            try await ctx.app.testing().test(
                .GET, "api/executions/\(id)/logs/raw",
                headers: ["Authorization": "Bearer \(ctx.memberToken)", "Range": "bytes=2-4"]
            ) { res async throws in
                #expect(res.status == .partialContent)
                #expect(res.body.string == "10%")
                #expect(res.headers.first(name: .contentRange) == "bytes 2-4/\(log.utf8.count)")
            }
            try await ctx.app.testing().test(
                .GET, "api/executions/\(id)/logs/raw",
                headers: ["Authorization": "Bearer \(ctx.memberToken)", "Range": "bytes=9999-"]
            ) { res async throws in
                #expect(res.status == .rangeNotSatisfiable)
            }
            // Unusable Range headers are ignored (RFC 9110): the whole log.
            for header in ["bytes=5-2", "bytes=0-0,5-9", "items=0-5"] {
                try await ctx.app.testing().test(
                    .GET, "api/executions/\(id)/logs/raw",
                    headers: ["Authorization": "Bearer \(ctx.memberToken)", "Range": header]
                ) { res async throws in
                    #expect(res.status == .ok, "\(header)")
                    #expect(Array(res.body.readableBytesView) == Array(log.utf8))
                }
            }
            try await ctx.app.testing().test(.GET, "api/executions/\(id)/logs/raw?step=nosuch", headers: ctx.memberAuth)
            { res async throws in
                #expect(res.status == .ok)
                #expect(res.body.readableBytes == 0)
            }
            try await ctx.app.testing().test(.GET, "api/executions/\(id)/logs/stats", headers: ctx.memberAuth) {
                res async throws in
                let json = try res.json()
                #expect(json["total_lines"] as? Int == 2)
                #expect(json["bytes"] as? Int == log.utf8.count)
                #expect((json["by_step"] as? [String: Any])?["Build"] != nil)
            }
        }
    }

    /// Ingestion is for admins; logs belong to the team (issue 13 item 1): a viewer reads the maintainer's
    /// execution logs, and an unknown execution is a 404.
    @Test func ingestion_isAdminOnly_andLogsAreTheTeams() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await seed(ctx, statuses: [.success])
            for auth in [ctx.memberAuth, ctx.viewerAuth] {
                try await ctx.app.testing().test(
                    .POST, "api/executions/\(ids[0])/logs?step=Build", headers: auth, body: ByteBuffer(string: "x\n")
                ) { res async throws in
                    #expect(res.status == .forbidden && res.errorCode == "forbidden")
                }
            }
            try await ingest(ctx, ids[0], step: "Build", "x\n")
            for path in ["logs", "logs/raw", "logs/stats"] {
                try await ctx.app.testing().test(.GET, "api/executions/\(ids[0])/\(path)", headers: ctx.viewerAuth) {
                    res async throws in
                    #expect(res.status == .ok, "\(path)")
                }
                try await ctx.app.testing().test(.GET, "api/executions/999999/\(path)", headers: ctx.viewerAuth) {
                    res async throws in
                    #expect(res.status == .notFound, "\(path)")
                }
            }
        }
    }

    @Test func retention_deletesOldFinishedLogs_neverActiveOnes() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await seed(ctx, statuses: [.success, .building])
            for id in ids { try await ingest(ctx, id, step: "Build", "hello\n") }
            // The first finished in 2023 (seed dates); the second is still running.
            let deleted = try await LogRetention.prune(application: ctx.app, now: Date())
            #expect(deleted == [ids[0]])
            #expect(!ctx.app.services.logStore.hasLog(execution: ids[0]))
            #expect(ctx.app.services.logStore.hasLog(execution: ids[1]))
        }
    }

    // MARK: - Issue 12 item 9: unbounded and binary output

    func ingestBytes(_ ctx: TestContext, _ id: Int, step: String, _ bytes: [UInt8], finish: Bool = true) async throws {
        try await ctx.app.testing().test(
            .POST, "api/executions/\(id)/logs?step=\(step)&finish=\(finish)", headers: ctx.adminAuth,
            body: ByteBuffer(bytes: bytes)
        ) { res async throws in #expect(res.status == .ok, "\(res.body.string)") }
    }

    /// NUL, BEL, backspace, DEL… never reach JSON `text` (U+FFFD instead); TAB, ESC and CR do; the raw
    /// download keeps every byte; `strip_ansi=true` removes the escapes only.
    @Test func binaryOutput_controlBytesReplacedInJSON_rawKeepsThem() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await seed(ctx, statuses: [.failed])
            let line: [UInt8] =
                Array("bin".utf8) + [0x00, 0x07, 0x08, 0x7F, 0x01] + Array("\tx\u{1B}[31mred\u{1B}[0m\r".utf8)
            let stored = line + [0x0A] + Array("ERROR \u{0}boom\n".utf8)
            try await ingestBytes(ctx, ids[0], step: "Build", stored)
            try await ctx.app.testing().test(.GET, "api/executions/\(ids[0])/logs", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok)
                let body = res.body.string
                #expect(
                    !body.contains("\\u0000") && !body.contains("\\u0007") && !body.contains("\\b")
                        && !body.contains("\\u0001"))
                let items = try #require(try res.json()["items"] as? [[String: Any]])
                #expect(
                    items.first?["text"] as? String
                        == "bin\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\tx\u{1B}[31mred\u{1B}[0m\r")
                #expect(items.last?["text"] as? String == "ERROR \u{FFFD}boom")
            }
            try await ctx.app.testing().test(.GET, "api/executions/\(ids[0])/logs/stats", headers: ctx.memberAuth) {
                res async throws in
                let firstError = try #require(try res.json()["first_error"] as? [String: Any])
                #expect(firstError["text"] as? String == "ERROR \u{FFFD}boom")
                #expect(try res.json()["dropped_bytes"] as? Int == 0)
            }
            try await ctx.app.testing().test(.GET, "api/executions/\(ids[0])/logs/raw", headers: ctx.memberAuth) {
                res async throws in
                #expect(Array(res.body.readableBytesView) == stored)
            }
            try await ctx.app.testing().test(
                .GET, "api/executions/\(ids[0])/logs/raw?strip_ansi=true", headers: ctx.memberAuth
            ) { res async throws in
                #expect(res.status == .ok)
                #expect(res.headers.contentType?.subType == "plain")
                let plain =
                    Array("bin".utf8) + [0x00, 0x07, 0x08, 0x7F, 0x01] + Array("\txred\r\nERROR \u{0}boom\n".utf8)
                #expect(Array(res.body.readableBytesView) == plain)
            }
            try await ctx.app.testing().test(
                .GET, "api/executions/\(ids[0])/logs/raw?strip_ansi=true&step=Build", headers: ctx.memberAuth
            ) { res async throws in
                #expect(!res.body.string.contains("\u{1B}"))
            }
        }
    }

    /// 3 MiB of binary output into a step capped at 1 MiB: 1 MiB is stored, the rest is counted as dropped
    /// and one marker line says how much; the monitor's store API and ingestion share the cap.
    @Test func unboundedOutput_isCappedPerStep_withMarkerAndDroppedCount() async throws {
        try await withTestApp(configure: { $0.logMaxStepBytes = 1 << 20 }) { ctx in
            let (_, ids) = try await seed(ctx, statuses: [.failed])
            var generator = SplitMix64Bytes(seed: 12)
            let chunk = (0..<(256 << 10)).map { _ in generator.next() }
            for _ in 0..<12 { try await ingestBytes(ctx, ids[0], step: "Build", chunk, finish: false) }
            try await ingestBytes(ctx, ids[0], step: "Build", [], finish: true)
            try await ingest(ctx, ids[0], step: "Test", "fine\n")
            var total = 0
            try await ctx.app.testing().test(.GET, "api/executions/\(ids[0])/logs/stats", headers: ctx.memberAuth) {
                res async throws in
                let json = try res.json()
                let dropped = try #require(json["dropped_bytes"] as? Int)
                #expect(dropped == 3 << 20 - 1 << 20)
                let steps = try #require(json["by_step"] as? [String: [String: Any]])
                #expect(steps["Build"]?["dropped_bytes"] as? Int == 2 << 20)
                #expect(steps["Test"]?["dropped_bytes"] as? Int == 0)
                let buildBytes = try #require(steps["Build"]?["bytes"] as? Int)
                #expect(buildBytes > 1 << 20 && buildBytes < (1 << 20) + 512)
                total = try #require(json["bytes"] as? Int)
            }
            let marker =
                "[pipewright] log truncated: this step printed more than 1048576 bytes (PIPEWRIGHT_LOG_MAX_STEP_BYTES); 2097152 bytes were dropped"
            try await ctx.app.testing().test(
                .GET, "api/executions/\(ids[0])/logs?step=Build&q=log%20truncated", headers: ctx.memberAuth
            ) { res async throws in
                let items = try #require(try res.json()["items"] as? [[String: Any]])
                #expect(items.count == 1)
                #expect(items.first?["text"] as? String == marker)
            }
            try await ctx.app.testing().test(.GET, "api/executions/\(ids[0])/logs/raw", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.body.readableBytes == total)
                #expect(res.body.string.hasSuffix(marker + "\nfine\n"))
            }
        }
    }
}

/// Deterministic bytes (SplitMix64), including NULs and invalid UTF-8.
struct SplitMix64Bytes {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt8 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
}
