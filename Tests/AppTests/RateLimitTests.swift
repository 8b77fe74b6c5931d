import Fluent
import Foundation
import PipewrightCore
import Testing
import Vapor
import VaporTesting

@testable import App

/// Rate limits (docs/API.md "Rate limits"): 429 + `Retry-After` + `rate_limited`, per user and per client IP.
///
/// Requests go through a real socket (`.running`) so the service sees a peer address; 127.0.0.1 is a
/// trusted proxy here, so `X-Forwarded-For` simulates clients at different addresses.
@Suite struct RateLimitTests {
    static func limits(_ changes: [RateLimitSettings.Action: RateLimit]) -> (inout PipewrightConfiguration) -> Void {
        { configuration in
            var settings = RateLimitSettings.generous
            for (action, limit) in changes { settings.limits[action] = limit }
            settings.loginFailureDelayStep = .milliseconds(1)
            settings.loginFailureDelayCap = .milliseconds(5)
            configuration.rateLimits = settings
            configuration.trustedProxies = [IPNetwork("127.0.0.1/32")!]
        }
    }

    struct Reply {
        var status: HTTPStatus
        var headers: HTTPHeaders
        var json: [String: Any]
        var code: String { ((json["error"] as? [String: Any])?["code"] as? String) ?? "" }
    }

    static func send(
        _ ctx: TestContext, _ method: HTTPMethod, _ path: String, from ip: String, auth: HTTPHeaders = [:],
        _ body: [String: Any]? = nil
    ) async throws -> Reply {
        var headers = body == nil ? auth : .json(auth)
        headers.replaceOrAdd(name: .xForwardedFor, value: ip)
        var reply = Reply(status: .ok, headers: [:], json: [:])
        try await ctx.app.testing(method: .running(hostname: "127.0.0.1", port: 0)).test(
            method, path, headers: headers, body: try body.map { try jsonBody($0) }
        ) { res async throws in
            reply = Reply(
                status: res.status, headers: res.headers,
                json: (try? JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]) ?? [:])
        }
        return reply
    }

    static func expectLimited(_ reply: Reply, _ what: String) {
        #expect(reply.status == .tooManyRequests, "\(what): \(reply.status) \(reply.json)")
        #expect(reply.code == "rate_limited", "\(what)")
        let retryAfter = reply.headers.first(name: .retryAfter).flatMap { Int($0) }
        #expect((retryAfter ?? 0) >= 1, "\(what): Retry-After \(reply.headers.first(name: .retryAfter) ?? "none")")
    }

    @Test func bruteForceFromOneIP_isThrottled_realUserFromAnotherIPStillLogsIn() async throws {
        try await withTestApp(configure: Self.limits([.login: RateLimit(requests: 3, periodSeconds: 600)])) { ctx in
            let attacker = "203.0.113.66"
            for attempt in 1...3 {
                let reply = try await Self.send(
                    ctx, .POST, "api/auth/login", from: attacker,
                    ["username": "member", "password": "guess-\(attempt)"])
                #expect(reply.status == .unauthorized)
            }
            let blocked = try await Self.send(
                ctx, .POST, "api/auth/login", from: attacker, ["username": "member", "password": "guess-4"])
            Self.expectLimited(blocked, "4th attempt")
            // Even the right password does not get through from the locked-out address.
            let right = try await Self.send(
                ctx, .POST, "api/auth/login", from: attacker, ["username": "member", "password": "member-password-1"])
            Self.expectLimited(right, "right password from attacker")
            // The real user elsewhere is not locked out.
            let real = try await Self.send(
                ctx, .POST, "api/auth/login", from: "198.51.100.7",
                ["username": "member", "password": "member-password-1"])
            #expect(real.status == .ok, "\(real.json)")
            // Audit: three failures and one denied (the first rejection of the lockout), one success.
            let logins = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "auth.login").sort(\.$id).all()
            #expect(logins.map(\.outcome) == [.failure, .failure, .failure, .denied, .success])
            #expect(logins.prefix(4).allSatisfy { $0.ip == attacker && $0.details["username"] == "member" })
            #expect(logins.last?.ip == "198.51.100.7")
            #expect(!logins.map(\.detailsJSON).joined().contains("guess-"))
        }
    }

    @Test func failedLogins_areSlowedMoreEachTime_andASuccessResets() async throws {
        try await withTestApp(configure: { configuration in
            configuration.rateLimits.loginFailureDelayStep = .milliseconds(150)
            configuration.rateLimits.loginFailureDelayCap = .milliseconds(400)
        }) { ctx in
            func attempt(_ password: String) async throws -> (HTTPStatus, Duration) {
                let start = ContinuousClock.now
                var status = HTTPStatus.ok
                try await ctx.app.testing().test(
                    .POST, "api/auth/login", headers: .json([:]),
                    body: try jsonBody(["username": "member", "password": password])
                ) { res async throws in status = res.status }
                return (status, ContinuousClock.now - start)
            }
            var delays: [Duration] = []
            for index in 1...4 {
                let (status, took) = try await attempt("wrong-\(index)")
                #expect(status == .unauthorized)
                delays.append(took)
            }
            // 150, 300, 400 (capped), 400 ms at least.
            #expect(delays[0] >= .milliseconds(150))
            #expect(delays[1] >= .milliseconds(300))
            #expect(delays[2] >= .milliseconds(400) && delays[3] >= .milliseconds(400))
            #expect(try await attempt("member-password-1").0 == .ok)
            let (_, afterReset) = try await attempt("wrong-again")
            #expect(afterReset >= .milliseconds(150))
            #expect(afterReset < delays[3] + .milliseconds(250))
        }
    }

    @Test func manyUsernamesFromOneIP_hitThePerIPLimit() async throws {
        try await withTestApp(configure: Self.limits([.loginPerIP: RateLimit(requests: 4, periodSeconds: 600)])) {
            ctx in
            for index in 1...4 {
                let reply = try await Self.send(
                    ctx, .POST, "api/auth/login", from: "203.0.113.5",
                    ["username": "user\(index)", "password": "x-password"])
                #expect(reply.status == .unauthorized)
            }
            Self.expectLimited(
                try await Self.send(
                    ctx, .POST, "api/auth/login", from: "203.0.113.5", ["username": "user9", "password": "x"]),
                "per-IP")
            let other = try await Self.send(
                ctx, .POST, "api/auth/login", from: "203.0.113.6",
                ["username": "member", "password": "member-password-1"])
            #expect(other.status == .ok)
        }
    }

    @Test func forwardedForFromUntrustedPeer_isIgnored() async throws {
        try await withTestApp(configure: { configuration in
            Self.limits([.login: RateLimit(requests: 2, periodSeconds: 600)])(&configuration)
            configuration.trustedProxies = []
        }) { ctx in
            // Rotating X-Forwarded-For does not escape the limit: the socket peer (127.0.0.1) is counted.
            for index in 1...2 {
                let reply = try await Self.send(
                    ctx, .POST, "api/auth/login", from: "203.0.113.\(index)",
                    ["username": "member", "password": "nope-\(index)"])
                #expect(reply.status == .unauthorized)
            }
            Self.expectLimited(
                try await Self.send(
                    ctx, .POST, "api/auth/login", from: "203.0.113.99", ["username": "member", "password": "n"]),
                "spoofed XFF")
            let entry = try #require(try await AuditEntry.query(on: ctx.app.db).first())
            #expect(entry.ip == "127.0.0.1")
        }
    }

    /// Each listed endpoint: two requests pass the limiter (whatever their outcome), the third is 429.
    @Test(arguments: [
        (RateLimitSettings.Action.trigger, HTTPMethod.POST, "api/pipelines/999/trigger"),
        (.trigger, .POST, "api/executions/999/rerun"),
        (.deploy, .POST, "api/ssh-keys/KEY/deploy"),
        (.test, .POST, "api/ssh-keys/KEY/test"),
        (.undeploy, .POST, "api/ssh-keys/KEY/undeploy"),
        (.rotate, .POST, "api/ssh-keys/KEY/rotate"),
        (.export, .GET, "api/ssh-keys/KEY/private"),
        (.provision, .POST, "api/pipelines/999/provision"),
    ])
    func eachLimitedEndpoint_throttles(action: RateLimitSettings.Action, method: HTTPMethod, template: String)
        async throws
    {
        try await withTestApp(configure: Self.limits([action: RateLimit(requests: 2, periodSeconds: 600)])) { ctx in
            // The limited user: the maintainer, or for export (admins only) a second admin.
            var primary = ctx.memberAuth
            if action == .export {
                let second = try await createUser(
                    username: "admin2", password: "admin2-password-1", role: .admin, app: ctx.app)
                let token = try await TokenIssuer.issue(
                    for: try second.requireID(), name: "t", expiresInDays: nil, now: Date(), on: ctx.app.db)
                primary = ["Authorization": "Bearer \(token.token)"]
            }
            let created = try await Self.send(
                ctx, .POST, "api/ssh-keys", from: "198.51.100.1", auth: primary,
                ["name": "k", "key_type": "ed25519"])
            let keyID = try #require(created.json["id"] as? Int)
            let path = template.replacingOccurrences(of: "KEY", with: String(keyID))
            let body: [String: Any]? = method == .GET ? nil : ["servers": []]
            for _ in 1...2 {
                let reply = try await Self.send(ctx, method, path, from: "198.51.100.1", auth: primary, body)
                #expect(reply.status != .tooManyRequests, "\(path)")
            }
            let limited = try await Self.send(ctx, method, path, from: "198.51.100.1", auth: primary, body)
            Self.expectLimited(limited, path)
            #expect(
                (limited.json["error"] as? [String: Any]).map { ($0["details"] as? [String: String])?["action"] }
                    == action.rawValue.lowercased())
            // Per user: the same member from another address is limited too …
            Self.expectLimited(
                try await Self.send(ctx, method, path, from: "198.51.100.2", auth: primary, body),
                "\(path) other IP")
            // … and per IP: another user at the first address is limited (keys belong to the team).
            Self.expectLimited(
                try await Self.send(ctx, method, path, from: "198.51.100.1", auth: ctx.adminAuth, body),
                "\(path) other user")
            // Another user from another address is not.
            let free = try await Self.send(ctx, method, path, from: "198.51.100.3", auth: ctx.adminAuth, body)
            #expect(free.status != .tooManyRequests, "\(path)")
            // The lockout (of the member's and of the address's bucket, which began with the same request)
            // is audited once as denied, not once per rejected request.
            let denied = try await AuditEntry.query(on: ctx.app.db).filter(\.$outcome == .denied).all()
            #expect(denied.count == 1)
            #expect(denied.first?.details["error"] == "rate_limited")
        }
    }

    @Test func limitVariables_parseAndReject() throws {
        let configuration = try PipewrightConfiguration.fromEnvironment([
            "PIPEWRIGHT_RATE_LIMIT_DEPLOY": "7/30", "PIPEWRIGHT_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
        ])
        #expect(configuration.rateLimits[.deploy] == RateLimit(requests: 7, periodSeconds: 30))
        #expect(configuration.rateLimits[.login] == RateLimitSettings.defaults[.login])
        #expect(configuration.trustedProxies.count == 2)
        for (name, value) in [
            ("PIPEWRIGHT_RATE_LIMIT_LOGIN", "ten"), ("PIPEWRIGHT_RATE_LIMIT_EXPORT", "0/60"),
            ("PIPEWRIGHT_RATE_LIMIT_TEST", "5/0"), ("PIPEWRIGHT_TRUSTED_PROXIES", "proxy.local"),
        ] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") {
                try PipewrightConfiguration.fromEnvironment([name: value])
            }
        }
    }

    @Test func ipv6ClientsAreCountedPer64() {
        #expect(Request.rateLimitKey(forClientIP: "2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64")
        #expect(Request.rateLimitKey(forClientIP: "2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64")
        #expect(Request.rateLimitKey(forClientIP: "203.0.113.9") == "203.0.113.9")
        #expect(Request.rateLimitKey(forClientIP: "unknown") == "unknown")
    }

    @Test(arguments: [
        ("203.0.113.9", [String](), [String](), "203.0.113.9"),
        ("203.0.113.9", ["198.51.100.1"], [String](), "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1"], ["127.0.0.1/32"], "198.51.100.1"),
        ("127.0.0.1", ["198.51.100.1, 10.0.0.2"], ["127.0.0.1/32", "10.0.0.0/8"], "198.51.100.1"),
        ("127.0.0.1", ["1.2.3.4, 198.51.100.1"], ["127.0.0.1/32"], "198.51.100.1"),
        ("127.0.0.1", ["garbage"], ["127.0.0.1/32"], "127.0.0.1"),
        ("::1", ["2001:db8::5"], ["::1"], "2001:db8::5"),
    ])
    func clientIP(peer: String, forwarded: [String], trusted: [String], expected: String) {
        #expect(
            Request.clientIP(peer: peer, forwardedFor: forwarded, trusted: trusted.compactMap { IPNetwork($0) })
                == expected)
    }
}
