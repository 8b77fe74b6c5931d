import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me` (docs/API.md "Accounts and tokens").
struct AuthController: RouteCollection {
    let services: AppServices
    /// Session lifetime.
    static let sessionLifetime: TimeInterval = 7 * 24 * 3600

    func boot(routes: any RoutesBuilder) throws {
        let auth = routes.grouped("auth")
        auth.post("login", use: login)
        auth.grouped(RequireUserMiddleware()).post("logout", use: logout)
        auth.grouped(RequireUserMiddleware()).get("me", use: me)
    }

    @Sendable func login(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .login) { note in try await loginAudited(req: req, note: note) }
    }

    /// Rate limited per client IP and per (username, client IP) — never per username alone, so an
    /// attacker elsewhere cannot lock the real user out. Each consecutive failure of a (username, IP)
    /// pair adds `loginFailureDelayStep` (up to `loginFailureDelayCap`) before the 401.
    private func loginAudited(req: Request, note: AuditNote) async throws -> Response {
        let body = try req.content.decode(LoginRequest.self)
        let username = body.username.trimmingCharacters(in: .whitespaces)
        // The attempted name goes to the audit entry (never the password); bounded and printable.
        note.details["username"] = String(username.unicodeScalars.filter { $0.properties.generalCategory != .control }
            .prefix(64).map(Character.init))
        let ip = req.clientRateLimitKey
        let pairKey = "login|user:\(username.lowercased().prefix(64))|ip:\(ip)"
        try await req.enforceRateLimit(.loginPerIP, keys: ["login|ip:\(ip)"])
        try await req.enforceRateLimit(.login, keys: [pairKey])
        guard !username.isEmpty, username.count <= 64 else { throw AppError.invalidCredentials }
        guard !body.password.isEmpty, body.password.utf8.count <= 1024 else { throw AppError.invalidCredentials }
        let user = try await User.query(on: req.db).filter(\.$username == username).first()
        // Verify against a fixed hash when the user does not exist, so timing does not reveal usernames.
        let hash = user?.passwordHash ?? services.dummyPasswordHash
        let matches = (try? await req.password.async.verify(body.password, created: hash)) ?? false
        guard let user, matches else {
            req.logger.notice("login failed", metadata: ["username": "\(username.prefix(64))"])
            let failures = await services.rateLimiter.recordFailure(pairKey)
            let settings = services.configuration.rateLimits
            let delay = min(settings.loginFailureDelayStep * failures, settings.loginFailureDelayCap)
            if delay > .zero { try? await Task.sleep(for: delay) }
            throw AppError.invalidCredentials
        }
        await services.rateLimiter.resetFailures(pairKey)
        note.actor = (try user.requireID(), user.username)
        note.resource = AuditResource(type: "user", id: try user.requireID())
        let token = TokenHasher.randomToken()
        let csrf = TokenHasher.randomToken()
        let session = UserSession(
            userID: try user.requireID(), tokenHash: TokenHasher.hash(token), csrfToken: csrf,
            expiresAt: services.now().addingTimeInterval(Self.sessionLifetime))
        try await session.create(on: req.db)
        let response = Response(status: .ok)
        try response.content.encode(LoginResponse(user: try UserResponse(user), csrfToken: csrf))
        response.cookies[AuthenticationMiddleware.sessionCookie] = HTTPCookies.Value(
            string: token, expires: session.expiresAt, maxAge: Int(Self.sessionLifetime), path: "/",
            isSecure: false, isHTTPOnly: true, sameSite: .lax)
        req.logger.info("login", metadata: ["user_id": "\(user.id ?? 0)"])
        return response
    }

    @Sendable func logout(req: Request) async throws -> Response {
        let resource = AuditResource(type: "user", id: req.authenticatedUser?.id)
        return try await AuditLog.audited(req, .logout, resource: resource) { _ in try await logoutAudited(req: req) }
    }

    private func logoutAudited(req: Request) async throws -> Response {
        let user = try req.requireUser()
        if case .session(let id, _) = user.method {
            try await UserSession.query(on: req.db).filter(\.$id == id).delete()
            await req.application.realtimeConnections.close(authenticatedBy: .session(id))
        }
        let response = Response(status: .noContent)
        response.cookies[AuthenticationMiddleware.sessionCookie] = .expired
        return response
    }

    @Sendable func me(req: Request) async throws -> MeResponse {
        let user = try req.requireUser()
        var csrf: String?
        if case .session(_, let token) = user.method { csrf = token }
        guard let record = try await User.find(user.id, on: req.db) else { throw AppError.unauthenticated }
        return MeResponse(user: try UserResponse(record), csrfToken: csrf)
    }
}
