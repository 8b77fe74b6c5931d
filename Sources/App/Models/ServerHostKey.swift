import Fluent
import Foundation
import PipewrightCore

/// A pinned host key of a server (first seen under `tofu`, or approved by an admin).
///
/// `@unchecked Sendable`: see `User`.
final class ServerHostKey: Model, @unchecked Sendable {
    static let schema = "server_host_keys"

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?

    // reference fields
    @Parent(key: "server_id") var server: Server

    // data fields
    /// SSH algorithm name, e.g. `ssh-ed25519`.
    @Field(key: "algorithm") var algorithm: String
    @OptionalField(key: "approved_by") var approvedBy: String?
    @Field(key: "fingerprint_sha256") var fingerprintSHA256: String
    @Field(key: "first_seen_at") var firstSeenAt: Date
    /// Base64 of the host key blob.
    @Field(key: "key_base64") var keyBase64: String

    init() {}

    init(serverID: Int, algorithm: String, keyBase64: String, fingerprintSHA256: String, firstSeenAt: Date,
         approvedBy: String?) {
        self.$server.id = serverID
        self.algorithm = algorithm
        self.keyBase64 = keyBase64
        self.fingerprintSHA256 = fingerprintSHA256
        self.firstSeenAt = firstSeenAt
        self.approvedBy = approvedBy
    }
}
