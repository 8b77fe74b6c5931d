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

    /// Rate limited per client IP and per (username, client IP) — never per username alone, so an
    /// attacker elsewhere cannot lock the real user out.
    @Sendable func login(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .login) { note in
            let body = try req.content.decode(LoginRequest.self)
            let username = body.username.trimmingCharacters(in: .whitespaces)
            // The attempted name goes to the audit entry (never the password); bounded and printable.
            note.details["username"] = String(
                username.unicodeScalars.filter { $0.properties.generalCategory != .control }.prefix(64)
                    .map(Character.init))
            let ip = req.clientRateLimitKey
            let pairKey = "login|user:\(username.lowercased().prefix(64))|ip:\(ip)"
            try await req.enforceRateLimit(.loginPerIP, keys: ["login|ip:\(ip)"])
            try await req.enforceRateLimit(.login, keys: [pairKey])
            let signIn = try await req.sessionService.signIn(
                username: username, password: body.password, failureKey: pairKey)
            note.actor = (try signIn.user.requireID(), signIn.user.username)
            note.resource = AuditResource(type: "user", id: try signIn.user.requireID())
            let response = try Response.json(
                LoginResponse(user: try UserResponse(signIn.user), csrfToken: signIn.session.csrfToken), status: .ok)
            response.cookies[AuthenticationMiddleware.sessionCookie] = HTTPCookies.Value(
                string: signIn.cookieToken, expires: signIn.session.expiresAt,
                maxAge: Int(SessionService.sessionLifetime), path: "/", isSecure: false, isHTTPOnly: true,
                sameSite: .lax)
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

    /// Rate limited like a login (per user and client IP), since it checks the current password.
    @Sendable func changePassword(req: Request) async throws -> PasswordChangedResponse {
        let user = try req.requireUser()
        return try await AuditLog.audited(req, .passwordChange, resource: AuditResource(type: "user", id: user.id)) {
            note in
            let body = try req.content.decode(ChangePasswordRequest.self)
            try await req.enforceRateLimit(.login, keys: ["password|user:\(user.id)|ip:\(req.clientRateLimitKey)"])
            let change = try await req.userService.changeOwnPassword(
                current: body.currentPassword, new: body.newPassword, revokeTokens: body.revokeTokens ?? false,
                for: user)
            note.details = [
                "sessions_ended": String(change.sessionsEnded), "tokens_revoked": String(change.tokensRevoked),
            ]
            return PasswordChangedResponse(sessionsEnded: change.sessionsEnded, tokensRevoked: change.tokensRevoked)
        }
    }

    @Sendable func me(req: Request) async throws -> MeResponse {
        let user = try req.requireUser()
        var csrf: String?
        if case .session(_, let token) = user.method { csrf = token }
        return MeResponse(user: try UserResponse(try await req.sessionService.currentUser(user)), csrfToken: csrf)
    }
}
