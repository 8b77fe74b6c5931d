import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`, `POST /api/auth/password` (docs/API.md
/// "Accounts and tokens"); the use cases are in `SessionService` and `UserService`.
///
/// `logout`, `me` and `password` stay open to a user whose password an admin reset (everything else answers
/// 403 `password_change_required` until the password is changed).
struct AuthController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let auth = routes.grouped("auth")
        auth.post("login", use: login)
        let signedIn = auth.grouped(RequireUserMiddleware(allowsPendingPasswordChange: true))
        signedIn.post("logout", use: logout)
        signedIn.get("me", use: me)
        signedIn.post("password", use: changePassword)
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

    @Sendable func changePassword(req: Request) async throws -> PasswordChangedResponse {
        let body = try req.content.decode(ChangePasswordRequest.self)
        let change = try await Self.changePassword(
            req, current: body.currentPassword, new: body.newPassword, revokeTokens: body.revokeTokens ?? false)
        return PasswordChangedResponse(sessionsEnded: change.sessionsEnded, tokensRevoked: change.tokensRevoked)
    }

    /// Audited change of the signed-in user's own password (`UserService.changeOwnPassword`), rate limited
    /// like a login (per user and client IP) since it checks the current password; API and dashboard.
    static func changePassword(_ req: Request, current: String, new: String, revokeTokens: Bool) async throws
        -> UserService.PasswordChange
    {
        let user = try req.requireUser()
        return try await AuditLog.audited(req, .passwordChange, resource: AuditResource(type: "user", id: user.id)) {
            note in
            try await req.enforceRateLimit(.login, keys: ["password|user:\(user.id)|ip:\(req.clientRateLimitKey)"])
            let change = try await req.userService.changeOwnPassword(
                current: current, new: new, revokeTokens: revokeTokens, for: user)
            note.details = [
                "sessions_ended": String(change.sessionsEnded), "tokens_revoked": String(change.tokensRevoked),
            ]
            return change
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
