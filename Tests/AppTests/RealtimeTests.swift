import Crypto
import Fluent
import Foundation
import LogStore
import PipewrightCore
import Realtime
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// Realtime endpoints (docs/realtime.md) against the real python-socketio client, websocket-client and
/// `requests` (Tests/Clients/realtime_client.py), over real sockets.
@Suite(.serialized) struct RealtimeTests {
    let logs = LogEndpointTests()

    /// Fast heartbeats so a silent client is dropped within a second or two.
    func fastPings(_ configuration: inout PipewrightConfiguration) {
        configuration.realtime.pingInterval = .milliseconds(500)
        configuration.realtime.pingTimeout = .milliseconds(500)
    }

    func lines(_ range: ClosedRange<Int>) -> String {
        range.map { "line \($0)\n" }.joined()
    }

    /// Waits until the hub has `count` subscribers of the execution (the client subscribed).
    func waitForSubscribers(_ ctx: TestContext, _ id: Int, count: Int = 1) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while await ctx.app.executionEvents.subscriberCount(.execution(id)) < count {
            guard ContinuousClock.now < deadline else {
                Issue.record("no subscriber appeared")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stored line texts of the execution, in seq order.
    func storedTexts(_ ctx: TestContext, _ id: Int) throws -> [String] {
        var texts: [String] = []
        var after = 0
        while true {
            let page = try ctx.app.services.logStore.lines(
                execution: id, query: LogQueryBuilder.after(after))
            guard let last = page.items.last else { return texts }
            texts += page.items.map { (line: LogLine) in line.text }
            after = last.seq
        }
    }

    // MARK: - Socket.IO

    @Test func socketIO_ackSnapshotAndLiveInSeqOrder_isolation_badToken_foreignExecution() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            let id = ids[0]
            try await logs.ingest(ctx, id, step: "Build", lines(1...50), finish: false)
            let admin = try #require(try await User.query(on: ctx.app.db).filter(\.$username == "admin").first())
            let foreign = Execution()
            foreign.$owner.id = try admin.requireID()
            foreign.$pipeline.id = try #require(try await Execution.find(id, on: ctx.app.db)).$pipeline.id
            foreign.branch = "main"
            foreign.retry = false
            foreign.maxRetries = 0
            foreign.status = .building
            foreign.stepsJSON = "[]"
            foreign.triggerBy = "admin"
            foreign.triggerAt = Date()
            try await foreign.create(on: ctx.app.db)
            let foreignID = try foreign.requireID()

            try await withRunningServer(ctx) { url in
                let watcher = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)",
                    "--until-seq", "120",
                ])
                let bystander = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", ctx.memberToken, "--timeout", "3",
                ])
                // The admin's execution is the team's (issue 13 item 1): the refusal is for one that does not exist.
                let intruder = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution",
                    "\(foreignID + 1000)",
                    "--timeout", "3",
                ])
                let badToken = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", "pw_forged", "--timeout", "3",
                ])
                let noToken = try PythonRealtimeClient(["socketio", "--url", url.absoluteString, "--timeout", "3"])
                try await waitForSubscribers(ctx, id)
                for start in stride(from: 51, through: 120, by: 10) {
                    try await logs.ingest(ctx, id, step: "Build", lines(start...(start + 9)), finish: false)
                }
                let watched = try await watcher.finish()
                #expect(watched.lineSeqs == Array(1...120))
                #expect(watched.lineTexts == (1...120).map { "line \($0)" })
                let ack = try #require(watched.records("ack").first?["data"] as? [String: Any])
                #expect(ack["ok"] as? Bool == true)
                #expect(ack["status"] as? String == "BUILDING")
                let status = try #require(watched.events.first { $0.0 == "pipeline_status" }?.1)
                #expect(status["execution_id"] as? Int == id)
                #expect(status["status"] as? String == "BUILDING")
                #expect((status["seq"] as? Int ?? 0) >= 50)
                let first = try #require(watched.events.first { $0.0 == "pipeline_logs" }?.1)
                #expect((first["step"] as? [String: Any])?["name"] as? String == "Build")

                let idle = try await bystander.finish()
                #expect(idle.records("connected").count == 1)
                #expect(idle.events.isEmpty, "a client that did not subscribe received \(idle.events.count) events")

                let refused = try await intruder.finish()
                let refusal = try #require(refused.records("ack").first?["data"] as? [String: Any])
                #expect(refusal["ok"] as? Bool == false)
                #expect((refusal["error"] as? [String: Any])?["code"] as? String == "not_found")
                #expect(refused.events.isEmpty)

                for client in [badToken, noToken] {
                    let rejected = try await client.finish()
                    let error = try #require(rejected.records("connect_error").first?["data"] as? [String: Any])
                    #expect(error["message"] as? String == "unauthorized")
                    #expect(rejected.records("connect_failed").count == 1)
                }
            }
        }
    }

    @Test func socketIO_disconnectMidStream_thenResumeAfterSeq_unionIsTheStoredLog() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            let id = ids[0]
            try await logs.ingest(ctx, id, step: "Build", lines(1...30), finish: false)
            try await withRunningServer(ctx) { url in
                let first = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)",
                    "--stop-after-lines", "45",
                ])
                try await waitForSubscribers(ctx, id)
                for start in stride(from: 31, through: 100, by: 7) {
                    try await logs.ingest(ctx, id, step: "Build", lines(start...(start + 6)), finish: false)
                }
                let before = try await first.finish()
                let lastSeq = try #require(before.records("stopped").first?["last_seq"] as? Int)
                #expect(lastSeq >= 45)
                // More lines while nobody watches, then resume after the last line received.
                try await logs.ingest(ctx, id, step: "Build", lines(101...150), finish: true)
                let second = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)",
                    "--after-seq", "\(lastSeq)", "--until-seq", "150",
                ])
                let after = try await second.finish()
                let union = before.lineSeqs.filter { $0 <= lastSeq } + after.lineSeqs
                #expect(union == Array(1...150), "gap or duplicate across the reconnect")
                #expect(after.lineSeqs.first == lastSeq + 1)
                let texts = before.lineTexts.prefix(lastSeq) + after.lineTexts
                #expect(Array(texts) == (try storedTexts(ctx, id)))
            }
        }
    }

    @Test func socketIO_protocolEdges_polling_oldEIO_noUpgrade_foreignOrigin_bigEvent_silentClientDropped() async throws
    {
        try await withTestApp(configure: fastPings) { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            try await ctx.app.testing().test(.GET, "socket.io/?EIO=4&transport=polling&t=N8hyd6w") { res async throws in
                #expect(res.status == .badRequest)
                #expect(res.headers.contentType == .json)
                #expect(try res.json()["message"] as? String == "Transport unknown")
            }
            try await ctx.app.testing().test(
                .GET, "socket.io/?EIO=3&transport=websocket",
                headers: ["Upgrade": "websocket", "Connection": "Upgrade"]
            ) { res async throws in
                #expect(res.status == .badRequest)
                #expect(try res.json()["code"] as? Int == 5)
            }
            // A GET that looks like a WebSocket URL but has no Upgrade never gets 101.
            for (path, headers) in [
                ("socket.io/?EIO=4&transport=websocket", HTTPHeaders()),
                ("socket.io?transport=websocket&EIO=4", ["Connection": "keep-alive"]),
            ] {
                try await ctx.app.testing().test(.GET, path, headers: headers) { res async throws in
                    #expect(res.status == .badRequest)
                }
            }
            try await ctx.app.testing().test(.GET, "api/ws", headers: ctx.memberAuth) { res async throws in
                #expect(res.status == .badRequest)
                #expect(res.errorCode == "invalid_field")
            }
            try await ctx.app.testing().test(
                .GET, "socket.io/?EIO=4&transport=websocket",
                headers: [
                    "Upgrade": "websocket", "Connection": "Upgrade", "Origin": "https://evil.example",
                    "Host": "127.0.0.1:8080",
                ]
            ) { res async throws in
                #expect(res.status == .forbidden)
                #expect(try res.json()["code"] as? Int == 4)
            }
            try await withRunningServer(ctx) { url in
                let big = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", ctx.memberToken,
                    "--call", "get_execution_status:{\"execution_id\": \(ids[0])}", "--pad", "200000", "--timeout",
                    "0.5",
                ])
                let silent = try PythonRealtimeClient([
                    "silent", "--url", url.absoluteString, "--token", ctx.memberToken, "--timeout", "10",
                ])
                let answered = try await big.finish()
                let ack = try #require(answered.records("ack").first?["data"] as? [String: Any])
                #expect(ack["ok"] as? Bool == true)
                #expect((ack["execution"] as? [String: Any])?["id"] as? Int == ids[0])
                #expect(answered.records("done").first?["connected"] as? Bool == true)

                let dropped = try await silent.finish()
                let open = try #require(dropped.records("open").first?["frame"] as? String)
                #expect(
                    open.hasPrefix("0{") && open.contains("\"upgrades\":[]") && open.contains("\"pingInterval\":500"))
                #expect((dropped.records("frame").first?["frame"] as? String)?.hasPrefix("40{\"sid\":") == true)
                let closed = try #require(dropped.records("closed").first)
                let after = try #require(closed["after_s"] as? Double)
                #expect(after >= 0.9 && after < 4, "dropped after \(after) s (interval 0.5 s + timeout 0.5 s)")
                #expect(closed["pings"] as? Int ?? 0 >= 1)
            }
        }
    }

    @Test func socketIO_sessionCookieOrBearerHeaderAuthenticate_theAuthTokenWinsOverThem() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            try await logs.ingest(ctx, ids[0], step: "Build", lines(1...3), finish: false)
            let cookie = try await cookieLogin(ctx).cookie
            try await withRunningServer(ctx) { url in
                let byCookie = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--cookie", cookie, "--execution", "\(ids[0])",
                    "--until-seq", "3",
                ])
                let byHeader = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--header-token", ctx.memberToken, "--execution",
                    "\(ids[0])",
                    "--until-seq", "3",
                ])
                // An explicit but wrong token in CONNECT is refused even with a valid cookie.
                let wrongToken = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--cookie", cookie, "--token", "pw_wrong", "--timeout",
                    "3",
                ])
                #expect(try await byCookie.finish().lineSeqs == [1, 2, 3])
                #expect(try await byHeader.finish().lineSeqs == [1, 2, 3])
                #expect(try await wrongToken.finish().records("connect_error").count == 1)
            }
        }
    }

    @Test func session_capsSubscriptionsPerConnection_andUnsubscribeFreesThem() async throws {
        try await withTestApp { ctx in
            let limit = RealtimeSession.maximumSubscriptions
            let (_, ids) = try await logs.seed(ctx, statuses: Array(repeating: .building, count: limit + 1))
            let token = try #require(
                try await APIToken.query(on: ctx.app.db).filter(\.$user.$id == ctx.memberID).first())
            let user = AuthenticatedUser(
                id: ctx.memberID, username: "member", role: .maintainer, method: .bearerToken(id: try token.requireID())
            )
            let session = RealtimeSession(application: ctx.app, user: user) { _ in }
            let acks = AckBox()
            for id in ids {
                await session.handle(event: "subscribe_pipeline_status", argument: .object(["execution_id": .int(id)]))
                {
                    acks.append($0)
                }
            }
            #expect(acks.all.prefix(limit).allSatisfy { $0.contains("\"ok\":true") })
            #expect(acks.all.last?.contains("\"code\":\"invalid_request\"") == true)
            #expect(await session.subscriptionCount == limit)
            await session.handle(event: "unsubscribe", argument: .object(["execution_id": .int(ids[0])])) {
                acks.append($0)
            }
            await session.handle(
                event: "subscribe_pipeline_status", argument: .object(["execution_id": .int(ids[limit])])
            ) {
                acks.append($0)
            }
            #expect(acks.all.last?.contains("\"ok\":true") == true)
            await session.close()
            #expect(await session.subscriptionCount == 0)
            // Once the token is revoked, the next request is refused and the connection closed.
            let closed = AckBox()
            let revoked = RealtimeSession(application: ctx.app, user: user, close: { closed.append("closed") }) { _ in }
            try await token.delete(on: ctx.app.db)
            await revoked.handle(event: "subscribe_pipeline_status", argument: .object(["execution_id": .int(ids[0])]))
            {
                acks.append($0)
            }
            #expect(acks.all.last?.contains("\"code\":\"unauthenticated\"") == true)
            #expect(closed.all == ["closed"])
        }
    }

    @Test func revokingTheToken_closesItsLiveStreams_onEveryTransport() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            var token = ""
            var tokenID = 0
            try await ctx.app.testing().test(
                .POST, "api/tokens", headers: .json(ctx.memberAuth), body: try jsonBody(["name": "viewer"])
            ) {
                res async throws in
                let json = try res.json()
                token = try #require(json["token"] as? String)
                tokenID = try #require(json["id"] as? Int)
            }
            try await withRunningServer(ctx) { url in
                let clients = try ["socketio", "ws", "sse"].map { mode in
                    try PythonRealtimeClient([
                        mode, "--url", url.absoluteString, "--token", token, "--execution", "\(ids[0])", "--timeout",
                        "20",
                    ])
                }
                try await waitForSubscribers(ctx, ids[0], count: 3)
                // /metrics counts connected realtime clients per transport.
                try await ctx.app.testing().test(.GET, "metrics") { res async throws in
                    for transport in ["socketio", "websocket", "sse"] {
                        let line = res.body.string.split(separator: "\n").first {
                            $0.hasPrefix("pipewright_realtime_connections{transport=\"\(transport)\"}")
                        }
                        let value = line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
                        #expect(value >= 1, "\(transport): \(line ?? "missing")")
                    }
                }
                try await ctx.app.testing().test(.DELETE, "api/tokens/\(tokenID)", headers: ctx.memberAuth) {
                    res async throws in
                    #expect(res.status == .noContent)
                }
                try await logs.ingest(ctx, ids[0], step: "Build", lines(1...5), finish: true)
                let started = ContinuousClock.now
                for client in clients {
                    let seen = try await client.finish(timeout: .seconds(25))
                    #expect(seen.lineSeqs.isEmpty, "a revoked token still received lines")
                }
                #expect(ContinuousClock.now - started < .seconds(10), "streams stayed open after the revoke")
                #expect(await ctx.app.realtimeConnections.count() == 0)
            }
        }
    }

    @Test func socketIO_overWSS_withTheServicesOwnCertificate() async throws {
        try await withRunningTLSApp { ctx, port, certificate in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            try await logs.ingest(ctx, ids[0], step: "Build", lines(1...10), finish: true)
            let secure = try PythonRealtimeClient([
                "socketio", "--url", "https://localhost:\(port)", "--token", ctx.memberToken, "--execution",
                "\(ids[0])",
                "--until-seq", "10", "--cafile", certificate.certificatePath,
            ])
            #expect(try await secure.finish().lineSeqs == Array(1...10))
            // Without trusting the certificate the client refuses to connect.
            let untrusting = try PythonRealtimeClient([
                "socketio", "--url", "https://localhost:\(port)", "--token", ctx.memberToken, "--timeout", "3",
            ])
            #expect(try await untrusting.finish().records("connect_failed").count == 1)
        }
    }

    // MARK: - SSE and plain WebSocket

    @Test func sse_lastEventIDResume_unionIsTheStoredLog_andProxyHeaders() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            let id = ids[0]
            try await logs.ingest(ctx, id, step: "Build", lines(1...20), finish: false)
            try await withRunningServer(ctx) { url in
                let first = try PythonRealtimeClient([
                    "sse", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)",
                    "--stop-after-lines", "35",
                ])
                try await waitForSubscribers(ctx, id)
                for start in stride(from: 21, through: 80, by: 6) {
                    try await logs.ingest(ctx, id, step: "Build", lines(start...(start + 5)), finish: false)
                }
                let before = try await first.finish()
                let response = try #require(before.records("response").first)
                #expect(response["status"] as? Int == 200)
                let headers = try #require(response["headers"] as? [String: String])
                #expect(headers["content-type"]?.hasPrefix("text/event-stream") == true)
                #expect(headers["cache-control"] == "no-cache")
                #expect(headers["x-accel-buffering"] == "no")
                // Resume the way EventSource does: Last-Event-ID = the id of the last complete event.
                let lastIDText = try #require(before.records("sse_id").last?["id"] as? String)
                let lastID = try #require(Int(lastIDText))
                try await logs.ingest(ctx, id, step: "Build", lines(81...120), finish: true)
                let second = try PythonRealtimeClient([
                    "sse", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)",
                    "--after-seq", "\(lastID)", "--until-seq", "120",
                ])
                let after = try await second.finish()
                #expect(before.lineSeqs + after.lineSeqs == Array(1...120), "gap or duplicate across the SSE reconnect")
                #expect(before.lineTexts + after.lineTexts == (try storedTexts(ctx, id)))
                // Each event's id is the seq of its last line.
                let ids = after.records("sse_id").compactMap { ($0["id"] as? String).flatMap(Int.init) }
                #expect(ids.last == 120 || after.events.last?.0 == "pipeline_status")
            }
            // Bad resume positions and other users' executions.
            try await ctx.app.testing().test(
                .GET, "api/executions/\(id)/events", headers: ctx.memberAuth.adding("Last-Event-ID", "-4")
            ) { res async throws in
                #expect(res.status == .badRequest)
                #expect(res.errorCode == "invalid_field")
            }
            try await ctx.app.testing().test(.GET, "api/executions/\(id)/events") { res async throws in
                #expect(res.status == .unauthorized)
            }
        }
    }

    @Test func plainWebSocket_resumeAfterSeq_unionIsTheStoredLog_badMessagesKeepTheConnection() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            let id = ids[0]
            try await logs.ingest(ctx, id, step: "Build", lines(1...25), finish: false)
            try await withRunningServer(ctx) { url in
                let first = try PythonRealtimeClient([
                    "ws", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)",
                    "--stop-after-lines", "40", "--raw-send", "not json",
                ])
                try await waitForSubscribers(ctx, id)
                for start in stride(from: 26, through: 70, by: 5) {
                    try await logs.ingest(ctx, id, step: "Build", lines(start...(start + 4)), finish: false)
                }
                let before = try await first.finish()
                let ack = try #require(before.records("ack").first)
                #expect(ack["id"] as? Int == 1)
                #expect((ack["data"] as? [String: Any])?["ok"] as? Bool == true)
                #expect(
                    (before.records("error").first?["data"] as? [String: Any])?["code"] as? String == "invalid_message")
                let lastSeq = try #require(before.records("stopped").first?["last_seq"] as? Int)
                try await logs.ingest(ctx, id, step: "Build", lines(71...90), finish: true)
                let second = try PythonRealtimeClient([
                    "ws", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)",
                    "--after-seq", "\(lastSeq)", "--until-seq", "90",
                ])
                let after = try await second.finish()
                #expect(before.lineSeqs.filter { $0 <= lastSeq } + after.lineSeqs == Array(1...90))
            }
        }
    }

    // MARK: - Monitor-driven events

    @Test func monitor_finalStatusAndEveryLine_reachTheViewer_andTheStoredLogIsComplete() async throws {
        let triggers = ExecutionTriggerTests()
        try await triggers.withSetup { setup in
            let id = try await triggers.trigger(setup)
            let pending = try await triggers.waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            let uuid = try #require((pending["bitbucket"] as? [String: Any])?["uuid"] as? String)
            try await withRunningServer(setup.ctx) { url in
                let viewer = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", setup.ctx.memberToken, "--execution", "\(id)",
                    "--until-status", "SUCCESS,FAILED,STOPPED,ERROR", "--timeout", "25",
                ])
                try await waitForSubscribers(setup.ctx, id)
                _ = await setup.fake.advancePipeline(uuid)  // Build running
                for chunk in 0..<5 {
                    _ = await setup.fake.appendLog(
                        pipeline: uuid, step: 0, text: (1...20).map { "build \(chunk * 20 + $0)\n" }.joined())
                    try await Task.sleep(for: .milliseconds(60))
                }
                _ = await setup.fake.runPipelineToCompletion(uuid)
                let seen = try await viewer.finish()
                let statuses = seen.events.filter { $0.0 == "pipeline_status" }.compactMap { $0.1["status"] as? String }
                #expect(statuses.last == "SUCCESS")
                #expect(Set(statuses).count == statuses.count, "a status was delivered twice: \(statuses)")
                let final = try #require(seen.events.last { $0.0 == "pipeline_status" }?.1)
                #expect(final["previous_status"] is String)
                let stored = try storedTexts(setup.ctx, id)
                #expect(seen.lineTexts == stored)
                #expect(seen.lineSeqs == Array(1...stored.count))
                #expect(stored.contains("build 100") && stored.contains("deploying"))
                // The final status carries the highest stored seq.
                #expect(final["seq"] as? Int == stored.count)
                // An SSE stream of the finished execution replays everything and ends after the final status.
                let started = ContinuousClock.now
                let sse = try await PythonRealtimeClient([
                    "sse", "--url", url.absoluteString, "--token", setup.ctx.memberToken, "--execution", "\(id)",
                    "--timeout", "20",
                ]).finish()
                #expect(ContinuousClock.now - started < .seconds(10))
                #expect(sse.lineTexts == stored)
                #expect(sse.events.last?.0 == "pipeline_status")
                #expect(sse.events.last?.1["status"] as? String == "SUCCESS")
            }
        }
    }

    @Test func monitor_logTimeout_reachesTheViewer() async throws {
        let triggers = ExecutionTriggerTests()
        try await triggers.withSetup(monitorTimeout: .milliseconds(1500)) { setup in
            let id = try await triggers.trigger(setup)
            _ = try await triggers.waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            try await withRunningServer(setup.ctx) { url in
                let viewer = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", setup.ctx.memberToken, "--execution", "\(id)",
                    "--until-status", "log_timeout", "--timeout", "15",
                ])
                let seen = try await viewer.finish()
                let timeout = try #require(seen.events.first { $0.0 == "log_timeout" }?.1)
                #expect(timeout["execution_id"] as? Int == id)
                #expect(timeout["after_s"] as? Double == 1.5)
            }
        }
    }

    // MARK: - Restart

    @Test func serviceRestart_clientsReconnectAndResumeWithoutLoss() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-restart-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let masterKey = MasterKey.generate()
        // SQLite on purpose: the restarted service reopens the same database file.
        let persistent: (inout PipewrightConfiguration) -> Void = {
            $0.dataDirectory = directory
            $0.database = .sqlite(path: directory + "/pipewright.sqlite")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var port = 0
        var executionID = 0
        var client: PythonRealtimeClient?
        try await withTestApp(masterKey: masterKey, configure: persistent) { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            executionID = ids[0]
            try await logs.ingest(ctx, executionID, step: "Build", lines(1...30), finish: false)
            try await withRunningServer(ctx) { url in
                port = url.port ?? 0
                client = try PythonRealtimeClient([
                    "socketio", "--url", url.absoluteString, "--token", ctx.memberToken, "--execution",
                    "\(executionID)",
                    "--reconnect", "--until-seq", "100", "--timeout", "30",
                ])
                try await waitForSubscribers(ctx, executionID)
                try await logs.ingest(ctx, executionID, step: "Build", lines(31...50), finish: false)
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        // Lines stored while the service is down are replayed after the reconnect.
        try await withTestApp(masterKey: masterKey, configure: persistent) { ctx in
            try await logs.ingest(ctx, executionID, step: "Build", lines(51...70), finish: false)
            try await withRunningServer(ctx, port: port) { _ in
                try await waitForSubscribers(ctx, executionID)
                try await logs.ingest(ctx, executionID, step: "Build", lines(71...100), finish: true)
                let seen = try await #require(client).finish()
                #expect(seen.records("connected").count >= 2, "the client did not reconnect")
                #expect(seen.lineSeqs == Array(1...100), "lines lost or repeated across the restart")
                #expect(seen.lineTexts == (try storedTexts(ctx, executionID)))
            }
        }
    }

    // MARK: - Frame limit (issue 12, item 4)

    /// A 2 MiB line (stored as 1 MiB pieces; ESC-heavy, so its JSON is up to six times longer) reaches the
    /// real python-socketio client (live and replayed), `/api/ws` and SSE in frames of at most the advertised
    /// `maxPayload` (1,000,000 bytes); the parts carry `continues: true` and join to the stored line, as the
    /// REST pieces do.
    @Test func longLine_everyFrameWithinMaxPayload_partsJoinToStoredLine() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await logs.seed(ctx, statuses: [.building])
            let id = ids[0]
            try await logs.ingest(ctx, id, step: "Build", "before\n", finish: false)
            let unit = "\u{1B}[31m\u{E9}\u{1F680}\"\\\u{0}x/"
            var long = ""
            while long.utf8.count < 2 << 20 { long += unit }
            let expected = ["before", long.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}"), "after"]
            func digest(_ text: String) -> String {
                SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            }

            // REST: the stored pieces carry `continues` and join to the line.
            func joinedREST() async throws -> [String] {
                var joined: [String] = []
                var pending = ""
                try await ctx.app.testing().test(.GET, "api/executions/\(id)/logs?after_seq=0", headers: ctx.memberAuth)
                { res async throws in
                    for item in try #require(try res.json()["items"] as? [[String: Any]]) {
                        pending += item["text"] as? String ?? ""
                        if item["continues"] as? Bool != true {
                            joined.append(pending)
                            pending = ""
                        }
                    }
                }
                return joined
            }

            try await withRunningServer(ctx) { url in
                let base = [
                    "--url", url.absoluteString, "--token", ctx.memberToken, "--execution", "\(id)", "--join-lines",
                ]
                let live = try PythonRealtimeClient(["socketio"] + base + ["--until-seq", "5"])
                try await waitForSubscribers(ctx, id)
                try await logs.ingest(ctx, id, step: "Build", long + "\nafter\n", finish: false)
                let highest = try ctx.app.services.logStore.highestSeq(execution: id)
                #expect(highest == 4)  // before, two 1 MiB pieces, after
                #expect(try await joinedREST() == expected)
                var clients = [("socketio live", live)]
                for mode in ["socketio", "ws", "sse"] {
                    clients.append((mode, try PythonRealtimeClient([mode] + base + ["--until-seq", "\(highest)"])))
                }
                for (name, client) in clients {
                    let output = try await client.finish(timeout: .seconds(60))
                    let done = try #require(output.records("done").last, "\(name): no done record")
                    let largest = done["max_frame_bytes"] as? Int ?? .max
                    #expect(largest <= 1_000_000, "\(name): a frame of \(largest) bytes")
                    #expect(largest > 500_000, "\(name): the long line was not received (largest frame \(largest))")
                    let joined = output.records("joined")
                    #expect(joined.map { $0["sha256"] as? String ?? "" } == expected.map(digest), "\(name)")
                    #expect(joined.map { $0["bytes"] as? Int ?? 0 } == expected.map(\.utf8.count), "\(name)")
                }
            }
        }
    }
}

/// Collects ack payloads.
final class AckBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}

/// Cursor queries for reading a whole stored log in tests.
enum LogQueryBuilder {
    static func after(_ seq: Int) -> LogQuery { LogQuery(pagination: .after(seq: seq, perPage: 100)) }
}

extension HTTPHeaders {
    func adding(_ name: String, _ value: String) -> HTTPHeaders {
        var copy = self
        copy.add(name: name, value: value)
        return copy
    }
}
