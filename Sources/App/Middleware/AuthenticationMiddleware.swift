import Fluent
import Foundation
import PipewrightCore
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
            let hash = TokenHasher.hash(bearer.token)
            guard let token = try await APIToken.query(on: request.db).filter(\.$tokenHash == hash)
                .with(\.$user).first()
            else { throw AppError.unauthenticated }
            if let expiry = token.expiresAt, expiry <= now() { throw AppError.unauthenticated }
            let user = token.user
            request.authenticatedUser = AuthenticatedUser(
                id: try user.requireID(), username: user.username, role: user.role,
                method: .bearerToken(id: try token.requireID()))
            token.lastUsedAt = now()
            try await token.save(on: request.db)
        } else if let cookie = request.cookies[Self.sessionCookie]?.string, !cookie.isEmpty {
            let hash = TokenHasher.hash(cookie)
            if let session = try await UserSession.query(on: request.db).filter(\.$tokenHash == hash)
                .with(\.$user).first(), session.expiresAt > now()
            {
                let user = session.user
                request.authenticatedUser = AuthenticatedUser(
                    id: try user.requireID(), username: user.username, role: user.role,
                    method: .session(id: try session.requireID(), csrfToken: session.csrfToken))
                if ![.GET, .HEAD, .OPTIONS].contains(request.method) {
                    let sent = request.headers.first(name: "X-CSRF-Token") ?? ""
                    guard TokenHasher.constantTimeEquals(sent, session.csrfToken) else {
                        throw AppError.csrfTokenMissing
                    }
                }
            }
        }
        return try await next.respond(to: request)
    }
}

/// Rejects requests that `AuthenticationMiddleware` did not authenticate (401).
struct RequireUserMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        _ = try request.requireUser()
        return try await next.respond(to: request)
    }
}
