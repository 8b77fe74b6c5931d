import Foundation
import PipewrightCore
import PipewrightTesting
import Testing

@testable import Bitbucket

/// Pipelines client behaviour against a stub transport (no server): URLs, bodies, decoding, log
/// status handling, no retries on trigger.
@Suite struct BitbucketPipelineUnitTests {
    static let base = "https://api.bitbucket.org/2.0"
    static let uuid = "{01fad871-cd21-4a80-bd59-74148dd5be8e}"
    static let step = "{d464ab91-8b50-4ad5-8c22-d2a6d1ca5d22}"

    func client(_ transport: StubTransport, clock: ImmediateClock = ImmediateClock()) -> LiveBitbucketClient {
        LiveBitbucketClient(
            baseURL: Self.base, credentials: .accessToken(Secret(testAccessToken)), transport: transport,
            retryPolicy: fastRetryPolicy, clock: clock)
    }

    static func json(_ text: String, status: Int = 200) -> BitbucketHTTPResponse {
        BitbucketHTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(text.utf8))
    }

    static func decodeState(_ json: String) throws -> BitbucketPipelineState {
        try JSONDecoder().decode(BitbucketPipeline.self, from: Data(#"{"uuid":"{u}","state":\#(json)}"#.utf8)).state
    }

    @Test func pipelineURL_keepsBracesPercentEncodedOnce() async throws {
        let transport = StubTransport { _, _ in Self.json(#"{"uuid":"\#(Self.uuid)","build_number":7}"#) }
        let run = try await client(transport).pipeline(workspace: "acme", slug: "web", uuid: Self.uuid)
        #expect(run.uuid == Self.uuid && run.buildNumber == 7)
        #expect(
            transport.requests.first?.url
                == "https://api.bitbucket.org/2.0/repositories/acme/web/pipelines/%7B01fad871-cd21-4a80-bd59-74148dd5be8e%7D"
                + "?fields=%2Btarget.commit.message"
        )
        let log = client(transport).url(
            client(transport).repositoryPath("acme", "web", "pipelines", Self.uuid, "steps", Self.step, "log"))
        #expect(!log.contains("{") && !log.contains("%25"))
        #expect(log.hasSuffix("/steps/%7Bd464ab91-8b50-4ad5-8c22-d2a6d1ca5d22%7D/log"))
    }

    @Test func targetEncoding_matchesTheAPIShapes() throws {
        func encoded(_ target: BitbucketPipelineTarget) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(target)) as? [String: Any])
        }
        let branch = try encoded(.branch("main"))
        #expect(branch["type"] as? String == "pipeline_ref_target")
        #expect(branch["ref_type"] as? String == "branch" && branch["ref_name"] as? String == "main")
        #expect(branch["commit"] == nil && branch["selector"] == nil)
        let commit = try encoded(.commit("abc123", onBranch: "main"))
        #expect((commit["commit"] as? [String: String]) == ["type": "commit", "hash": "abc123"])
        let custom = try encoded(.custom("deploy", onBranch: "main"))
        #expect((custom["selector"] as? [String: String]) == ["type": "custom", "pattern": "deploy"])
        let bare = try encoded(.custom("deploy", commit: "abc123"))
        #expect(bare["type"] as? String == "pipeline_commit_target")
        #expect(bare["ref_type"] == nil && bare["ref_name"] == nil)
        let tag = try encoded(.tag("v1.0", commit: "abc123"))
        #expect(tag["ref_type"] as? String == "tag" && tag["commit"] != nil)
    }

    @Test func trigger_sendsVariables_butNeverShowsTheirValues() async throws {
        let transport = StubTransport { _, _ in
            Self.json(#"{"uuid":"\#(Self.uuid)","build_number":1,"state":{"name":"PENDING"}}"#, status: 201)
        }
        let secret = BitbucketPipelineVariable(key: "TOKEN", secret: Secret("very-secret-value"))
        let plain = BitbucketPipelineVariable(key: "ENV", value: "prod")
        _ = try await client(transport).triggerPipeline(
            workspace: "acme", slug: "web", target: .branch("main"), variables: [plain, secret])
        let request = try #require(transport.requests.first)
        #expect(request.method == "POST")
        #expect(request.url == "https://api.bitbucket.org/2.0/repositories/acme/web/pipelines/")
        #expect(request.headers["Content-Type"] == "application/json")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body ?? [])) as? [String: Any])
        let variables = try #require(body["variables"] as? [[String: Any]])
        #expect(variables.count == 2)
        #expect(variables[1]["value"] as? String == "very-secret-value")
        #expect(variables[1]["secured"] as? Bool == true)
        #expect(variables[0]["secured"] as? Bool == false)
        for rendering in ["\(secret)", String(reflecting: secret), "\([plain, secret])"] {
            #expect(!rendering.contains("very-secret-value"))
        }
        // Without variables the key is omitted.
        _ = try await client(transport).triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
        let second = try #require(
            try JSONSerialization.jsonObject(with: Data(transport.requests[1].body ?? [])) as? [String: Any])
        #expect(second["variables"] == nil)
    }

    @Test func trigger_timeout_isNotRetried_andSurfacesAsTransportTimeout() async {
        let transport = StubTransport { _, _ throws(BitbucketTransportError) in throw .timeout }
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await client(transport).triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
        }
        #expect(error?.code == "bitbucket_timeout")
        #expect(transport.requests.count == 1)
        let server = StubTransport { _, _ in Self.json(#"{"type":"error","error":{"message":"boom"}}"#, status: 503) }
        let upstream = await expectBitbucketError { () async throws(BitbucketError) in
            try await client(server).triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
        }
        #expect(upstream == .upstream(status: 503, message: "boom"))
        #expect(server.requests.count == 1)
    }

    @Test func stateDecoding_isTolerant() throws {
        #expect(try Self.decodeState(#"{"name":"PENDING","type":"pipeline_state_pending"}"#) == .pending)
        #expect(
            try Self.decodeState(
                #"{"name":"IN_PROGRESS","type":"pipeline_state_in_progress","stage":{"name":"PAUSED","type":"pipeline_state_in_progress_paused"}}"#
            )
                == .inProgress(stage: .paused))
        #expect(
            try Self.decodeState(
                #"{"type":"pipeline_state_in_progress","stage":{"type":"pipeline_state_in_progress_halted"}}"#)
                == .inProgress(stage: .halted))
        #expect(
            try Self.decodeState(#"{"name":"IN_PROGRESS","stage":{"name":"WARPING"}}"#)
                == .inProgress(stage: .unknown("WARPING")))
        #expect(try Self.decodeState(#"{"name":"COMPLETED"}"#) == .completed(result: .unknown("")))
        #expect(
            try Self.decodeState(#"{"name":"COMPLETED","result":{"type":"pipeline_state_completed_successful"}}"#)
                == .completed(result: .successful))
        #expect(
            try Self.decodeState(#"{"name":"COMPLETED","result":{"name":"SOMETHING_NEW"}}"#)
                == .completed(result: .unknown("SOMETHING_NEW")))
        #expect(try Self.decodeState(#"{"name":"NEW_STATE"}"#) == .unknown("NEW_STATE"))
        #expect(try Self.decodeState(#"{"name": 42}"#) == .unknown(""))
        #expect(!BitbucketPipelineState.inProgress(stage: .paused).isTerminal)
        #expect(BitbucketPipelineState.completed(result: .unknown("")).isTerminal)
        #expect("\(BitbucketPipelineState.inProgress(stage: .halted))" == "IN_PROGRESS/HALTED")
        let withError = try JSONDecoder().decode(
            BitbucketPipeline.self,
            from: Data(
                #"{"uuid":"{u}","state":{"name":"COMPLETED","result":{"name":"ERROR","error":{"type":"pipeline_error","key":"plan-service.parse.invalid-list","message":"There is an error in your bitbucket-pipelines.yml"}}}}"#
                    .utf8))
        #expect(withError.state == .completed(result: .error))
        #expect(withError.errorMessage == "There is an error in your bitbucket-pipelines.yml")
        #expect(withError.buildNumber == 0 && withError.branch == nil)
    }

    @Test func stepDecoding_pendingWithoutTimes_andCapturedCompletedStep() throws {
        let captured =
            #"{"type": "pipeline_step", "pipeline": {"uuid": "{01fad871-cd21-4a80-bd59-74148dd5be8e}"}, "uuid": "{d464ab91-8b50-4ad5-8c22-d2a6d1ca5d22}", "name": "Test", "trigger": {"type": "pipeline_step_trigger_automatic"}, "state": {"name": "COMPLETED", "result": {"name": "FAILED"}}, "maxTime": 120, "started_on": "2023-02-20T08:58:31.520377Z", "completed_on": "2023-02-20T08:58:45.945082Z", "duration_in_seconds": 14, "build_seconds_used": 14, "run_number": 1}"#
        let step = try JSONDecoder().decode(BitbucketPipelineStep.self, from: Data(captured.utf8))
        #expect(step.uuid == Self.step && step.name == "Test")
        #expect(step.state == .completed(result: .failed))
        #expect(step.durationInSeconds == 14 && step.startedOn == "2023-02-20T08:58:31.520377Z")
        let pending = try JSONDecoder().decode(
            BitbucketPipelineStep.self, from: Data(#"{"uuid":"{s}","state":{"name":"PENDING"},"maxTime":120}"#.utf8))
        #expect(pending.state == .pending && pending.name == nil && pending.startedOn == nil)
        let notRun = try JSONDecoder().decode(
            BitbucketPipelineStep.self,
            from: Data(#"{"uuid":"{s}","state":{"name":"COMPLETED","result":{"name":"NOT_RUN"}}}"#.utf8))
        #expect(notRun.state == .completed(result: .notRun))
        let odd = try JSONDecoder().decode(
            BitbucketPipelineStep.self, from: Data(#"{"uuid":"{s}","state":{"name":"DREAMING"}}"#.utf8))
        #expect(odd.state == .unknown("DREAMING"))
    }

    @Test func stepLog_statusHandling() async throws {
        func read(_ response: BitbucketHTTPResponse, from offset: Int64) async throws(BitbucketError)
            -> BitbucketLogChunk
        {
            let transport = StubTransport { _, _ in response }
            return try await client(transport).stepLog(
                workspace: "acme", slug: "web", pipelineUUID: Self.uuid, stepUUID: Self.step, fromByte: offset)
        }
        let whole = BitbucketHTTPResponse(status: 200, body: Array("abcdef".utf8))
        #expect(try await read(whole, from: 0) == .bytes(Array("abcdef".utf8), nextOffset: 6))
        #expect(try await read(whole, from: 4) == .bytes(Array("ef".utf8), nextOffset: 6))
        #expect(try await read(whole, from: 6) == .rangeNotSatisfiable)
        let tail = BitbucketHTTPResponse(status: 206, headers: ["Content-Range": "bytes 4-5/6"], body: Array("ef".utf8))
        #expect(try await read(tail, from: 4) == .bytes(Array("ef".utf8), nextOffset: 6))
        let earlier = BitbucketHTTPResponse(
            status: 206, headers: ["Content-Range": "bytes 2-5/6"], body: Array("cdef".utf8))
        #expect(try await read(earlier, from: 4) == .bytes(Array("ef".utf8), nextOffset: 6))
        let noHeader = BitbucketHTTPResponse(status: 206, body: Array("xy".utf8))
        #expect(try await read(noHeader, from: 10) == .bytes(Array("xy".utf8), nextOffset: 12))
        #expect(
            try await read(BitbucketHTTPResponse(status: 416, headers: ["Content-Range": "bytes */6"]), from: 6)
                == .rangeNotSatisfiable)
        #expect(try await read(BitbucketHTTPResponse(status: 304), from: 6) == .rangeNotSatisfiable)
        #expect(
            try await read(Self.json(#"{"error":{"message":"Not found"}}"#, status: 404), from: 0) == .notYetAvailable)
        let later = BitbucketHTTPResponse(status: 206, headers: ["Content-Range": "bytes 9-10/11"], body: [1, 2])
        let gap = await expectBitbucketError { () async throws(BitbucketError) in try await read(later, from: 4) }
        #expect(gap?.code == "bitbucket_invalid_response")
        let refused = await expectBitbucketError { () async throws(BitbucketError) in
            try await read(Self.json(#"{"error":{"message":"Not Acceptable"}}"#, status: 406), from: 0)
        }
        #expect(refused == .upstream(status: 406, message: "Not Acceptable"))
    }

    @Test func stepLog_redirect_dropsAuthorization_keepsRange_andReportsComplete() async throws {
        let storage = "https://bbuseruploads.s3.amazonaws.com/logs/x?X-Amz-Signature=abc"
        let transport = StubTransport { request, _ in
            if request.url.hasPrefix(Self.base) {
                return BitbucketHTTPResponse(status: 307, headers: ["Location": storage])
            }
            return request.headers["Range"] == "bytes=3-"
                ? BitbucketHTTPResponse(status: 206, headers: ["Content-Range": "bytes 3-5/6"], body: Array("def".utf8))
                : BitbucketHTTPResponse(status: 416, headers: ["Content-Range": "bytes */6"])
        }
        let client = client(transport)
        let first = try await client.stepLog(
            workspace: "acme", slug: "web", pipelineUUID: Self.uuid, stepUUID: Self.step, fromByte: 3)
        #expect(first == .bytes(Array("def".utf8), nextOffset: 6))
        let second = try await client.stepLog(
            workspace: "acme", slug: "web", pipelineUUID: Self.uuid, stepUUID: Self.step, fromByte: 6)
        #expect(second == .complete)
        let requests = transport.requests
        #expect(requests.count == 4)
        #expect(requests[0].headers["Authorization"] == "Bearer \(testAccessToken)")
        #expect(requests[0].headers["Accept"]?.hasPrefix("application/octet-stream") == true)
        #expect(requests[1].url == storage)
        #expect(requests[1].headers["Authorization"] == nil)
        #expect(requests[1].headers["Range"] == "bytes=3-")
        #expect(requests[3].headers["Authorization"] == nil)
    }

    @Test func stepLog_503ThenData_isRetried() async throws {
        let clock = ImmediateClock()
        let transport = StubTransport { _, index in
            index == 0
                ? BitbucketHTTPResponse(status: 503, body: Array("busy".utf8))
                : BitbucketHTTPResponse(status: 200, body: [65])
        }
        let chunk = try await client(transport, clock: clock).stepLog(
            workspace: "acme", slug: "web", pipelineUUID: Self.uuid, stepUUID: Self.step, fromByte: 0)
        #expect(chunk == .bytes([65], nextOffset: 1))
        #expect(transport.requests.count == 2)
        #expect(clock.sleeps.count == 1)
    }

    @Test func pipelinesList_withoutSize_pagesUntilAShortPage() async throws {
        let transport = StubTransport { request, _ in
            let page = request.url.contains("page=2") ? 2 : 1
            let values = (0..<(page == 1 ? 2 : 1)).map { #"{"uuid":"{p\#(page)-\#($0)}"}"# }.joined(separator: ",")
            return Self.json(#"{"page":\#(page),"pagelen":2,"values":[\#(values)]}"#)
        }
        let runs = try await client(transport).pipelines(
            workspace: "acme", slug: "web", branch: "main", commit: nil, sort: "-created_on", pagelen: 2, maxPages: 5)
        #expect(runs.count == 3)
        #expect(transport.requests.count == 2)
        #expect(transport.requests[0].url.contains("target.branch=main"))
        #expect(transport.requests[0].url.contains("sort=-created_on"))
    }
}
