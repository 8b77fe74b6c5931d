import Bitbucket
import Foundation
import NIOPosix
import Testing
import Vapor
import VaporTesting

@testable import App

/// `GET /metrics` (docs/API.md "Operations"): Prometheus text with requests by route pattern and status, a
/// latency histogram, Bitbucket calls and SSH operations by outcome, monitors, realtime connections and
/// stored log lines.
///
/// The registry is process-wide (swift-metrics is bootstrapped once per process), so tests compare values
/// before and after their own requests, and accept more (tests running in parallel add their own requests).
@Suite struct MetricsTests {
    /// The value of the sample whose name is `name` and whose labels include every `labels` pair (0 if absent).
    static func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[parts.count - 1]) else { continue }
            let head = String(parts[0])
            if labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) { total += value }
        }
        return total
    }

    static func scrape(_ app: Application, headers: HTTPHeaders = [:]) async throws -> String {
        var text = ""
        try await app.testing().test(.GET, "metrics", headers: headers) { res async throws in
            #expect(res.status == .ok)
            #expect(res.headers.contentType?.description.hasPrefix("text/plain") == true)
            text = res.body.string
        }
        return text
    }

    /// A client that closes its connection in the middle of a body is the client's doing: counted (and
    /// logged) as 400, never as a 500 of the service.
    @Test func clientClosingMidBody_isA400_notA500() async throws {
        try await withTestApp { ctx in
            try await withRunningServer(ctx.app) { port in
                let before = try await Self.scrape(ctx.app)
                let head =
                    "POST /api/ssh-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(ctx.adminToken)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": \"cut"
                try Self.sendAndClose(head, port: port)
                let name = PipewrightMetrics.Name.httpRequests
                let route = ["method": "POST", "route": "/api/ssh-keys"]
                var after = before
                for _ in 0..<100 {
                    after = try await Self.scrape(ctx.app)
                    if Self.sample(after, name, route) > Self.sample(before, name, route) { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let bad = route.merging(["status": "400"]) { $1 }
                let failed = route.merging(["status": "500"]) { $1 }
                #expect(Self.sample(after, name, bad) - Self.sample(before, name, bad) == 1, "\(after)")
                #expect(Self.sample(after, name, failed) == Self.sample(before, name, failed))
            }
        }
    }

    /// Connects to 127.0.0.1:`port`, writes `text` and closes the connection.
    static func sendAndClose(_ text: String, port: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
            throw POSIXError(.EIO)
        }
    }

    @Test func requests_areCountedByRoutePatternAndStatus_withLatencyHistogram() async throws {
        try await withTestApp { ctx in
            let before = try await Self.scrape(ctx.app)
            try await ctx.app.testing().test(.GET, "api/ssh-keys", headers: ctx.adminAuth) { res async throws in
                #expect(res.status == .ok)
            }
            for id in [991_001, 991_002] {
                try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)", headers: ctx.adminAuth) {
                    res async throws in
                    #expect(res.status == .notFound)
                }
            }
            let probe = "probe-\(UUID().uuidString)"
            try await ctx.app.testing().test(.GET, "api/\(probe)", headers: ctx.adminAuth) { res async throws in
                #expect(res.status == .notFound)
            }
            let after = try await Self.scrape(ctx.app)
            let name = PipewrightMetrics.Name.httpRequests
            let list = ["method": "GET", "route": "/api/ssh-keys", "status": "200"]
            let show404 = ["method": "GET", "route": "/api/ssh-keys/:keyID", "status": "404"]
            let unmatched = ["method": "GET", "route": "unmatched", "status": "404"]
            #expect(Self.sample(after, name, list) - Self.sample(before, name, list) >= 1)
            #expect(Self.sample(after, name, show404) - Self.sample(before, name, show404) >= 2)
            #expect(Self.sample(after, name, unmatched) - Self.sample(before, name, unmatched) >= 1)
            // Raw paths never become labels.
            #expect(!after.contains(probe))
            #expect(!after.contains("991001"))
            // The latency histogram has buckets, a sum and a count per route.
            let histogram = PipewrightMetrics.Name.httpRequestDuration
            #expect(after.contains("# TYPE \(histogram) histogram"))
            #expect(after.contains("\(histogram)_bucket{"))
            #expect(after.contains("le=\"0.005\""))
            #expect(after.contains("le=\"+Inf\""))
            let route = ["route": "/api/ssh-keys/:keyID"]
            #expect(
                Self.sample(after, "\(histogram)_count", route) - Self.sample(before, "\(histogram)_count", route) >= 2)
            // Every family is there from the start.
            for family in [
                PipewrightMetrics.Name.activeMonitors, PipewrightMetrics.Name.realtimeConnections,
                PipewrightMetrics.Name.logLinesStored,
            ] {
                #expect(after.contains("# TYPE \(family) "), "\(family)")
            }
            for transport in PipewrightMetrics.Transport.allCases {
                #expect(after.contains("transport=\"\(transport.rawValue)\""))
            }
            // No secret of the test app shows up.
            #expect(!after.contains(ctx.adminToken))
            #expect(!after.contains(ctx.memberToken))
            #expect(!after.contains("Bearer"))
        }
    }

    @Test func metricsToken_isRequiredWhenConfigured() async throws {
        let token = "scrape-\(UUID().uuidString)"
        try await withTestApp(configure: { $0.metricsToken = token }) { ctx in
            try await ctx.app.testing().test(.GET, "metrics") { res async throws in
                #expect(res.status == .unauthorized)
                #expect(res.errorCode == "unauthenticated")
            }
            try await ctx.app.testing().test(.GET, "metrics", headers: ["Authorization": "Bearer wrong"]) {
                res async throws in
                #expect(res.status == .unauthorized)
            }
            // A user's API token is not the scrape token.
            try await ctx.app.testing().test(.GET, "metrics", headers: ctx.adminAuth) { res async throws in
                #expect(res.status == .unauthorized)
            }
            let text = try await Self.scrape(ctx.app, headers: ["Authorization": "Bearer \(token)"])
            #expect(text.contains(PipewrightMetrics.Name.httpRequests))
            #expect(!text.contains(token))
        }
    }

    @Test func bitbucketCalls_areCountedByOutcome() async throws {
        struct Stub: BitbucketHTTPTransport {
            let answer: @Sendable () throws(BitbucketTransportError) -> BitbucketHTTPResponse
            func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
                -> BitbucketHTTPResponse
            { try answer() }
        }
        let name = PipewrightMetrics.Name.bitbucketRequests
        let before = PipewrightMetrics.exposition()
        let request = BitbucketHTTPRequest(
            method: "GET", url: "http://127.0.0.1:9/2.0/user", headers: ["Authorization": "Bearer secret-token-x"])
        _ = try await MeteredBitbucketTransport(base: Stub { BitbucketHTTPResponse(status: 200) }).send(
            request, timeout: .seconds(1))
        _ = try await MeteredBitbucketTransport(base: Stub { BitbucketHTTPResponse(status: 429) }).send(
            request, timeout: .seconds(1))
        _ = try await MeteredBitbucketTransport(base: Stub { BitbucketHTTPResponse(status: 503) }).send(
            request, timeout: .seconds(1))
        await #expect(throws: BitbucketTransportError.timeout) {
            try await MeteredBitbucketTransport(base: Stub { () throws(BitbucketTransportError) in throw .timeout })
                .send(request, timeout: .seconds(1))
        }
        let after = PipewrightMetrics.exposition()
        for outcome in ["2xx", "429", "5xx", "timeout"] {
            let labels = ["method": "GET", "outcome": outcome]
            #expect(Self.sample(after, name, labels) - Self.sample(before, name, labels) >= 1, "\(outcome)")
        }
        #expect(!after.contains("secret-token-x"))
    }

    @Test func sshOperations_areCountedByOutcome() async throws {
        // A closed port on loopback: the deploy fails fast with connection_refused.
        let socket = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(
            host: "127.0.0.1", port: 0
        ).get()
        let port = try #require(socket.localAddress?.port)
        try await socket.close()
        try await withTestApp { ctx in
            var keyID = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.adminAuth),
                body: try jsonBody(["name": "m", "key_type": "ed25519"])
            ) { res async throws in
                keyID = try #require(try res.json()["id"] as? Int)
            }
            let name = PipewrightMetrics.Name.sshOperations
            let labels = ["operation": "deploy", "outcome": "connection_refused"]
            let before = Self.sample(PipewrightMetrics.exposition(), name, labels)
            let target: [String: Any] = [
                "host": "127.0.0.1", "port": port, "username": "nobody", "password": "not-shown-9f2",
            ]
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/\(keyID)/deploy", headers: .json(ctx.adminAuth),
                body: try jsonBody(["servers": [target]])
            ) { res async throws in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("connection_refused"))
            }
            let after = try await Self.scrape(ctx.app)
            #expect(Self.sample(after, name, labels) - before >= 1)
            #expect(!after.contains("not-shown-9f2"))
        }
    }
}
