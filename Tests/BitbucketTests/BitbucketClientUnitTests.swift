import Foundation
import PipewrightCore
import PipewrightTesting
import Testing

@testable import Bitbucket

/// Client behaviour checked against a stub transport (no server).
@Suite struct BitbucketClientUnitTests {
    static let base = "https://api.bitbucket.org/2.0"

    func makeStubClient(
        _ transport: StubTransport, clock: ImmediateClock = ImmediateClock(), policy: RetryPolicy = fastRetryPolicy
    )
        -> LiveBitbucketClient
    {
        LiveBitbucketClient(
            baseURL: Self.base + "/", credentials: .accessToken(Secret(testAccessToken)), transport: transport,
            retryPolicy: policy, clock: clock)
    }

    static func json(_ text: String, status: Int = 200) -> BitbucketHTTPResponse {
        BitbucketHTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(text.utf8))
    }

    @Test func urlEncoding_bracesSpacesAndSlashes() {
        #expect(BitbucketURLEncoding.encode("{01fad871-cd21}") == "%7B01fad871-cd21%7D")
        #expect(BitbucketURLEncoding.encode("a b/c\"d") == "a%20b%2Fc%22d")
        #expect(BitbucketURLEncoding.encode("é") == "%C3%A9")
        let client = makeStubClient(StubTransport { _, _ in Self.json("{}") })
        #expect(
            client.url(["repositories", "{ws}", "web", "refs", "branches", "feature", "ci-setup"])
                == "https://api.bitbucket.org/2.0/repositories/%7Bws%7D/web/refs/branches/feature/ci-setup")
        #expect(
            client.url(["src", "abc"], trailingSlash: true, query: [("q", "name = \"x\"")])
                == "https://api.bitbucket.org/2.0/src/abc/?q=name%20%3D%20%22x%22")
    }

    @Test func redirectToOtherHost_isFollowedWithoutAuthorization() async throws {
        let transport = StubTransport { request, index in
            if index == 0 {
                return BitbucketHTTPResponse(
                    status: 302, headers: ["Location": "https://storage.example.net/blob?sig=abc"])
            }
            return BitbucketHTTPResponse(status: 200, body: Array("lfs-bytes".utf8))
        }
        let bytes = try await makeStubClient(transport).fileContents(
            workspace: "acme", slug: "web", commit: "abc", path: "big.bin")
        #expect(bytes == Array("lfs-bytes".utf8))
        let requests = transport.requests
        #expect(requests.count == 2)
        #expect(requests[0].headers["Authorization"] == "Bearer \(testAccessToken)")
        #expect(requests[1].url == "https://storage.example.net/blob?sig=abc")
        #expect(requests[1].headers["Authorization"] == nil)
    }

    @Test func redirectToSameHost_keepsAuthorization() async throws {
        let transport = StubTransport { request, index in
            index == 0
                ? BitbucketHTTPResponse(status: 307, headers: ["Location": "/2.0/repositories/acme/web/src/def/a.txt"])
                : BitbucketHTTPResponse(status: 200, body: [1, 2])
        }
        _ = try await makeStubClient(transport).fileContents(
            workspace: "acme", slug: "web", commit: "abc", path: "a.txt")
        #expect(transport.requests[1].url == "https://api.bitbucket.org/2.0/repositories/acme/web/src/def/a.txt")
        #expect(transport.requests[1].headers["Authorization"] != nil)
    }

    @Test func retryAfterHeader_isHonoured() async throws {
        let clock = ImmediateClock()
        let transport = StubTransport { _, index in
            index == 0
                ? BitbucketHTTPResponse(status: 429, headers: ["Retry-After": "7"], body: Array("slow down".utf8))
                : Self.json(#"{"uuid":"{u}","display_name":"D"}"#)
        }
        let user = try await makeStubClient(transport, clock: clock).currentUser()
        #expect(user.uuid == "{u}")
        #expect(clock.sleeps == [.seconds(7)])
    }

    @Test func transportTimeout_isRetried_thenClassified() async {
        let transport = StubTransport { _, _ throws(BitbucketTransportError) in throw .timeout }
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await makeStubClient(transport).currentUser()
        }
        #expect(error?.code == "bitbucket_timeout")
        #expect(error?.code == "bitbucket_timeout")
        #expect(transport.requests.count == fastRetryPolicy.maxAttempts)
        let refused = StubTransport { _, _ throws(BitbucketTransportError) in
            throw .connection(reason: "connection refused")
        }
        let other = await expectBitbucketError { () async throws(BitbucketError) in
            try await makeStubClient(refused).currentUser()
        }
        #expect(other?.code == "bitbucket_unreachable")
    }

    @Test func errorBodies_areReadTolerantly() {
        let client = makeStubClient(StubTransport { _, _ in Self.json("{}") })
        // detail as an object (missing scopes)
        let forbidden = client.classify(
            Self.json(
                #"{"type":"error","error":{"message":"Your credentials lack one or more required privilege scopes.","detail":{"required":["pipeline:write","repository"],"granted":["account"]}}}"#,
                status: 403))
        #expect(
            forbidden
                == .forbidden(
                    message: "Your credentials lack one or more required privilege scopes.",
                    requiredScopes: ["pipeline:write", "repository"]))
        // no "type", detail string, data.key
        let notFound = client.classify(
            Self.json(
                #"{"error":{"message":"Not found","detail":"The value provided is not a valid uuid.","data":{"key":"x"}}}"#,
                status: 404))
        #expect(notFound == .notFound(message: "Not found: The value provided is not a valid uuid."))
        // text/plain bodies
        let html = client.classify(
            BitbucketHTTPResponse(
                status: 502, headers: ["Content-Type": "text/html"], body: Array("<html>\n<h1>Bad Gateway</h1>".utf8)))
        #expect(html == .upstream(status: 502, message: "<html>"))
        let empty = client.classify(BitbucketHTTPResponse(status: 503))
        #expect(empty == .upstream(status: 503, message: "HTTP 503"))
        let plain429 = client.classify(
            BitbucketHTTPResponse(
                status: 429, headers: ["Content-Type": "text/plain"],
                body: Array("Rate limit for this resource has been exceeded".utf8)))
        #expect(plain429 == .rateLimited(retryAfter: nil))
        // fields as lists
        let bad = client.classify(
            Self.json(
                #"{"type":"error","error":{"message":"Bad request","fields":{"src":["This field is required."]}}}"#,
                status: 400))
        #expect(bad == .badRequest(message: "Bad request", fields: ["src": ["This field is required."]]))
    }

    @Test func serverEchoingTheToken_isRedacted() {
        let client = makeStubClient(StubTransport { _, _ in Self.json("{}") })
        let error = client.classify(Self.json(#"{"error":{"message":"bad token \#(testAccessToken)"}}"#, status: 401))
        for rendering in renderings(of: error) { #expect(!rendering.contains(testAccessToken)) }
    }

    @Test func nextLinkToAnotherHost_isRefused() async {
        let transport = StubTransport { _, _ in
            Self.json(
                #"{"values":[{"type":"commit_file","path":"a"}],"next":"https://evil.example.com/steal?page=2","page":1,"pagelen":1,"size":2}"#
            )
        }
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await makeStubClient(transport).listDirectory(
                workspace: "a", slug: "b", commit: "c", path: "", maxDepth: 1)
        }
        guard case .invalidResponse? = error else {
            Issue.record("expected invalidResponse, got \(String(describing: error))")
            return
        }
        #expect(transport.requests.count == 1)
    }

    @Test func pagination_dedupesUnstablePages() async throws {
        let transport = StubTransport { request, index in
            index == 0
                ? Self.json(
                    #"{"values":[{"id":1,"source":{"branch":{"name":"a"}},"destination":{"branch":{"name":"main"}}},{"id":2,"source":{"branch":{"name":"a"}},"destination":{"branch":{"name":"main"}}}],"page":1,"pagelen":2,"size":3}"#
                )
                : Self.json(
                    #"{"values":[{"id":2,"source":{"branch":{"name":"a"}},"destination":{"branch":{"name":"main"}}},{"id":3,"source":{"branch":{"name":"a"}},"destination":{"branch":{"name":"main"}}}],"page":2,"pagelen":2,"size":3}"#
                )
        }
        let found = try await makeStubClient(transport).pullRequests(
            workspace: "a", slug: "b", state: nil, sourceBranch: nil, destinationBranch: nil)
        #expect(found.map(\.id) == [1, 2, 3])
        #expect(transport.requests.count == 2)
        #expect(transport.requests[1].url.hasSuffix("pagelen=50&page=2"))
    }

    @Test func invalidJSON_onSuccess_isInvalidResponse() async {
        let transport = StubTransport { _, _ in Self.json("not json") }
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await makeStubClient(transport).currentUser()
        }
        #expect(error?.code == "bitbucket_invalid_response")
    }

    @Test func errorCodes_areStableSnakeCase() {
        let errors: [BitbucketError] = [
            .unauthorized(message: ""), .forbidden(message: "", requiredScopes: []), .notFound(message: ""),
            .conflict(message: ""), .badRequest(message: "", fields: [:]), .rateLimited(retryAfter: nil),
            .upstream(status: 500, message: ""), .transport(reason: .timeout(after: .seconds(30))),
            .transport(reason: .connection("x")),
            .invalidResponse(reason: ""),
        ]
        #expect(
            errors.map(\.code) == [
                "bitbucket_unauthorized", "bitbucket_forbidden", "bitbucket_not_found", "bitbucket_conflict",
                "bitbucket_bad_request", "bitbucket_rate_limited", "bitbucket_upstream_error", "bitbucket_timeout",
                "bitbucket_unreachable", "bitbucket_invalid_response",
            ])
        #expect(
            errors.filter(\.isRetryable).map(\.code) == [
                "bitbucket_rate_limited", "bitbucket_upstream_error", "bitbucket_timeout", "bitbucket_unreachable",
                "bitbucket_invalid_response",
            ])
    }
}
