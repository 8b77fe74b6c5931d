import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Log-store work never runs on an event loop or a thread of Swift's cooperative pool: while as many
/// requests as there are cores each spend the whole regex budget on a large log, other requests keep
/// being answered at once.
///
/// Runs the real binary with `LIBDISPATCH_COOPERATIVE_POOL_STRICT=1`, so the cooperative pool has exactly
/// one thread per core as on macOS (Linux's libdispatch otherwise adds threads when they block, which
/// would hide a blocking handler).
@Suite struct LogOffLoopTests {
    struct Failure: Error, CustomStringConvertible { var description: String }

    @Test func slowLogQueries_doNotStallOtherRequests() async throws {
        let dataDirectory = ServeProcess.makeDataDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try? FileManager.default.removeItem(atPath: dataDirectory + ".serve.log")
        }
        let token = try ServeProcess.adminToken(dataDirectory: dataDirectory)
        let serve = try await ServeProcess.start(
            dataDirectory: dataDirectory,
            environment: ["LIBDISPATCH_COOPERATIVE_POOL_STRICT": "1", "BITBUCKET_API_URL": "http://127.0.0.1:9/2.0"])
        defer { serve.kill() }
        try await withHTTPClient { client in
            func call(_ method: HTTPMethod, _ path: String, _ body: ByteBuffer? = nil) async throws
                -> (status: UInt, json: [String: Any], elapsed: Duration)
            {
                var request = HTTPClientRequest(url: "\(serve.baseURL)/\(path)")
                request.method = method
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                if let body {
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(body)
                }
                let start = ContinuousClock.now
                let response = try await client.execute(request, timeout: .seconds(60))
                let bytes = try await response.body.collect(upTo: 64 << 20)
                let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
                return (response.status.code, json, ContinuousClock.now - start)
            }
            func create(_ path: String, _ object: [String: Any]) async throws -> Int {
                let reply = try await call(
                    .POST, path, ByteBuffer(data: try JSONSerialization.data(withJSONObject: object)))
                guard let id = reply.json["id"] as? Int else { throw Failure(description: "\(path): \(reply.json)") }
                return id
            }
            let connection = try await create(
                "api/connections",
                ["name": "acme", "workspace": "acme", "auth": ["type": "access_token", "token": "t0k3n"]])
            let key = try await create("api/ssh-keys", ["name": "deploy", "key_type": "ed25519"])
            let server = try await create("api/servers", ["host": "203.0.113.10", "username": "deploy"])
            let pipeline = try await create(
                "api/pipelines",
                [
                    "name": "web", "connection_id": connection, "repo_slug": "web",
                    "deploy": ["server_ids": [server], "ssh_key_id": key, "deploy_path": "/srv/web"],
                ])
            let execution = try await create("api/pipelines/\(pipeline)/trigger", ["max_retries": 0])
            // One long line on which `(a+)+$` backtracks until the budget is spent, then 20 MB of ordinary lines.
            var log = String(repeating: "a", count: 50_000) + "b\n"
            log += String(repeating: "INFO step output line with some words in it 0123456789\n", count: 360_000)
            let ingested = try await call(
                .POST, "api/executions/\(execution)/logs?step=Build&finish=true", ByteBuffer(string: log))
            #expect(ingested.status == 200, "\(ingested.json)")

            let slowPath = "api/executions/\(execution)/logs?regex=true&q=(a%2B)%2B%24"
            // As many slow requests as the cooperative pool has threads (one per core).
            let slow = (0..<max(2, ProcessInfo.processInfo.activeProcessorCount)).map { _ in
                Task { try await call(.GET, slowPath).elapsed }
            }
            try await Task.sleep(for: .milliseconds(300))  // the slow requests are scanning by now
            var worstProbe = Duration.zero
            for _ in 0..<10 {
                let probe = try await call(.GET, "api/executions/\(execution)")
                #expect(probe.status == 200)
                worstProbe = max(worstProbe, probe.elapsed)
            }
            var slowest = Duration.zero
            for task in slow { slowest = max(slowest, try await task.value) }
            // The slow queries really were slow (else this test proves nothing) …
            #expect(slowest > .seconds(1), "slow queries took \(slowest)")
            // … and the probes that ran meanwhile were not held up behind them.
            #expect(worstProbe < .milliseconds(750), "a probe waited \(worstProbe) behind the log queries")
        }
    }
}
