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
    /// `admin`, `maintainer` or `viewer`.
    var role: String
    var disabled: Bool
    /// An admin reset the password: the user must choose a new one before anything else.
    var mustChangePassword: Bool
    var createdAt: Date?

    init(_ user: User) throws {
        id = try user.requireID()
        username = user.username
        role = user.role.rawValue
        disabled = user.isDisabled
        mustChangePassword = user.mustChangePassword
        createdAt = user.createdAt
    }
}

/// `POST /api/users` body. Without `password` a random one is generated, returned once as
/// `initial_password`, and must be changed at the first sign-in.
struct CreateUserRequest: Content {
    var username: String
    var password: String?
    /// `admin`, `maintainer` or `viewer`.
    var role: User.Role
}

/// `POST /api/users` response: the user, and the generated password when none was given (shown once).
struct CreatedUserResponse: Content {
    var user: UserResponse
    var initialPassword: String?

    /// `initial_password` is always present, `null` when the admin chose the password.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(user, forKey: .user)
        try container.encode(initialPassword, forKey: .initialPassword)
    }
}

/// `PATCH /api/users/{id}` body: each field optional; `null` or absent leaves it unchanged.
struct UpdateUserRequest: Content {
    var role: User.Role?
    var disabled: Bool?
}

/// `POST /api/users/{id}/password-reset` response: the one-time password (shown once).
struct PasswordResetResponse: Content {
    var user: UserResponse
    var oneTimePassword: String
    var sessionsEnded: Int
}

/// `POST /api/auth/password` body.
struct ChangePasswordRequest: Content {
    var currentPassword: String
    var newPassword: String
    /// Also delete every API token of the user (default `false`).
    var revokeTokens: Bool?
}

/// `POST /api/auth/password` response.
struct PasswordChangedResponse: Content {
    var sessionsEnded: Int
    var tokensRevoked: Int
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
