import Fluent
import Foundation
import PipewrightCore

/// A bearer API token (`pw_…`). Only the SHA-256 of the token is stored.
///
/// `@unchecked Sendable`: see `User`.
final class APIToken: Model, @unchecked Sendable {
    static let schema = "api_tokens"

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    // reference fields
    @Parent(key: "user_id") var user: User

    // data fields
    @OptionalField(key: "expires_at") var expiresAt: Date?
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?
    @Field(key: "name") var name: String
    /// First characters of the token (`pw_ab12…`), to tell tokens apart in lists.
    @Field(key: "prefix") var prefix: String
    /// Lowercase hex SHA-256 of the whole token.
    @Field(key: "token_hash") var tokenHash: String

    init() {}

    init(userID: Int, name: String, prefix: String, tokenHash: String, expiresAt: Date?) {
        self.$user.id = userID
        self.name = name
        self.prefix = prefix
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
    }
}
