import Fluent
import Foundation
import PipewrightCore

/// A remote SSH account `username@host:port` that keys are deployed to, with its pinned host keys.
///
/// `@unchecked Sendable`: see `User`.
final class Server: Model, @unchecked Sendable {
    static let schema = "servers"

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    // reference fields
    @Parent(key: "owner_id") var owner: User

    // data fields
    @Field(key: "host") var host: String
    @OptionalField(key: "name") var name: String?
    /// Free text an operator keeps about the server (at most 2,000 characters).
    @OptionalField(key: "notes") var notes: String?
    @Field(key: "port") var port: Int
    @Field(key: "username") var username: String
    /// The `legacy_rsa_sha1` opt-in: RSA keys may sign with `ssh-rsa` (SHA-1) on this server only.
    @Field(key: "legacy_rsa_sha1") var allowsLegacyRSASHA1: Bool

    init() {}

    init(ownerID: Int, name: String?, host: String, port: Int, username: String) {
        self.$owner.id = ownerID
        self.name = name
        self.host = host
        self.port = port
        self.username = username
        self.allowsLegacyRSASHA1 = false
    }
}
