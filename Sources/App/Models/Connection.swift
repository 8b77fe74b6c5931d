import Fluent
import Foundation
import PipewrightCore

/// A Bitbucket Cloud connection: a workspace plus credentials. The token is sealed under the master key
/// with `"connections:<id>:token"` as associated data and never returned.
///
/// `@unchecked Sendable`: see `User`.
final class Connection: Model, @unchecked Sendable {
    static let schema = "connections"

    /// `api_token` (Basic `email:token`) or `access_token` (Bearer).
    enum AuthType: String, Codable, Sendable {
        case apiToken = "api_token"
        case accessToken = "access_token"
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    // reference fields
    @Parent(key: "owner_id") var owner: User

    // data fields
    /// Display name of the Bitbucket account, from the last successful verify.
    @OptionalField(key: "account_name") var accountName: String?
    @Field(key: "auth_type") var authType: AuthType
    @OptionalField(key: "email") var email: String?
    @OptionalField(key: "last_verified_at") var lastVerifiedAt: Date?
    @Field(key: "name") var name: String
    /// Base64 of the sealed token envelope.
    @OptionalField(key: "sealed_token") var sealedToken: String?
    @Field(key: "workspace") var workspace: String

    init() {}

}
