import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Foundation
import PipewrightCore
import PipewrightTesting
import Testing

/// Trigger, list, get, stop and steps against the fake
/// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/), including the real API's
/// quirks: a list without `next`, UUID braces percent-encoded in paths, states without `result`, and tag
/// triggers that need a commit.
@Suite struct BitbucketPipelineTests {
    /// A fake with `acme/web` (main + a yml with a custom pipeline); returns the head commit.
    static func setUp(_ server: FakeBitbucketServer) async throws -> String {
        let yml =
            "pipelines:\n  default:\n    - step:\n        script: [make]\n  custom:\n    deploy-production:\n      - step:\n          script: [./deploy]\n"
        return try #require(
            await server.addRepository(workspace: "acme", slug: "web", files: ["bitbucket-pipelines.yml": yml]))
    }

    @Test func trigger_branch_returns201Parsed_pendingWithBracedUUIDAndIncreasingBuildNumbers() async throws {
        try await withFakeBitbucket { server in
            let head = try await Self.setUp(server)
            let client = makeClient(server)
            let first = try await client.triggerPipeline(
                workspace: "acme", slug: "web", target: .branch("main"),
                variables: [
                    BitbucketPipelineVariable(key: "ENV", value: "production"),
                    BitbucketPipelineVariable(key: "TOKEN", secret: Secret("s3cr3t-value")),
                ])
            #expect(first.uuid.hasPrefix("{") && first.uuid.hasSuffix("}"))
            #expect(first.buildNumber == 1)
            #expect(first.state == .pending)
            #expect(first.branch == "main")
            #expect(first.commit == head)
            #expect(first.triggerName == "MANUAL")
            #expect(first.repositoryFullName == "acme/web")
            #expect(first.createdOn != nil && first.completedOn == nil)
            let second = try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            #expect(second.buildNumber == 2)
            #expect(second.uuid != first.uuid)

            let requests = await server.requests()
            #expect(requests.count == 2)
            #expect(requests[0].method == "POST")
            #expect(requests[0].path == "/2.0/repositories/acme/web/pipelines/")
            let body = try #require(FakeJSON.parse(requests[0].body))
            #expect(body["target"]?["type"] == "pipeline_ref_target")
            #expect(body["target"]?["ref_type"] == "branch")
            #expect(body["target"]?["ref_name"] == "main")
            let stored = try #require(await server.pipelineSnapshot(first.uuid))
            #expect(stored.variables.map(\.key) == ["ENV", "TOKEN"])
            #expect(stored.variables.map(\.secured) == [false, true])
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 2)
        }
    }

    @Test func trigger_customPatternOnCommit_andUnknownPattern() async throws {
        try await withFakeBitbucket { server in
            let head = try await Self.setUp(server)
            let client = makeClient(server)
            let run = try await client.triggerPipeline(
                workspace: "acme", slug: "web", target: .custom("deploy-production", onBranch: "main", commit: head))
            #expect(run.selectorType == "custom")
            #expect(run.selectorPattern == "deploy-production")
            #expect(run.commit == head)
            let bare = try await client.triggerPipeline(
                workspace: "acme", slug: "web", target: .custom("deploy-production", commit: head))
            #expect(bare.refName == nil && bare.commit == head)
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.triggerPipeline(
                    workspace: "acme", slug: "web", target: .custom("nope", onBranch: "main"))
            }
            guard case .badRequest(let message, _)? = error else {
                Issue.record("expected badRequest, got \(String(describing: error))")
                return
            }
            #expect(message.contains("selector is not found"))
        }
    }

    @Test func trigger_tagWithoutCommit_is500_andNotRetried() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await makeClient(server).triggerPipeline(
                    workspace: "acme", slug: "web", target: BitbucketPipelineTarget(refType: .tag, refName: "v1.0"))
            }
            #expect(error == .upstream(status: 500, message: "Internal Server Error"))
            #expect(await server.requests().count == 1)
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 0)
        }
    }

    @Test func trigger_429_isNotRetried_returnsRateLimited() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let clock = ImmediateClock()
            await server.failNextTriggers(1, with: .tooManyRequests)
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await makeClient(server, clock: clock).triggerPipeline(
                    workspace: "acme", slug: "web", target: .branch("main"))
            }
            #expect(error == .rateLimited(retryAfter: nil))
            #expect(await server.requests().count == 1)
            #expect(clock.sleeps.isEmpty)
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 0)
        }
    }

    @Test func trigger_500And401_areNotRetried_andCreateNothing() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let client = makeClient(server)
            await server.failNextTriggers(1, with: .serverError)
            await server.failNextTriggers(1, with: .unauthorized)
            let serverError = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            }
            #expect(serverError?.code == "bitbucket_upstream_error")
            let unauthorized = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            }
            #expect(unauthorized?.code == "bitbucket_unauthorized")
            #expect(await server.requests().count == 2)
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 0)
            // The queue is used up: the third trigger succeeds.
            _ = try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 1)
        }
    }

    @Test func trigger_acceptThenDrop_surfacesTimeout_andLookupFindsTheOneRun() async throws {
        try await withFakeBitbucket { server in
            let head = try await Self.setUp(server)
            await server.failNextTriggers(1, with: .acceptThenDrop)
            await server.setPipelineBehaviour(acceptThenDropDelay: .seconds(3))
            let client = LiveBitbucketClient(
                baseURL: server.baseURL, credentials: .apiToken(email: testEmail, token: Secret(testToken)),
                transport: AsyncHTTPClientTransport(httpClient: sharedHTTPClient), retryPolicy: fastRetryPolicy,
                requestTimeout: .milliseconds(400))
            let started = ContinuousClock.now
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.triggerPipeline(
                    workspace: "acme", slug: "web", target: .commit(head, onBranch: "main"))
            }
            #expect(error?.code == "bitbucket_timeout")
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(await server.requests().count == 1)
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 1)
            // What the caller does before re-POSTing: the run exists, so no second trigger.
            let found = try await client.pipelines(workspace: "acme", slug: "web", commit: head, maxPages: 1)
            #expect(found.count == 1)
            #expect(found.first?.commit == head)
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 1)
        }
    }

    @Test func trigger_acceptThenDrop_patientClient_seesConnectionError_notASecondRun() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            await server.failNextTriggers(1, with: .acceptThenDrop)
            await server.setPipelineBehaviour(acceptThenDropDelay: .milliseconds(100))
            let client = LiveBitbucketClient(
                baseURL: server.baseURL, credentials: .apiToken(email: testEmail, token: Secret(testToken)),
                transport: AsyncHTTPClientTransport(httpClient: sharedHTTPClient), retryPolicy: fastRetryPolicy,
                requestTimeout: .seconds(10))
            let started = ContinuousClock.now
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            }
            guard case .transport? = error else {
                Issue.record("expected a transport error, got \(String(describing: error))")
                return
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(await server.requests().count == 1)
            #expect(await server.pipelineCount(workspace: "acme", slug: "web") == 1)
        }
    }

    @Test func list_withoutNext_25PipelinesPagelen10_returnsAll25NewestFirst() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            for _ in 1...25 { await server.addPipeline(workspace: "acme", slug: "web") }
            await server.setPagination(maxPagelen: 10)
            let runs = try await makeClient(server).pipelines(workspace: "acme", slug: "web")
            #expect(runs.count == 25)
            #expect(runs.map(\.buildNumber) == Array((1...25).reversed()))
            let requests = await server.requests()
            #expect(requests.map { $0.queryValue("page") } == [nil, "2", "3"])
            for request in requests {
                #expect(request.path == "/2.0/repositories/acme/web/pipelines/")
                #expect(request.queryValues("sort") == ["-created_on"])
                #expect(request.queryValues("pagelen").count == 1)
            }
        }
    }

    @Test func list_filtersByBranchAndCommit_andMaxPagesBoundsTheLookup() async throws {
        try await withFakeBitbucket { server in
            let head = try await Self.setUp(server)
            let feature = try #require(
                await server.addBranch(
                    workspace: "acme", slug: "web", name: "feature/x", from: "main", files: ["a": "b"]))
            for _ in 1...3 { await server.addPipeline(workspace: "acme", slug: "web", branch: "main") }
            for _ in 1...12 { await server.addPipeline(workspace: "acme", slug: "web", branch: "feature/x") }
            let client = makeClient(server)
            let onMain = try await client.pipelines(workspace: "acme", slug: "web", branch: "main")
            #expect(onMain.count == 3 && onMain.allSatisfy { $0.commit == head })
            let byCommit = try await client.pipelines(workspace: "acme", slug: "web", commit: feature)
            #expect(byCommit.count == 12)
            await server.clearRequests()
            let recent = try await client.pipelines(
                workspace: "acme", slug: "web", branch: "feature/x", commit: nil, sort: "-created_on", pagelen: 5,
                maxPages: 1)
            #expect(recent.map(\.buildNumber) == [15, 14, 13, 12, 11])
            let requests = await server.requests()
            #expect(requests.count == 1)
            #expect(requests.first?.queryValue("target.branch") == "feature/x")
        }
    }

    @Test func get_byBracedUUID_isPercentEncoded_andByBuildNumber() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let client = makeClient(server)
            let created = try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            let fetched = try await client.pipeline(workspace: "acme", slug: "web", uuid: created.uuid)
            #expect(fetched.uuid == created.uuid)
            #expect(fetched.buildNumber == created.buildNumber)
            let path = try #require(await server.requests().last?.path)
            let inner = String(created.uuid.dropFirst().dropLast())
            #expect(path == "/2.0/repositories/acme/web/pipelines/%7B\(inner)%7D")
            let byNumber = try await client.pipeline(workspace: "acme", slug: "web", uuid: String(created.buildNumber))
            #expect(byNumber.uuid == created.uuid)
        }
    }

    @Test func get_unbracedUUID_throwsNotFound_notAValidUUID() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let client = makeClient(server)
            let created = try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            let unbraced = String(created.uuid.dropFirst().dropLast())
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.pipeline(workspace: "acme", slug: "web", uuid: unbraced)
            }
            #expect(error == .notFound(message: "Not found: The value provided is not a valid uuid."))
            #expect(await server.requests().count == 2)  // 404 is not retried
            let missing = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.pipeline(
                    workspace: "acme", slug: "web", uuid: "{00000000-0000-0000-0000-000000000000}")
            }
            #expect(missing?.code == "bitbucket_not_found")
        }
    }

    @Test func stateDecoding_pausedHaltedWithoutResult_unknownNames_missingResult() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let client = makeClient(server)
            let uuid = try #require(await server.addPipeline(workspace: "acme", slug: "web"))
            func state(_ json: FakeJSON?) async throws -> BitbucketPipelineState {
                await server.overridePipelineState(uuid, with: json)
                return try await client.pipeline(workspace: "acme", slug: "web", uuid: uuid).state
            }
            #expect(try await state(nil) == .pending)
            #expect(
                try await state([
                    "name": "IN_PROGRESS", "type": "pipeline_state_in_progress",
                    "stage": ["name": "PAUSED", "type": "pipeline_state_in_progress_paused"],
                ]) == .inProgress(stage: .paused))
            #expect(
                try await state(["name": "IN_PROGRESS", "stage": ["name": "HALTED"]]) == .inProgress(stage: .halted))
            #expect(
                try await state(["name": "IN_PROGRESS", "stage": ["name": "THINKING"]])
                    == .inProgress(stage: .unknown("THINKING")))
            #expect(
                try await state(["name": "IN_PROGRESS", "type": "pipeline_state_in_progress"])
                    == .inProgress(stage: .running))
            #expect(
                try await state(["name": "COMPLETED", "type": "pipeline_state_completed"])
                    == .completed(result: .unknown("")))
            #expect(
                try await state(["name": "COMPLETED", "result": ["name": "EXPIRED"]]) == .completed(result: .expired))
            #expect(
                try await state(["name": "COMPLETED", "result": ["name": "VAPORISED"]])
                    == .completed(result: .unknown("VAPORISED")))
            #expect(try await state(["name": "PARSING"]) == .unknown("PARSING"))
            #expect(try await state(["type": "pipeline_state_pending"]) == .pending)
            // Through the fake's own machine as well.
            await server.overridePipelineState(uuid, with: nil)
            await server.advancePipeline(uuid)
            await server.setPipelineHalted(uuid, true)
            #expect(
                try await client.pipeline(workspace: "acme", slug: "web", uuid: uuid).state
                    == .inProgress(stage: .halted))
        }
    }

    @Test func stop_runningPipeline_204ThenStopped_andStopOnCompleted_isBadRequest() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let client = makeClient(server)
            let run = try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            await server.advancePipeline(run.uuid)
            #expect(
                try await client.pipeline(workspace: "acme", slug: "web", uuid: run.uuid).state
                    == .inProgress(stage: .running))
            try await client.stopPipeline(workspace: "acme", slug: "web", uuid: run.uuid)
            let stopped = try await client.pipeline(workspace: "acme", slug: "web", uuid: run.uuid)
            #expect(stopped.state == .completed(result: .stopped))
            #expect(stopped.state.isTerminal)
            #expect(stopped.completedOn != nil)
            let steps = try await client.steps(workspace: "acme", slug: "web", pipelineUUID: run.uuid)
            #expect(steps.first?.state == .completed(result: .stopped))
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.stopPipeline(workspace: "acme", slug: "web", uuid: run.uuid)
            }
            guard case .badRequest(let message, _)? = error else {
                Issue.record("expected badRequest, got \(String(describing: error))")
                return
            }
            #expect(message.contains("already completed"))
            let stopRequests = await server.requests().filter { $0.path.hasSuffix("/stopPipeline") }
            #expect(stopRequests.count == 2)
            #expect(stopRequests.allSatisfy { $0.method == "POST" && $0.path.contains("%7B") })
        }
    }

    @Test func steps_followTheScript_pendingToRunningToCompletedWithResult() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            await server.scriptPipelines(
                workspace: "acme", slug: "web",
                steps: [
                    FakeStepScript(name: "Build", lines: ["+ make", "ok"], result: .successful),
                    FakeStepScript(name: "Test", lines: ["+ make test", "1 failure"], result: .failed),
                    FakeStepScript(name: "Deploy", lines: ["+ ./deploy"]),
                ])
            let client = makeClient(server)
            let run = try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
            func current() async throws -> (BitbucketPipelineState, [BitbucketPipelineStep]) {
                (
                    try await client.pipeline(workspace: "acme", slug: "web", uuid: run.uuid).state,
                    try await client.steps(workspace: "acme", slug: "web", pipelineUUID: run.uuid)
                )
            }
            var (state, steps) = try await current()
            #expect(state == .pending)
            #expect(steps.map(\.name) == ["Build", "Test", "Deploy"])
            #expect(steps.allSatisfy { $0.state == .pending && $0.startedOn == nil })
            #expect(steps.allSatisfy { $0.uuid.hasPrefix("{") })

            await server.advancePipeline(run.uuid)
            (state, steps) = try await current()
            #expect(state == .inProgress(stage: .running))
            #expect(steps.map(\.state) == [.inProgress, .pending, .pending])
            #expect(steps[0].startedOn != nil)

            await server.advancePipeline(run.uuid)
            (state, steps) = try await current()
            #expect(state == .inProgress(stage: .running))
            #expect(steps.map(\.state) == [.completed(result: .successful), .inProgress, .pending])
            #expect(steps[0].durationInSeconds == 10)
            #expect(steps[0].completedOn != nil)

            await server.advancePipeline(run.uuid)
            (state, steps) = try await current()
            #expect(state == .completed(result: .failed))
            #expect(steps.map(\.state) == [.completed(result: .successful), .completed(result: .failed), .pending])
            #expect(steps[1].state.resultName == "FAILED")
            let final = try await client.pipeline(workspace: "acme", slug: "web", uuid: run.uuid)
            #expect(final.durationInSeconds == 20)
            #expect(final.completedOn != nil)
        }
    }

    @Test func manualStep_pausesThePipeline_untilTheNextTick() async throws {
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let uuid = try #require(
                await server.addPipeline(
                    workspace: "acme", slug: "web",
                    steps: [FakeStepScript(name: "Build"), FakeStepScript(name: "Deploy", manual: true)]))
            let client = makeClient(server)
            await server.advancePipeline(uuid)  // Build running
            await server.advancePipeline(uuid)  // Build done, Deploy waits
            #expect(
                try await client.pipeline(workspace: "acme", slug: "web", uuid: uuid).state
                    == .inProgress(stage: .paused))
            await server.advancePipeline(uuid)  // Deploy running
            #expect(
                try await client.pipeline(workspace: "acme", slug: "web", uuid: uuid).state
                    == .inProgress(stage: .running))
            let done = await server.runPipelineToCompletion(uuid)
            #expect(done?.resultName == "SUCCESSFUL")
            #expect(
                try await client.pipeline(workspace: "acme", slug: "web", uuid: uuid).state
                    == .completed(result: .successful))
        }
    }

    @Test func webhookHelper_signsWithHMACSHA256() async throws {
        // RFC-style known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        #expect(
            FakeBitbucketServer.webhookSignature(
                body: Array("The quick brown fox jumps over the lazy dog".utf8), secret: "key")
                == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
        try await withFakeBitbucket { server in
            _ = try await Self.setUp(server)
            let uuid = try #require(await server.addPipeline(workspace: "acme", slug: "web"))
            await server.runPipelineToCompletion(uuid)
            let delivery = try #require(await server.commitStatusWebhook(for: uuid, secret: "hook-secret"))
            #expect(delivery.header("X-Event-Key") == "repo:commit_status_updated")
            #expect(
                delivery.header("X-Hub-Signature")
                    == FakeBitbucketServer.webhookSignature(body: delivery.body, secret: "hook-secret"))
            let payload = try #require(FakeJSON.parse(delivery.body))
            #expect(payload["commit_status"]?["state"] == "SUCCESSFUL")
            #expect(payload["commit_status"]?["url"]?.stringValue?.hasSuffix("#!/results/1") == true)
            #expect(await server.commitStatusWebhook(for: uuid, secret: nil)?.header("X-Hub-Signature") == nil)
        }
    }
}
