import AsyncHTTPClient
import Fluent
import Foundation
import LogStore
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 12 item 11: documented fields with no value are sent as `null`, never left out.
@Suite struct ContractNullTests {
    @Test func fieldsWithoutValue_areNull_notOmitted() async throws {
        try await withTestApp { ctx in
            // Two executions never triggered on Bitbucket: one failed, one still triggering; no success yet.
            let (pipelineID, ids) = try await LogEndpointTests().seed(ctx, statuses: [.failed, .triggering])
            // A line no level is detected in.
            try await LogEndpointTests().ingest(ctx, ids[0], step: "Build", "compiling things\n")
            try await ctx.app.testing().test(.GET, "api/executions/\(ids[0])/logs", headers: ctx.memberAuth) {
                res async throws in
                let items = try #require(try res.json()["items"] as? [[String: Any]])
                let line = try #require(items.first)
                #expect(line.keys.contains("level") && line["level"] is NSNull, "\(line)")
            }
            try await ctx.app.testing().test(.GET, "api/executions/\(ids[1])", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok)
                let json = try res.json()
                for field in ["bitbucket", "finished_at", "duration_s", "error", "commit"] {
                    #expect(json.keys.contains(field) && json[field] is NSNull, "\(field): \(json)")
                }
            }
            try await ctx.app.testing().test(.GET, "api/pipelines/\(pipelineID)/logs", headers: ctx.memberAuth) {
                res async throws in
                let json = try res.json()
                let summary = try #require(json["summary"] as? [String: Any])
                #expect(summary.keys.contains("last_success_at") && summary["last_success_at"] is NSNull, "\(summary)")
                #expect(summary["last_failure_at"] is String, "\(summary)")
                let items = try #require(json["items"] as? [[String: Any]])
                let untriggered = try #require(items.first { $0["id"] as? Int == ids[1] })
                #expect(untriggered.keys.contains("bitbucket") && untriggered["bitbucket"] is NSNull)
                #expect(untriggered["status"] as? String == "TRIGGERING")
                let excerptLine = try #require(
                    (items.first { $0["id"] as? Int == ids[0] }?["excerpt"] as? [[String: Any]])?.first)
                #expect(excerptLine.keys.contains("level") && excerptLine["level"] is NSNull)
            }
        }
    }

    /// A 416 carries the error envelope as well as `Content-Range: bytes */LENGTH`.
    @Test func unsatisfiableRange_is416WithEnvelopeAndContentRange() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await LogEndpointTests().seed(ctx, statuses: [.failed])
            let log = "one\ntwo\n"
            try await LogEndpointTests().ingest(ctx, ids[0], step: "Build", log)
            try await ctx.app.testing().test(
                .GET, "api/executions/\(ids[0])/logs/raw",
                headers: ["Authorization": "Bearer \(ctx.memberToken)", "Range": "bytes=9999-"]
            ) { res async throws in
                #expect(res.status == .rangeNotSatisfiable)
                #expect(res.headers.first(name: .contentRange) == "bytes */\(log.utf8.count)")
                #expect(res.errorCode == "invalid_range", "\(res.body.string)")
                #expect(res.headers.contentType == .json)
            }
        }
    }
}

/// Issue 12 item 11: an oversized request head gets 414/431 with the error envelope, over a real socket.
@Suite struct RequestHeadLimitTests {
    @Test func oversizedTargetOrHeaders_get414Or431WithEnvelope() async throws {
        try await withTestApp { ctx in
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    let base = "http://127.0.0.1:\(port)"
                    var long = HTTPClientRequest(
                        url: base + "/api/ssh-keys?q=" + String(repeating: "a", count: 9 * 1024))
                    long.headers.add(name: "Authorization", value: "Bearer \(ctx.memberToken)")
                    let uri = try await client.execute(long, timeout: .seconds(10))
                    #expect(uri.status == .uriTooLong)
                    let uriBody = try await uri.body.collect(upTo: 1 << 20)
                    #expect(
                        try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: uriBody)).error.code
                            == "uri_too_long")

                    var big = HTTPClientRequest(url: base + "/api/ssh-keys")
                    big.headers.add(name: "Authorization", value: "Bearer \(ctx.memberToken)")
                    for index in 0..<5 {
                        big.headers.add(name: "X-Filler-\(index)", value: String(repeating: "f", count: 8 * 1024))
                    }
                    let headers = try await client.execute(big, timeout: .seconds(10))
                    #expect(headers.status == .requestHeaderFieldsTooLarge)
                    let body = try await headers.body.collect(upTo: 1 << 20)
                    let envelope = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: body))
                    #expect(envelope.error.code == "request_header_fields_too_large")
                    #expect(envelope.error.details["limit_bytes"] == String(32 * 1024))
                }
            }
        }
    }
}
