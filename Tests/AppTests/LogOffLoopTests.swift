import AsyncHTTPClient
import Foundation
import LogStore
import NIOCore
import Testing
import Vapor

@testable import App

/// Log-store work never runs on the event loop or the cooperative thread pool: while two requests each
/// spend the whole regex budget on a large log, other requests keep being answered at once.
@Suite struct LogOffLoopTests {
    @Test func slowLogQueries_doNotStallOtherRequests() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await LogEndpointTests().seed(ctx, statuses: [.success])
            let id = ids[0]
            // One long line on which `(a+)+$` backtracks until the budget is spent, then 20 MB of ordinary lines.
            let store = ctx.app.services.logStore
            _ = try store.append(execution: id, step: "Build", bytes: Array((String(repeating: "a", count: 50_000) + "b\n").utf8))
            let filler = Array(String(repeating: "INFO step output line with some words in it 0123456789\n", count: 20_000).utf8)
            for _ in 0..<18 { _ = try store.append(execution: id, step: "Build", bytes: filler) }
            let token = ctx.memberToken
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    func get(_ path: String) async throws -> (status: UInt, elapsed: Duration) {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/\(path)")
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        let start = ContinuousClock.now
                        let response = try await client.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 64 << 20)
                        return (response.status.code, ContinuousClock.now - start)
                    }
                    let slowPath = "api/executions/\(id)/logs?regex=true&q=(a%2B)%2B%24"
                    // As many slow requests as the cooperative pool has threads (one per core).
                    let slow = (0..<max(2, ProcessInfo.processInfo.activeProcessorCount)).map { _ in
                        Task { try await get(slowPath) }
                    }
                    try await Task.sleep(for: .milliseconds(200))  // let the slow requests start scanning
                    var worstProbe = Duration.zero
                    for _ in 0..<10 {
                        let probe = try await get("api/executions/\(id)")
                        #expect(probe.status == 200)
                        worstProbe = max(worstProbe, probe.elapsed)
                    }
                    var slowest = Duration.zero
                    for task in slow { slowest = max(slowest, try await task.value.elapsed) }
                    // The slow queries really were slow (else this test proves nothing) …
                    #expect(slowest > .seconds(1), "slow queries took \(slowest)")
                    // … and the probes that ran meanwhile were not held up behind them.
                    #expect(worstProbe < .milliseconds(750), "a probe waited \(worstProbe) behind the log queries")
                }
            }
        }
    }
}
