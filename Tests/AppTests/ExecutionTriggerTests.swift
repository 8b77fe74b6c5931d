import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Crypto
import Fluent
import Foundation
import LogStore
import PipewrightCore
import Realtime
import Testing
import Vapor
import VaporTesting

@testable import App

/// Triggering with retries, executions, the monitor and webhooks, against the fake Bitbucket.
@Suite struct ExecutionTriggerTests {
    static let email = "ci@acme.test"
    static let token = "ATATT-trigger-\(UUID().uuidString)"

    struct Setup {
        var ctx: TestContext
        var fake: FakeBitbucketServer
        var pipelineID: Int
        var webhookSecret: String
    }

    /// A fake with `acme/web` running Build/Test/Deploy, an app with fast retries and polling, and a pipeline.
    func withSetup(
        pollInterval: Duration = .milliseconds(50), monitorTimeout: Duration = .seconds(600),
        _ body: (Setup) async throws -> Void
    ) async throws {
        let fake = try await FakeBitbucketServer.start()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            _ = await fake.addRepository(
                workspace: "acme", slug: "web", mainBranch: "main", files: ["package.json": "{}"])
            await fake.acceptedAPIToken(email: Self.email, token: Self.token)
            await fake.scriptPipelines(
                workspace: "acme", slug: "web",
                steps: [
                    FakeStepScript(name: "Build", lines: ["building"]),
                    FakeStepScript(name: "Test", lines: ["testing"]),
                    FakeStepScript(name: "Deploy", lines: ["deploying"]),
                ])
            let transport = AsyncHTTPClientTransport(httpClient: httpClient)
            try await withTestApp(
                configure: {
                    $0.bitbucketAPIURL = fake.baseURL
                    $0.pollInterval = pollInterval
                    $0.monitorTimeout = monitorTimeout
                },
                services: { services in
                    services.triggerRetryBaseDelay = .milliseconds(10)
                    services.triggerRetryCap = .milliseconds(40)
                    services.makeBitbucketClient = { url, credentials, logger in
                        LiveBitbucketClient(
                            baseURL: url, credentials: credentials, transport: transport,
                            retryPolicy: RetryPolicy(
                                maxAttempts: 3, baseDelay: .milliseconds(5), cap: .milliseconds(20)),
                            logger: logger, requestTimeout: .seconds(5))
                    }
                }
            ) { ctx in
                var ids: [Int] = []
                for (path, payload) in [
                    (
                        "api/connections",
                        [
                            "name": "acme", "workspace": "acme",
                            "auth": ["type": "api_token", "email": Self.email, "token": Self.token],
                        ]
                    ),
                    ("api/ssh-keys", ["name": "deploy", "key_type": "ed25519"]),
                    ("api/servers", ["host": "203.0.113.10", "username": "deploy"]),
                ] as [(String, [String: Any])] {
                    try await ctx.app.testing().test(
                        .POST, path, headers: .json(ctx.memberAuth), body: try jsonBody(payload)
                    ) { res async throws in
                        ids.append(try #require(try res.json()["id"] as? Int))
                    }
                }
                var pipelineID = 0
                var secret = ""
                let pipeline: [String: Any] = [
                    "name": "web", "connection_id": ids[0], "repo_slug": "web",
                    "deploy": ["server_ids": [ids[2]], "ssh_key_id": ids[1], "deploy_path": "/srv/web"],
                ]
                try await ctx.app.testing().test(
                    .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(pipeline)
                ) { res async throws in
                    let json = try res.json()
                    pipelineID = try #require(json["id"] as? Int)
                    secret = try #require(json["webhook_secret"] as? String)
                }
                try await body(Setup(ctx: ctx, fake: fake, pipelineID: pipelineID, webhookSecret: secret))
                await ctx.app.executionSupervisor.shutdown()
            }
        } catch {
            try? await httpClient.shutdown()
            try? await fake.stop()
            throw error
        }
        try await httpClient.shutdown()
        try await fake.stop()
    }

    func trigger(
        _ setup: Setup, _ body: [String: Any] = ["branch": "main", "retry": true, "max_retries": 3],
        key: String? = nil
    ) async throws -> Int {
        var id = 0
        var headers = HTTPHeaders.json(setup.ctx.memberAuth)
        if let key { headers.add(name: "Idempotency-Key", value: key) }
        try await setup.ctx.app.testing().test(
            .POST, "api/pipelines/\(setup.pipelineID)/trigger", headers: headers, body: try jsonBody(body)
        ) { res async throws in
            #expect(res.status == .accepted, "\(res.body.string)")
            id = try #require(try res.json()["id"] as? Int)
        }
        return id
    }

    func execution(_ setup: Setup, _ id: Int) async throws -> [String: Any] {
        var json: [String: Any] = [:]
        try await setup.ctx.app.testing().test(.GET, "api/executions/\(id)", headers: setup.ctx.memberAuth) {
            res async throws in
            json = try res.json()
        }
        return json
    }

    /// Polls the execution until `done` holds (at most ~10 s).
    func waitFor(_ setup: Setup, _ id: Int, _ done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        for _ in 0..<400 {
            let json = try await execution(setup, id)
            if done(json) { return json }
            try await Task.sleep(for: .milliseconds(25))
        }
        return try await execution(setup, id)
    }

    @Test func seedStep3_twoServerErrors_oneBitbucketPipeline_success_threeAttempts() async throws {
        try await withSetup { setup in
            await setup.fake.failNextTriggers(2, with: .serverError)
            let id = try await trigger(setup)
            let pending = try await waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            let uuid = try #require((pending["bitbucket"] as? [String: Any])?["uuid"] as? String)
            #expect(uuid.hasPrefix("{") && uuid.hasSuffix("}"))
            _ = await setup.fake.runPipelineToCompletion(uuid)
            let done = try await waitFor(setup, id) { $0["status"] as? String == "SUCCESS" }
            #expect(done["status"] as? String == "SUCCESS")
            let attempts = try #require(done["attempts"] as? [[String: Any]])
            #expect(attempts.count == 3)
            #expect(
                attempts.prefix(2).allSatisfy {
                    $0["outcome"] as? String == "failed" && $0["http_status"] as? Int == 500
                })
            #expect(
                attempts.prefix(2).allSatisfy { $0["next_retry_at"] as? String != nil && $0["error"] as? String != nil }
            )
            #expect(attempts.last?["outcome"] as? String == "succeeded")
            #expect(await setup.fake.pipelineCount(workspace: "acme", slug: "web") == 1)
            #expect(
                ((done["steps"] as? [[String: Any]])?.map { $0["name"] as? String }) == ["Build", "Test", "Deploy"])
            // The monitor stored every step's log, in order.
            let stats = try setup.ctx.app.services.logStore.stats(execution: id)
            #expect(stats.totalLines == 3)
            #expect(stats.stepOrder == ["Build", "Test", "Deploy"])
        }
    }

    @Test func monitorRestart_resumesWithoutLostOrDuplicatedLines() async throws {
        try await withSetup { setup in
            let id = try await trigger(setup)
            let pending = try await waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            let uuid = try #require((pending["bitbucket"] as? [String: Any])?["uuid"] as? String)
            _ = await setup.fake.advancePipeline(uuid)  // Build running
            _ = await setup.fake.appendLog(pipeline: uuid, step: 0, text: "line 1\nline 2\npartial")
            _ = try await waitFor(setup, id) { _ in
                ((try? setup.ctx.app.services.logStore.stats(execution: id).totalLines) ?? 0) >= 2
            }
            // Service stops: monitors are handed back; a new supervisor resumes from the database.
            await setup.ctx.app.executionSupervisor.shutdown()
            _ = await setup.fake.appendLog(pipeline: uuid, step: 0, text: " line 3\nline 4\n")
            setup.ctx.app.executionSupervisor = ExecutionSupervisor(application: setup.ctx.app)
            await setup.ctx.app.executionSupervisor.resumeActive()
            _ = await setup.fake.runPipelineToCompletion(uuid)
            _ = try await waitFor(setup, id) { $0["status"] as? String == "SUCCESS" }
            let page = try setup.ctx.app.services.logStore.lines(execution: id, query: LogQuery())
            let texts = page.items.map { String(decoding: $0.bytes, as: UTF8.self) }
            #expect(Array(texts.prefix(4)) == ["line 1", "line 2", "partial line 3", "line 4"])
            #expect(Set(page.items.map(\.seq)).count == page.items.count)
        }
    }

    @Test func unauthorized_isOneAttempt_andError() async throws {
        try await withSetup { setup in
            await setup.fake.failNextTriggers(1, with: .unauthorized)
            let id = try await trigger(setup)
            let done = try await waitFor(setup, id) { $0["status"] as? String == "ERROR" }
            #expect(done["status"] as? String == "ERROR")
            #expect((done["attempts"] as? [Any])?.count == 1)
            #expect((done["error"] as? String)?.contains("bitbucket_unauthorized") == true)
            #expect(await setup.fake.pipelineCount(workspace: "acme", slug: "web") == 0)
        }
    }

    @Test func rateLimitStorm_neverMoreThanMaxRetriesPlusOnePosts() async throws {
        try await withSetup { setup in
            await setup.fake.failNextTriggers(100, with: .tooManyRequests)
            let id = try await trigger(setup, ["branch": "main", "max_retries": 2])
            let done = try await waitFor(setup, id) { $0["status"] as? String == "ERROR" }
            #expect(done["status"] as? String == "ERROR")
            let posts = await setup.fake.requests().filter { $0.method == "POST" && $0.path.contains("/pipelines") }
            #expect(posts.count == 3)
            let attempts = try #require(done["attempts"] as? [[String: Any]])
            #expect(attempts.map { $0["http_status"] as? Int } == [429, 429, 429])
        }
    }

    @Test func acceptedThenDropped_retryDoesNotStartASecondPipeline() async throws {
        try await withSetup { setup in
            await setup.fake.failNextTriggers(1, with: .acceptThenDrop)
            let id = try await trigger(setup)
            let done = try await waitFor(setup, id) {
                ($0["bitbucket"] as? [String: Any]) != nil || $0["status"] as? String == "ERROR"
            }
            #expect((done["bitbucket"] as? [String: Any])?["uuid"] as? String != nil, "\(done)")
            #expect(await setup.fake.pipelineCount(workspace: "acme", slug: "web") == 1)
        }
    }

    @Test func twentyConcurrentTriggers_sameIdempotencyKey_oneExecution_onePipeline() async throws {
        try await withSetup { setup in
            let ids = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await trigger(setup, key: "deploy-42") } }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            let id = try #require(ids.first)
            _ = try await waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            #expect(await setup.fake.pipelineCount(workspace: "acme", slug: "web") == 1)
            #expect(try await Execution.query(on: setup.ctx.app.db).count() == 1)
        }
    }

    @Test func webhook_badSignatureIs401_goodOneWakesTheMonitor() async throws {
        try await withSetup(pollInterval: .seconds(3600)) { setup in
            let id = try await trigger(setup)
            let pending = try await waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            let uuid = try #require((pending["bitbucket"] as? [String: Any])?["uuid"] as? String)
            _ = await setup.fake.runPipelineToCompletion(uuid)
            let body = ByteBuffer(string: #"{"commit_status": {"state": "SUCCESSFUL"}}"#)
            try await setup.ctx.app.testing().test(
                .POST, "api/webhooks/bitbucket/\(setup.pipelineID)",
                headers: ["X-Hub-Signature": "sha256=" + String(repeating: "0", count: 64)], body: body
            ) { res async throws in
                #expect(res.status == .unauthorized)
                #expect(res.errorCode == "invalid_signature")
            }
            #expect(try await execution(setup, id)["status"] as? String != "SUCCESS")
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array(body.readableBytesView), using: SymmetricKey(data: Array(setup.webhookSecret.utf8)))
            let signature = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
            try await setup.ctx.app.testing().test(
                .POST, "api/webhooks/bitbucket/\(setup.pipelineID)", headers: ["X-Hub-Signature": signature], body: body
            ) { res async throws in
                #expect(res.status == .accepted)
            }
            let done = try await waitFor(setup, id) { $0["status"] as? String == "SUCCESS" }
            #expect(done["status"] as? String == "SUCCESS")
        }
    }

    @Test func trigger_validation() async throws {
        try await withSetup { setup in
            for (body, field) in [
                (["commit": "xyz"], "commit"), (["max_retries": 50], "max_retries"), (["branch": "a..b"], "branch"),
                (["variables": [["key": "1BAD", "value": "x"]]], "variables[0].key"),
            ] as [([String: Any], String)] {
                try await setup.ctx.app.testing().test(
                    .POST, "api/pipelines/\(setup.pipelineID)/trigger", headers: .json(setup.ctx.memberAuth),
                    body: try jsonBody(body)
                ) { res async throws in
                    #expect(res.status == .badRequest)
                    #expect(
                        try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error.details["field"]
                            == field)
                }
            }
        }
    }

    @Test func monitorTimeout_publishesLogTimeout_andStops() async throws {
        try await withSetup(monitorTimeout: .milliseconds(300)) { setup in
            let id = try await trigger(setup)
            let events = await setup.ctx.app.executionEvents.subscribe(.execution(id))
            _ = try await waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            var sawTimeout = false
            let deadline = ContinuousClock.now + .seconds(5)
            for await delivery in events {
                if case .event(let event) = delivery, event.name == .logTimeout {
                    #expect(event.executionID == id)
                    #expect(event.payloadJSON.contains("\"after_s\":0.3"))
                    sawTimeout = true
                    break
                }
                if ContinuousClock.now > deadline { break }
            }
            #expect(sawTimeout)
            let supervisor = setup.ctx.app.executionSupervisor
            #expect(await eventually { await supervisor.isMonitoring(executionID: id) == false })
        }
    }

    @Test func stop_asksBitbucket_andExecutionEndsStopped() async throws {
        try await withSetup { setup in
            let id = try await trigger(setup)
            _ = try await waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            try await setup.ctx.app.testing().test(.POST, "api/executions/\(id)/stop", headers: setup.ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok, "\(res.body.string)")
            }
            let done = try await waitFor(setup, id) { $0["status"] as? String == "STOPPED" }
            #expect(done["status"] as? String == "STOPPED")
            try await setup.ctx.app.testing().test(.POST, "api/executions/\(id)/stop", headers: setup.ctx.memberAuth) {
                res async throws in
                #expect(res.status == .conflict)
            }
            try await setup.ctx.app.testing().test(.POST, "api/executions/\(id)/rerun", headers: setup.ctx.memberAuth) {
                res async throws in
                #expect(res.status == .accepted)
                #expect(try res.json()["id"] as? Int != id)
            }
        }
    }

    @Test func concurrentIdenticalTriggers_withoutKey_oneExecution_andKeyReuseWithOtherBodyIs422() async throws {
        try await withSetup { setup in
            // Keep the first execution TRIGGERING (Bitbucket answers 500) while the duplicates arrive.
            await setup.fake.failNextTriggers(1000, with: .serverError)
            let ids = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<15 { group.addTask { try await trigger(setup, ["branch": "main", "max_retries": 10]) } }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            _ = try await trigger(setup, ["branch": "release"], key: "k1")
            var headers = HTTPHeaders.json(setup.ctx.memberAuth)
            headers.add(name: "Idempotency-Key", value: "k1")
            try await setup.ctx.app.testing().test(
                .POST, "api/pipelines/\(setup.pipelineID)/trigger", headers: headers,
                body: try jsonBody(["branch": "other"])
            ) { res async throws in
                #expect(res.status == .unprocessableEntity)
            }
        }
    }
}
