import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// Security headers on every response, session cookie flags, CSRF on every cookie-authenticated state
/// change, and request ids in headers and logs (issue 7 item 5).
@Suite struct SecurityHeadersTests {
    static let expected: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ]

    func expectSecurityHeaders(_ headers: HTTPHeaders, api: Bool, _ comment: String) {
        for (name, value) in Self.expected {
            #expect(headers[name] == [value], "\(comment): \(name)")
        }
        if api { #expect(headers.first(name: .cacheControl) == "no-store", "\(comment): Cache-Control") }
        #expect(headers.first(name: "Strict-Transport-Security") == nil, "\(comment): no HSTS without TLS")
        #expect(RequestIDMiddleware.acceptable(headers.first(name: "X-Request-ID")) != nil, "\(comment): X-Request-ID")
    }

    @Test func everyResponse_carriesSecurityHeaders_successAndErrors() async throws {
        try await withTestApp { ctx in
            let cases: [(HTTPMethod, String, HTTPHeaders, ByteBuffer?, HTTPStatus, Bool)] = [
                (.GET, "health", [:], nil, .ok, false),
                (.GET, "no/such/path", [:], nil, .notFound, false),
                (.GET, "api/ssh-keys", [:], nil, .unauthorized, true),
                (.GET, "api/ssh-keys", ctx.adminAuth, nil, .ok, true),
                (.GET, "api/ssh-keys/999999", ctx.adminAuth, nil, .notFound, true),
                (.POST, "api/ssh-keys", .json(ctx.adminAuth), ByteBuffer(string: "{not json"), .badRequest, true),
                (
                    .POST, "api/ssh-keys", .json(ctx.adminAuth),
                    ByteBuffer(repeating: UInt8(ascii: "a"), count: (1 << 20) + 1), .payloadTooLarge, true
                ),
                (.DELETE, "health", [:], nil, .notFound, false),
            ]
            for (method, path, headers, body, status, api) in cases {
                try await ctx.app.testing().test(method, path, headers: headers, body: body) { res async throws in
                    #expect(res.status == status, "\(method) \(path): \(res.body.string)")
                    expectSecurityHeaders(res.headers, api: api, "\(method) \(path)")
                    if status.code >= 400 { #expect(!res.errorCode.isEmpty, "\(method) \(path) has the envelope") }
                }
            }
        }
    }

    @Test func loginCookie_isHttpOnlyLaxRootPath_notSecureWithoutTLS_andSecureWhenForced() async throws {
        for forced in [false, true] {
            try await withTestApp(configure: { $0.server.cookieSecureOverride = forced }) { ctx in
                try await ctx.app.testing().test(
                    .POST, "api/auth/login", headers: .json([:]),
                    body: try jsonBody(["username": "member", "password": "member-password-1"])
                ) { res async throws in
                    #expect(res.status == .ok)
                    #expect(res.headers.first(name: .cacheControl) == "no-store")
                    let attributes = (res.headers.first(name: .setCookie) ?? "").split(separator: ";")
                        .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                    #expect(attributes.first?.hasPrefix("pw_session=") == true)
                    #expect(attributes.contains("httponly"))
                    #expect(attributes.contains("samesite=lax"))
                    #expect(attributes.contains("path=/"))
                    #expect(attributes.contains("secure") == forced, "forced=\(forced): \(attributes)")
                }
            }
        }
    }

    /// Logs in by password and returns `(cookie header value, csrf token)`.
    func login(_ ctx: TestContext) async throws -> (String, String) {
        let session = try await cookieLogin(ctx, username: "admin", password: "admin-password-1")
        return (session.cookie, session.csrfToken)
    }

    /// Every registered state-changing route behind authentication refuses a session cookie without the
    /// right `X-CSRF-Token` (403 `csrf_token_invalid`), and none asks a bearer client for one.
    @Test func everyStateChangingRoute_enforcesCSRFForCookies_neverForBearer() async throws {
        try await withTestApp { ctx in
            let (cookie, csrf) = try await login(ctx)
            let routes = ctx.app.routes.all.filter { route in
                ![.GET, .HEAD, .OPTIONS].contains(route.method)
                    && route.path.first?.description == "api"
                    && route.path.dropFirst().first?.description != "webhooks"
            }
            #expect(routes.count >= 15, "found \(routes.count) state-changing API routes")
            let body = try jsonBody([:])
            for route in routes {
                let path = route.path.map { component -> String in
                    if case .parameter = component { return "1" }
                    return component.description
                }.joined(separator: "/")
                for token in [nil, "", "wrong-\(csrf)"] as [String?] {
                    var headers: HTTPHeaders = .json(["Cookie": cookie])
                    if let token { headers.add(name: "X-CSRF-Token", value: token) }
                    try await ctx.app.testing().test(route.method, path, headers: headers, body: body) {
                        res async throws in
                        #expect(res.status == .forbidden, "\(route.method) \(path) token=\(token ?? "none")")
                        #expect(res.errorCode == "csrf_token_invalid", "\(route.method) \(path)")
                    }
                }
                try await ctx.app.testing().test(route.method, path, headers: .json(ctx.adminAuth), body: body) {
                    res async throws in
                    #expect(res.errorCode != "csrf_token_invalid", "\(route.method) \(path) with a bearer token")
                    #expect(res.status.code < 500, "\(route.method) \(path): \(res.body.string)")
                }
            }
            // With the right token the cookie session works for a state change.
            try await ctx.app.testing().test(
                .POST, "api/tokens", headers: .json(["Cookie": cookie, "X-CSRF-Token": csrf]),
                body: try jsonBody(["name": "t"])
            ) { res async throws in
                #expect(res.status == .created, "\(res.body.string)")
            }
        }
    }

    @Test func requestID_safeIncomingIsEchoed_unsafeIsReplaced() async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(.GET, "health", headers: ["X-Request-ID": "abc.DEF_123-x"]) {
                res async throws in
                #expect(res.headers.first(name: "X-Request-ID") == "abc.DEF_123-x")
            }
            for unsafe in ["has space", "semi;colon", String(repeating: "a", count: 129), "é", "a\u{7}b", "../etc"] {
                try await ctx.app.testing().test(.GET, "health", headers: ["X-Request-ID": unsafe]) {
                    res async throws in
                    let echoed = try #require(res.headers.first(name: "X-Request-ID"))
                    #expect(echoed != unsafe)
                    #expect(UUID(uuidString: echoed) != nil, "a generated id replaces \(unsafe.debugDescription)")
                }
            }
            var seen = Set<String>()
            for _ in 0..<5 {
                try await ctx.app.testing().test(.GET, "health") { res async throws in
                    seen.insert(res.headers.first(name: "X-Request-ID") ?? "")
                }
            }
            #expect(seen.count == 5)
            #expect(RequestIDMiddleware.acceptable(String(repeating: "z", count: 128)) != nil)
        }
    }

    @Test func requestLogLine_hasRouteStatusDuration_andEveryLineOfTheRequestCarriesTheID_neverTheQuery() async throws {
        try await withTestApp { ctx in
            let logs = CapturedLogs()
            ctx.app.logger = logs.logger()
            try await ctx.app.testing().test(
                .POST, "api/auth/login?note=query-secret-value", headers: .json(["X-Request-ID": "req-login-1"]),
                body: try jsonBody(["username": "member", "password": "wrong-password"])
            ) { res async throws in
                #expect(res.status == .unauthorized)
            }
            try await ctx.app.testing().test(
                .GET, "api/ssh-keys/12345?filter=query-secret-value",
                headers: ctx.memberAuth.merging(["X-Request-ID": "req-key-2"])
            ) { res async throws in
                #expect(res.status == .notFound)
            }
            let records = logs.records
            let login = records.filter { $0.metadata["request_id"] == "req-login-1" }
            #expect(login.contains { $0.message == "login failed" }, "the handler's own line carries the id")
            let line = try #require(login.first { $0.message == "request" })
            #expect(line.metadata["method"] == "POST")
            #expect(line.metadata["route"] == "/api/auth/login")
            #expect(line.metadata["status"] == "401")
            #expect(Double(line.metadata["duration_ms"] ?? "") != nil)
            let key = try #require(
                records.first { $0.message == "request" && $0.metadata["request_id"] == "req-key-2" })
            #expect(key.metadata["route"] == "/api/ssh-keys/:keyID" || key.metadata["route"]?.contains(":") == true)
            #expect(key.metadata["status"] == "404")
            #expect(records.filter { $0.message == "request" }.count == 2, "one line per request")
            #expect(!records.contains { $0.flattened.contains("query-secret-value") }, "query strings are never logged")
            #expect(!records.contains { $0.flattened.contains("wrong-password") })
            #expect(!records.contains { $0.metadata["request-id"] != nil }, "one request id key")
        }
    }
}

extension HTTPHeaders {
    /// `self` plus `other`'s fields.
    func merging(_ other: HTTPHeaders) -> HTTPHeaders {
        var headers = self
        for (name, value) in other { headers.add(name: name, value: value) }
        return headers
    }
}
