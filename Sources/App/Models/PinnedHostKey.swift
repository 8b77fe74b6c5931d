import Fluent
import Foundation
import PipewrightCore

/// A pinned host key of an SSH endpoint `host:port`, shared by every server record (any user, any
/// username) at that address — as OpenSSH's `known_hosts` is per machine, not per account. Deleting a
/// server record therefore never forgets a pin: only an admin's accept replaces it.
///
/// `@unchecked Sendable`: see `User`.
final class PinnedHostKey: Model, @unchecked Sendable {
    static let schema = "pinned_host_keys"

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?

    // data fields
    /// SSH algorithm name, e.g. `ssh-ed25519`.
    @Field(key: "algorithm") var algorithm: String
    @OptionalField(key: "approved_by") var approvedBy: String?
    @Field(key: "fingerprint_sha256") var fingerprintSHA256: String
    @Field(key: "first_seen_at") var firstSeenAt: Date
    /// Lowercased host name or address, as validated by `SSHTarget`.
    @Field(key: "host") var host: String
    /// Base64 of the host key blob.
    @Field(key: "key_base64") var keyBase64: String
    @Field(key: "port") var port: Int

    init() {}

    init(host: String, port: Int, algorithm: String, keyBase64: String, fingerprintSHA256: String, firstSeenAt: Date,
         approvedBy: String?) {
        self.host = host
        self.port = port
        self.algorithm = algorithm
        self.keyBase64 = keyBase64
        self.fingerprintSHA256 = fingerprintSHA256
        self.firstSeenAt = firstSeenAt
        self.approvedBy = approvedBy
    }

    /// The pins of `host:port`.
    static func pins(host: String, port: Int, on db: any Database) async throws -> [PinnedHostKey] {
        try await query(on: db).filter(\.$host == host).filter(\.$port == port).sort(\.$id).all()
    }
}
