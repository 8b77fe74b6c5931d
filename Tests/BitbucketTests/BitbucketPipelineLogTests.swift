import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Foundation
import PipewrightCore
import Testing

/// Step logs against the fake: Range/206/416/404/406/307 (Bitbucket's step-log endpoint; a JSON-only
/// `Accept` gets 406, a completed step's log redirects to storage that must not get `Authorization`, and
/// a step without a log yet answers 404).
@Suite struct BitbucketPipelineLogTests {
    /// `acme/web` with one triggered run of one step "Build"; returns the client, run and step UUIDs.
    static func setUp(_ server: FakeBitbucketServer, lines: [String] = ["+ make", "done"]) async throws
        -> (LiveBitbucketClient, String, String)
    {
        try #require(await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"]) != nil)
        await server.scriptPipelines(
            workspace: "acme", slug: "web", steps: [FakeStepScript(name: "Build", lines: lines)])
        let client = makeClient(server)
        let run = try await client.triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
        let step = try #require(try await client.steps(workspace: "acme", slug: "web", pipelineUUID: run.uuid).first)
        return (client, run.uuid, step.uuid)
    }

    static func read(_ client: LiveBitbucketClient, _ run: String, _ step: String, from offset: Int64) async throws
        -> BitbucketLogChunk
    {
        try await client.stepLog(workspace: "acme", slug: "web", pipelineUUID: run, stepUUID: step, fromByte: offset)
    }

    @Test func log_beforeTheStepStarts_isNotYetAvailable() async throws {
        try await withFakeBitbucket { server in
            let (client, run, step) = try await Self.setUp(server)
            #expect(try await Self.read(client, run, step, from: 0) == .notYetAvailable)
            let request = try #require(await server.requests().last)
            #expect(request.path.hasSuffix("/steps/\(Self.encoded(step))/log"))
            #expect(request.path.contains("/pipelines/\(Self.encoded(run))/"))
            #expect(request.header("Range") == "bytes=0-")
        }
    }

    @Test func log_incrementalReads_returnOnlyNewBytes_and416WhenNothingNew() async throws {
        try await withFakeBitbucket { server in
            let (client, run, step) = try await Self.setUp(server)
            await server.advancePipeline(run)  // the step starts: an empty log exists
            #expect(try await Self.read(client, run, step, from: 0) == .rangeNotSatisfiable)

            await server.appendLog(pipeline: run, step: 0, text: "+ make\n")
            var offset: Int64 = 0
            guard case .bytes(let first, let next1) = try await Self.read(client, run, step, from: offset) else {
                Issue.record("expected bytes")
                return
            }
            #expect(String(decoding: first, as: UTF8.self) == "+ make\n")
            #expect(next1 == 7)
            offset = next1
            #expect(try await Self.read(client, run, step, from: offset) == .rangeNotSatisfiable)

            await server.appendLog(pipeline: run, step: 0, text: "cc -o app main.c\n")
            await server.appendLog(pipeline: run, step: 0, text: "linking…\n")
            guard case .bytes(let second, let next2) = try await Self.read(client, run, step, from: offset) else {
                Issue.record("expected bytes")
                return
            }
            #expect(String(decoding: second, as: UTF8.self) == "cc -o app main.c\nlinking…\n")
            #expect(next2 == offset + Int64(second.count))
            offset = next2
            #expect(try await Self.read(client, run, step, from: offset) == .rangeNotSatisfiable)

            let logRequests = await server.requests().filter { $0.path.hasSuffix("/log") }
            #expect(
                logRequests.map { $0.header("Range") } == [
                    "bytes=0-", "bytes=0-", "bytes=7-", "bytes=\(next1)-", "bytes=\(offset)-",
                ])
            for request in logRequests {
                let accept = request.header("Accept") ?? ""
                #expect(accept.contains("application/octet-stream"))
                #expect(!accept.hasPrefix("application/json"))
                #expect(request.header("Authorization") != nil)
            }
        }
    }

    @Test func log_serverIgnoringRange_200_clientDropsTheBytesAlreadyRead() async throws {
        try await withFakeBitbucket { server in
            let (client, run, step) = try await Self.setUp(server)
            await server.setPipelineBehaviour(honoursLogRange: false)
            await server.advancePipeline(run)
            await server.appendLog(pipeline: run, step: 0, text: "one\ntwo\n")
            #expect(try await Self.read(client, run, step, from: 4) == .bytes(Array("two\n".utf8), nextOffset: 8))
            #expect(try await Self.read(client, run, step, from: 8) == .rangeNotSatisfiable)
        }
    }

    @Test func log_afterCompletion_follows307ToStorage_withoutAuthorization() async throws {
        try await withFakeBitbucket { server in
            let (client, run, step) = try await Self.setUp(server, lines: ["+ make", "done"])
            await server.advancePipeline(run)
            await server.appendLog(pipeline: run, step: 0, text: "live\n")
            #expect(try await Self.read(client, run, step, from: 0) == .bytes(Array("live\n".utf8), nextOffset: 5))
            await server.runPipelineToCompletion(run)  // writes "+ make\ndone\n" and completes

            #expect(
                try await Self.read(client, run, step, from: 5) == .bytes(Array("+ make\ndone\n".utf8), nextOffset: 17))
            #expect(try await Self.read(client, run, step, from: 17) == .complete)
            // Bytes that show up after the fact are still found.
            await server.appendLog(pipeline: run, step: 0, text: "late line\n")
            #expect(
                try await Self.read(client, run, step, from: 17) == .bytes(Array("late line\n".utf8), nextOffset: 27))

            let storage = await server.storageRequests()
            #expect(storage.count == 3)
            for request in storage {
                #expect(request.header("Authorization") == nil)
                #expect(request.header("Host")?.hasPrefix("localhost:") == true)
                #expect(request.header("Range") != nil)
                #expect(request.queryValue("X-Amz-Signature") != nil)
            }
            #expect(storage.map { $0.header("Range") } == ["bytes=5-", "bytes=17-", "bytes=17-"])
        }
    }

    @Test func fake_storageRejectsAuthorization_andJSONOnlyAcceptGets406() async throws {
        try await withFakeBitbucket { server in
            let (_, run, step) = try await Self.setUp(server)
            await server.runPipelineToCompletion(run)
            let transport = AsyncHTTPClientTransport(httpClient: sharedHTTPClient)
            let auth = BitbucketCredentials.apiToken(email: testEmail, token: Secret(testToken))
                .authorizationHeaderValue
            let logURL =
                server.baseURL + "/repositories/acme/web/pipelines/\(Self.encoded(run))/steps/\(Self.encoded(step))/log"

            let json = try await transport.send(
                BitbucketHTTPRequest(
                    method: "GET", url: logURL, headers: ["Authorization": auth, "Accept": "application/json"]),
                timeout: .seconds(5))
            #expect(json.status == 406)

            let redirect = try await transport.send(
                BitbucketHTTPRequest(method: "GET", url: logURL, headers: ["Authorization": auth, "Accept": "*/*"]),
                timeout: .seconds(5))
            #expect(redirect.status == 307)
            let location = try #require(redirect.headers["Location"])
            #expect(location.hasPrefix("http://localhost:\(server.port)/storage/"))

            let withAuth = try await transport.send(
                BitbucketHTTPRequest(method: "GET", url: location, headers: ["Authorization": auth]),
                timeout: .seconds(5))
            #expect(withAuth.status == 400)
            #expect(String(decoding: withAuth.body, as: UTF8.self).contains("Only one auth mechanism allowed"))

            let ranged = try await transport.send(
                BitbucketHTTPRequest(method: "GET", url: location, headers: ["Range": "bytes=2-"]), timeout: .seconds(5)
            )
            #expect(ranged.status == 206)
            #expect(ranged.headers["Content-Range"] == "bytes 2-11/12")
            #expect(ranged.body == Array("make\ndone\n".utf8))

            let past = try await transport.send(
                BitbucketHTTPRequest(method: "GET", url: location, headers: ["Range": "bytes=12-"]),
                timeout: .seconds(5))
            #expect(past.status == 416)
            #expect(past.headers["Content-Range"] == "bytes */12")
        }
    }

    @Test func fake_rangeForms_suffixAndBounded_andETag304() async throws {
        try await withFakeBitbucket { server in
            let (_, run, step) = try await Self.setUp(server)
            await server.advancePipeline(run)
            await server.appendLog(pipeline: run, step: 0, text: "0123456789")
            let transport = AsyncHTTPClientTransport(httpClient: sharedHTTPClient)
            let auth = BitbucketCredentials.apiToken(email: testEmail, token: Secret(testToken))
                .authorizationHeaderValue
            let logURL =
                server.baseURL + "/repositories/acme/web/pipelines/\(Self.encoded(run))/steps/\(Self.encoded(step))/log"
            func get(_ headers: BitbucketHTTPHeaders) async throws -> BitbucketHTTPResponse {
                var all = headers
                all.add(name: "Authorization", value: auth)
                return try await transport.send(
                    BitbucketHTTPRequest(method: "GET", url: logURL, headers: all), timeout: .seconds(5))
            }
            let suffix = try await get(["Range": "bytes=-3"])
            #expect(suffix.status == 206 && suffix.body == Array("789".utf8))
            let bounded = try await get(["Range": "bytes=2-4"])
            #expect(bounded.status == 206 && bounded.body == Array("234".utf8))
            #expect(bounded.headers["Content-Range"] == "bytes 2-4/10")
            let whole = try await get([:])
            #expect(whole.status == 200 && whole.body.count == 10)
            let etag = try #require(whole.headers["ETag"])
            #expect(try await get(["If-None-Match": etag]).status == 304)
        }
    }

    /// `{…}` → `%7B…%7D`.
    static func encoded(_ uuid: String) -> String {
        uuid.replacingOccurrences(of: "{", with: "%7B").replacingOccurrences(of: "}", with: "%7D")
    }
}
