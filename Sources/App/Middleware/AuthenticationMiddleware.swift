import Fluent
import Foundation
import PipewrightCore
import SQLKit
import Vapor

/// Resolves `Authorization: Bearer pw_…` or the `pw_session` cookie to an `AuthenticatedUser`, and enforces
/// CSRF for cookie-authenticated state changes (`X-CSRF-Token` must equal the session's token).
///
/// Requests without credentials pass through unauthenticated; `RequireUserMiddleware` turns that into 401.
/// A bearer header that is present but wrong is a 401 at once (never a silent fall-back to the cookie).
struct AuthenticationMiddleware: AsyncMiddleware {
    static let sessionCookie = "pw_session"
    let now: @Sendable () -> Date

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let authorization = request.headers.first(name: .authorization) {
            guard let bearer = request.headers.bearerAuthorization, bearer.token.hasPrefix("pw_") else {
                throw AppError.unauthenticated
            }
            _ = authorization
            guard let user = try await Self.user(bearerToken: bearer.token, on: request.db, now: now()) else {
                throw AppError.unauthenticated
            }
            request.authenticatedUser = user
        } else if let cookie = request.cookies[Self.sessionCookie]?.string, !cookie.isEmpty {
            if let user = try await Self.user(sessionCookie: cookie, on: request.db, now: now()) {
                request.authenticatedUser = user
                if ![.GET, .HEAD, .OPTIONS].contains(request.method), case .session(_, let csrfToken) = user.method {
                    let sent = request.headers.first(name: "X-CSRF-Token") ?? ""
                    guard TokenHasher.constantTimeEquals(sent, csrfToken) else {
                        throw AppError.csrfTokenMissing
                    }
                }
            }
        }
        return try await next.respond(to: request)
    }
}

extension AuthenticationMiddleware {
    /// How stale a token's `last_used_at` may be before a request records the new time (seconds).
    static let lastUsedResolution: TimeInterval = 60

    /// The user an API token (`pw_…`) belongs to, or `nil` when it is unknown or expired or the user is
    /// disabled or deleted; records its use (`last_used_at`, to the minute).
    static func user(bearerToken: String, on db: any Database, now: Date) async throws -> AuthenticatedUser? {
        guard bearerToken.hasPrefix("pw_"), bearerToken.utf8.count <= 512 else { return nil }
        let hash = TokenHasher.hash(bearerToken)
        // Both drivers (SQLite, PostgreSQL) are SQL databases.
        guard let sql = db as? any SQLDatabase else { throw AppError.notReady("The database does not speak SQL.") }
        // One plain query, the token joined with its user: no Fluent models are built on this path, which
        // every API request and every realtime CONNECT takes (docs/realtime.md "Fan-out").
        guard
            let row = try await sql.raw(
                """
                SELECT t.id AS token_id, t.expires_at, t.last_used_at, u.id AS user_id, u.username, u.role, \
                u.disabled, u.deleted_at, u.must_change_password FROM api_tokens t JOIN users u ON u.id = t.user_id \
                WHERE t.token_hash = \(bind: hash)
                """
            ).first()
        else { return nil }
        if let expiry = try row.decode(column: "expires_at", as: Date?.self), expiry <= now { return nil }
        guard try !row.decode(column: "disabled", as: Bool.self),
            try row.decode(column: "deleted_at", as: Date?.self) == nil
        else { return nil }
        let tokenID = try row.decode(column: "token_id", as: Int.self)
        let authenticated = AuthenticatedUser(
            id: try row.decode(column: "user_id", as: Int.self),
            username: try row.decode(column: "username", as: String.self),
            role: try row.decode(column: "role", as: User.Role.self), method: .bearerToken(id: tokenID),
            mustChangePassword: try row.decode(column: "must_change_password", as: Bool.self))
        // `last_used_at` is recorded to the minute: a database write per request would serialise bursts of
        // requests on one token (1,000 realtime viewers connecting at once; docs/realtime.md "Fan-out").
        let lastUsed = try row.decode(column: "last_used_at", as: Date?.self)
        if lastUsed.map({ now.timeIntervalSince($0) >= Self.lastUsedResolution || $0 > now }) ?? true {
            try await APIToken.query(on: db).filter(\.$id == tokenID).set(\.$lastUsedAt, to: now).update()
        }
        return authenticated
    }

    /// The user a session cookie belongs to, or `nil` when it is unknown or expired or the user is disabled
    /// or deleted.
    static func user(sessionCookie: String, on db: any Database, now: Date) async throws -> AuthenticatedUser? {
        guard sessionCookie.utf8.count <= 512 else { return nil }
        let hash = TokenHasher.hash(sessionCookie)
        guard
            let session = try await UserSession.query(on: db).join(User.self, on: \UserSession.$user.$id == \User.$id)
                .filter(\.$tokenHash == hash).first(),
            session.expiresAt > now
        else { return nil }
        let user = try session.joined(User.self)
        guard user.isActive else { return nil }
        return AuthenticatedUser(
            id: try user.requireID(), username: user.username, role: user.role,
            method: .session(id: try session.requireID(), csrfToken: session.csrfToken),
            mustChangePassword: user.mustChangePassword)
    }
}

/// Rejects requests that `AuthenticationMiddleware` did not authenticate (401), and — unless
/// `allowsPendingPasswordChange` — requests of a user whose password an admin reset and who has not chosen
/// a new one yet (403 `password_change_required`).
struct RequireUserMiddleware: AsyncMiddleware {
    /// Only `GET /api/auth/me`, `POST /api/auth/password` and `POST /api/auth/logout` set this.
    var allowsPendingPasswordChange = false

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let user = try request.requireUser()
        if user.mustChangePassword, !allowsPendingPasswordChange { throw AppError.passwordChangeRequired }
        return try await next.respond(to: request)
    }
}
