import Fluent
import Foundation
import Logging
import PipewrightCore
import Vapor

/// Password sign-in and browser sessions (docs/API.md "Accounts and tokens"), for the JSON API and the
/// dashboard alike.
struct SessionService: Sendable {
    let db: any Database
    let passwords: AsyncPasswordHasher
    let rateLimiter: RateLimiter
    let rateLimits: RateLimitSettings
    /// A hash of a random string, verified against on unknown usernames so timing reveals nothing.
    let dummyPasswordHash: String
    let connections: RealtimeConnections
    let now: @Sendable () -> Date
    let logger: Logger

    /// Session lifetime.
    static let sessionLifetime: TimeInterval = 7 * 24 * 3600

    /// A signed-in session: the cookie value (only its hash is stored) and its CSRF token.
    struct SignIn: Sendable {
        var user: User
        var session: UserSession
        /// - Important: the session secret; it goes into the `Set-Cookie` header only.
        var cookieToken: String
    }

    /// Checks the password and opens a session. Each consecutive failure of `failureKey` (a username and
    /// client IP) adds `loginFailureDelayStep` (up to `loginFailureDelayCap`) before the refusal.
    ///
    /// - Throws: `AppError.invalidCredentials` for an unknown (or deleted) user or a wrong password (the same
    ///   answer); `AppError.accountDisabled` for a disabled user with the right password.
    func signIn(username: String, password: String, failureKey: String) async throws -> SignIn {
        let username = username.trimmingCharacters(in: .whitespaces)
        guard !username.isEmpty, username.count <= 64 else { throw AppError.invalidCredentials }
        guard !password.isEmpty, password.utf8.count <= 1024 else { throw AppError.invalidCredentials }
        let user = try await User.query(on: db).filter(\.$username == username).filter(\.$deletedAt == nil).first()
        // Verify against a fixed hash when the user does not exist, so timing does not reveal usernames.
        let matches = (try? await passwords.verify(password, created: user?.passwordHash ?? dummyPasswordHash)) ?? false
        guard let user, matches else {
            logger.notice("login failed", metadata: ["username": "\(username.prefix(64))"])
            let failures = await rateLimiter.recordFailure(failureKey)
            let delay = min(rateLimits.loginFailureDelayStep * failures, rateLimits.loginFailureDelayCap)
            if delay > .zero { try? await Task.sleep(for: delay) }
            throw AppError.invalidCredentials
        }
        await rateLimiter.resetFailures(failureKey)
        guard !user.isDisabled else { throw AppError.accountDisabled }
        let token = TokenHasher.randomToken()
        let session = UserSession(
            userID: try user.requireID(), tokenHash: TokenHasher.hash(token), csrfToken: TokenHasher.randomToken(),
            expiresAt: now().addingTimeInterval(Self.sessionLifetime))
        try await session.create(on: db)
        logger.info("login", metadata: ["user_id": "\(user.id ?? 0)"])
        return SignIn(user: user, session: session, cookieToken: token)
    }

    /// Ends a cookie session and the live streams it opened; a bearer token is left alone.
    func signOut(_ user: AuthenticatedUser) async throws {
        guard case .session(let id, _) = user.method else { return }
        try await UserSession.query(on: db).filter(\.$id == id).delete()
        await connections.close(authenticatedBy: .session(id))
    }

    /// The signed-in user's record.
    func currentUser(_ user: AuthenticatedUser) async throws -> User {
        guard let record = try await User.find(user.id, on: db) else { throw AppError.unauthenticated }
        return record
    }
}
