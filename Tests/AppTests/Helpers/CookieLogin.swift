import Foundation
import Testing
import Vapor
import VaporTesting

/// A browser-style session: the `Cookie` header value and the CSRF token the login returned.
struct CookieSession {
    var cookie: String
    var csrfToken: String

    /// Headers for a state-changing request of this session.
    var headers: [String: String] { ["Cookie": cookie, "X-CSRF-Token": csrfToken] }
}

/// Logs in with a password through `POST /api/auth/login` and returns the session; the one login helper
/// of the suites (expects 200).
func cookieLogin(_ ctx: TestContext, username: String = "member", password: String = "member-password-1")
    async throws -> CookieSession
{
    var session = CookieSession(cookie: "", csrfToken: "")
    try await ctx.app.testing().test(
        .POST, "api/auth/login", headers: .json([:]), body: try jsonBody(["username": username, "password": password])
    ) { res async throws in
        #expect(res.status == .ok)
        session.cookie = String((res.headers.first(name: .setCookie) ?? "").split(separator: ";")[0])
        session.csrfToken = try #require(try res.json()["csrf_token"] as? String)
    }
    return session
}
