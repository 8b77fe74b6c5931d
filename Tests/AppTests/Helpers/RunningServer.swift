import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing
import Vapor

@testable import App

/// Starts `app`'s real HTTP(S) server on `127.0.0.1` and a free port, runs `body(port)`, stops the server.
///
/// Requests then go through NIO's HTTP parser and Vapor's body streaming exactly as in production
/// (the in-memory tester hands bodies over already collected). With TLS configured on `app`
/// (`ServerTLS`), the port serves HTTPS and WSS.
///
/// Stops the way a graceful shutdown does: realtime connections first (open WebSockets and SSE streams
/// would keep the server's quiescing waiting), then the listener.
func withRunningServer<T>(_ app: Application, port: Int = 0, _ body: (Int) async throws -> T) async throws -> T {
    app.http.server.configuration.hostname = "127.0.0.1"
    app.http.server.configuration.port = port
    try await app.asyncBoot()
    try await app.server.start(address: .hostname("127.0.0.1", port: port))
    func stop() async {
        await app.realtimeConnections.closeAll()
        await app.server.shutdown()
    }
    do {
        let bound = try #require(app.http.server.shared.localAddress?.port)
        let result = try await body(bound)
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}

/// An AsyncHTTPClient for tests (trusting `trustedCertificate` when given), shut down after `body`.
func withHTTPClient<T>(trustedCertificate: String? = nil, _ body: (HTTPClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration()
    if let trustedCertificate {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(trustedCertificate)
        configuration.tlsConfiguration = tls
    }
    configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

extension HTTPClientResponse {
    /// The whole body (at most 16 MiB).
    func collectedBody() async throws -> ByteBuffer {
        try await body.collect(upTo: 16 << 20)
    }
}
