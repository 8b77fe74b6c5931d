import Fluent
import Foundation
import PipewrightCore

/// A browser session created by `POST /api/auth/login`. The cookie holds a random token; only its
/// SHA-256 is stored, with the CSRF token that state-changing cookie requests must echo.
///
/// `@unchecked Sendable`: see `User`.
final class UserSession: Model, @unchecked Sendable {
    static let schema = "user_sessions"

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    // reference fields
    @Parent(key: "user_id") var user: User

    // data fields
    @Field(key: "csrf_token") var csrfToken: String
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "token_hash") var tokenHash: String

    init() {}

    init(userID: Int, tokenHash: String, csrfToken: String, expiresAt: Date) {
        self.$user.id = userID
        self.tokenHash = tokenHash
        self.csrfToken = csrfToken
        self.expiresAt = expiresAt
    }
}
