import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import App

/// Request bodies over 1 MiB → 413 `payload_too_large` with the limit (docs/API.md "Security headers and
/// limits"), for a declared `Content-Length` and for chunked bodies, over a real socket; log ingestion
/// streams and is exempt.
@Suite struct BodyLimitTests {
    static let limit = 1 << 20

    func decodeError(_ buffer: ByteBuffer) throws -> ErrorBody {
        try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: buffer))
    }

    /// `total` bytes of a JSON-ish body in `chunk`-sized pieces, sent with `Transfer-Encoding: chunked`.
    func chunkedBody(total: Int, chunk: Int = 64 * 1024) -> HTTPClientRequest.Body {
        let pieces = stride(from: 0, to: total, by: chunk).map { min(chunk, total - $0) }
        let stream = AsyncStream<ByteBuffer> { continuation in
            for size in pieces { continuation.yield(ByteBuffer(repeating: UInt8(ascii: " "), count: size)) }
            continuation.finish()
        }
        return .stream(stream, length: .unknown)
    }

    @Test func declaredContentLength_overLimit_is413Envelope_exactlyLimitIsAccepted() async throws {
        try await withTestApp { ctx in
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    for size in [Self.limit + 1, 5 * Self.limit] {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/ssh-keys")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(ctx.adminToken)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(repeating: UInt8(ascii: " "), count: size))
                        let response = try await client.execute(request, timeout: .seconds(30))
                        #expect(response.status == .payloadTooLarge, "size \(size)")
                        #expect(response.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
                        let error = try decodeError(try await response.collectedBody())
                        #expect(error.error.code == "payload_too_large")
                        #expect(error.error.details["limit_bytes"] == String(Self.limit))
                        #expect(response.headers.first(name: "X-Content-Type-Options") == "nosniff")
                    }
                    // Exactly the limit passes the limit (and then fails as JSON: 400, not 413).
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/ssh-keys")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(ctx.adminToken)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    var json = ByteBuffer(string: #"{"name": "k", "key_type": "ed25519"}"#)
                    json.writeRepeatingByte(UInt8(ascii: " "), count: Self.limit - json.readableBytes)
                    request.body = .bytes(json)
                    let response = try await client.execute(request, timeout: .seconds(30))
                    let created = try await response.collectedBody()
                    #expect(response.status == .created, "\(String(buffer: created))")
                }
            }
        }
    }

    @Test func chunkedBody_growingPastLimit_is413Envelope_andUnderLimitIsRead() async throws {
        try await withTestApp { ctx in
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    for (total, expected) in [
                        (Self.limit + 1, HTTPStatus.payloadTooLarge), (8 * Self.limit, .payloadTooLarge),
                        (Self.limit, .badRequest),
                    ] {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/ssh-keys")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(ctx.adminToken)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = chunkedBody(total: total)
                        let response = try await client.execute(request, timeout: .seconds(30))
                        #expect(response.status == expected, "chunked \(total) bytes")
                        let error = try decodeError(try await response.collectedBody())
                        if expected == .payloadTooLarge {
                            #expect(error.error.code == "payload_too_large")
                            #expect(error.error.details["limit_bytes"] == String(Self.limit))
                        } else {
                            #expect(error.error.code == "invalid_body", "read to the end, then rejected as JSON")
                        }
                    }
                    // The connection pool keeps working after the rejected uploads.
                    let health = try await client.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(10))
                    #expect(health.status == .ok)
                }
            }
        }
    }

    @Test func unauthenticatedOversizeBody_isStill413_never500() async throws {
        try await withTestApp { ctx in
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    for path in ["/api/auth/login", "/api/webhooks/bitbucket/1", "/no/such/route"] {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = chunkedBody(total: 2 * Self.limit)
                        let response = try await client.execute(request, timeout: .seconds(30))
                        let body = try await response.collectedBody()
                        #expect(response.status.code < 500, "\(path)")
                        #expect((try? decodeError(body)) != nil, "\(path): envelope, got \(String(buffer: body))")
                        if path != "/no/such/route" { #expect(response.status == .payloadTooLarge, "\(path)") }
                    }
                }
            }
        }
    }

    @Test func logIngestion_streamsBodiesOverTheLimit() async throws {
        try await withTestApp { ctx in
            let execution = try await LogEndpointTests().seed(ctx, statuses: [.success]).1[0]
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    let line = "INFO line of a long build log, padded to about eighty bytes ............\n"
                    let lines = (3 * Self.limit) / line.utf8.count
                    let stream = AsyncStream<ByteBuffer> { continuation in
                        for _ in 0..<(lines / 1000) {
                            continuation.yield(ByteBuffer(string: String(repeating: line, count: 1000)))
                        }
                        continuation.finish()
                    }
                    var request = HTTPClientRequest(
                        url: "http://127.0.0.1:\(port)/api/executions/\(execution)/logs?step=Build&finish=true")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(ctx.adminToken)")
                    request.body = .stream(stream, length: .unknown)
                    let response = try await client.execute(request, timeout: .seconds(60))
                    let body = try await response.collectedBody()
                    #expect(response.status == .ok, "\(String(buffer: body))")
                    let json = try #require(
                        try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
                    #expect(json["lines_stored"] as? Int == (lines / 1000) * 1000)
                }
            }
        }
    }
}
