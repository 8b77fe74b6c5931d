import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me` (SPEC §3).
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
        let body = try req.content.decode(LoginRequest.self)
        let username = body.username.trimmingCharacters(in: .whitespaces)
        guard !username.isEmpty, username.count <= 64 else { throw AppError.invalidCredentials }
        guard !body.password.isEmpty, body.password.utf8.count <= 1024 else { throw AppError.invalidCredentials }
        let user = try await User.query(on: req.db).filter(\.$username == username).first()
        // Verify against a fixed hash when the user does not exist, so timing does not reveal usernames.
        let hash = user?.passwordHash ?? services.dummyPasswordHash
        let matches = (try? await req.password.async.verify(body.password, created: hash)) ?? false
        guard let user, matches else {
            req.logger.notice("login failed", metadata: ["username": "\(username.prefix(64))"])
            throw AppError.invalidCredentials
        }
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
        let user = try req.requireUser()
        if case .session(let id, _) = user.method {
            try await UserSession.query(on: req.db).filter(\.$id == id).delete()
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
