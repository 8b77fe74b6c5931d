import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/auth/login` body.
struct LoginRequest: Content {
    var username: String
    var password: String
}

/// A user as shown to clients (no password hash).
struct UserResponse: Content {
    var id: Int
    var username: String
    var role: String
    var createdAt: Date?

    init(_ user: User) throws {
        id = try user.requireID()
        username = user.username
        role = user.role.rawValue
        createdAt = user.createdAt
    }

    init(_ user: AuthenticatedUser) {
        id = user.id
        username = user.username
        role = user.role.rawValue
        createdAt = nil
    }
}

/// `POST /api/auth/login` response.
struct LoginResponse: Content {
    var user: UserResponse
    var csrfToken: String
}

/// `GET /api/auth/me` response.
struct MeResponse: Content {
    var user: UserResponse
    /// Present for cookie sessions, so a reloaded page can recover its CSRF token.
    var csrfToken: String?
}

/// `POST /api/tokens` body.
struct CreateTokenRequest: Content {
    var name: String
    /// 1...3650 days; absent = never expires.
    var expiresInDays: Int?
}

/// An API token as listed (the secret itself only in `CreatedTokenResponse`).
struct TokenResponse: Content {
    var id: Int
    var name: String
    var prefix: String
    var createdAt: Date?
    var expiresAt: Date?
    var lastUsedAt: Date?

    init(_ token: APIToken) throws {
        id = try token.requireID()
        name = token.name
        prefix = token.prefix
        createdAt = token.createdAt
        expiresAt = token.expiresAt
        lastUsedAt = token.lastUsedAt
    }
}

/// `POST /api/tokens` response: the only time the token is shown.
struct CreatedTokenResponse: Content {
    var id: Int
    var name: String
    var prefix: String
    var token: String
    var createdAt: Date?
    var expiresAt: Date?
}

extension CreatedTokenResponse {
    init(_ issued: IssuedToken) throws {
        self.init(
            id: try issued.record.requireID(), name: issued.record.name, prefix: issued.record.prefix,
            token: issued.token, createdAt: issued.record.createdAt, expiresAt: issued.record.expiresAt)
    }
}
