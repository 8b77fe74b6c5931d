import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me` (docs/API.md "Accounts and tokens");
/// the use cases are in `SessionService`.
struct AuthController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let auth = routes.grouped("auth")
        auth.post("login", use: login)
        auth.grouped(RequireUserMiddleware()).post("logout", use: logout)
        auth.grouped(RequireUserMiddleware()).get("me", use: me)
    }

    /// Rate limited as `Request.signIn(username:password:)` says.
    @Sendable func login(req: Request) async throws -> Response {
        try await req.auditedSignIn {
            try req.content.decode(LoginRequest.self)
        } respond: { signIn in
            let response = try Response.json(
                LoginResponse(user: try UserResponse(signIn.user), csrfToken: signIn.session.csrfToken), status: .ok)
            response.cookies[AuthenticationMiddleware.sessionCookie] = .session(signIn)
            return response
        }
    }

    @Sendable func logout(req: Request) async throws -> Response {
        let resource = AuditResource(type: "user", id: req.authenticatedUser?.id)
        return try await AuditLog.audited(req, .logout, resource: resource) { _ in
            try await req.sessionService.signOut(try req.requireUser())
            let response = Response(status: .noContent)
            response.cookies[AuthenticationMiddleware.sessionCookie] = .expired
            return response
        }
    }

    @Sendable func me(req: Request) async throws -> MeResponse {
        let user = try req.requireUser()
        var csrf: String?
        if case .session(_, let token) = user.method { csrf = token }
        return MeResponse(user: try UserResponse(try await req.sessionService.currentUser(user)), csrfToken: csrf)
    }
}

extension Request {
    /// Signs in (``signIn(username:password:)``) with the credentials `decode` reads and audits the attempt
    /// (`login`; the attempted username, bounded and printable, never the password); `respond` builds the
    /// response from the new session. The JSON API and the dashboard's sign-in form both use it.
    func auditedSignIn(
        _ decode: () throws -> LoginRequest, respond: (SessionService.SignIn) async throws -> Response
    ) async throws -> Response {
        try await AuditLog.audited(self, .login) { note in
            let body = try decode()
            let username = body.username.trimmingCharacters(in: .whitespaces)
            note.details["username"] = String(
                username.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(64)
                    .map(Character.init))
            let signIn = try await signIn(username: username, password: body.password)
            note.actor = (try signIn.user.requireID(), signIn.user.username)
            note.resource = AuditResource(type: "user", id: try signIn.user.requireID())
            return try await respond(signIn)
        }
    }

    /// Signs in with a password (JSON API and dashboard alike), rate limited per client IP and per
    /// (username, client IP) — never per username alone, so an attacker elsewhere cannot lock the real
    /// user out.
    ///
    /// - Throws: 429 `rate_limited`, 401 `invalid_credentials` (see `SessionService.signIn`).
    func signIn(username: String, password: String) async throws -> SessionService.SignIn {
        let ip = clientRateLimitKey
        let pairKey = "login|user:\(username.lowercased().prefix(64))|ip:\(ip)"
        try await enforceRateLimit(.loginPerIP, keys: ["login|ip:\(ip)"])
        try await enforceRateLimit(.login, keys: [pairKey])
        return try await sessionService.signIn(username: username, password: password, failureKey: pairKey)
    }
}

extension HTTPCookies.Value {
    /// The `pw_session` cookie of a new session (HttpOnly, SameSite=Lax; `SecurityHeadersMiddleware` adds
    /// `Secure` where configured).
    static func session(_ signIn: SessionService.SignIn) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: signIn.cookieToken, expires: signIn.session.expiresAt,
            maxAge: Int(SessionService.sessionLifetime), path: "/", isSecure: false, isHTTPOnly: true,
            sameSite: .lax)
    }
}
