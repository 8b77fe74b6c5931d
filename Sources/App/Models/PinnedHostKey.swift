import Fluent
import Foundation
import PipewrightCore

/// A pinned host key of an SSH endpoint `host:port`, shared by every server record (any user, any
/// username) at that address — as OpenSSH's `known_hosts` is per machine, not per account. Deleting a
/// server record therefore never forgets a pin: only an admin's accept replaces it.
///
/// A pin is active while `endedAt` is nil. An accept ends the active pins instead of deleting them
/// (`endedAt`, `endedBy`, `endReason`, `replacedByFingerprint`), so the history of a host's keys stays
/// (issue 12 item 7; schema 5). Only active pins are ever checked against a server.
///
/// `@unchecked Sendable`: see `User`.
final class PinnedHostKey: Model, @unchecked Sendable {
    static let schema = "host_key_pins"

    /// Why a pin ended.
    enum EndReason: String, Codable, Sendable {
        /// An admin accepted another key (or the same key again) for the endpoint.
        case replaced
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?

    // data fields
    /// SSH algorithm name, e.g. `ssh-ed25519`.
    @Field(key: "algorithm") var algorithm: String
    @OptionalField(key: "approved_by") var approvedBy: String?
    /// When the pin stopped being trusted; nil while it is active.
    @OptionalField(key: "ended_at") var endedAt: Date?
    /// Username of the admin whose accept ended the pin.
    @OptionalField(key: "ended_by") var endedBy: String?
    @OptionalField(key: "end_reason") var endReason: EndReason?
    @Field(key: "fingerprint_sha256") var fingerprintSHA256: String
    @Field(key: "first_seen_at") var firstSeenAt: Date
    /// Lowercased host name or address, as validated by `SSHTarget`.
    @Field(key: "host") var host: String
    /// Base64 of the host key blob.
    @Field(key: "key_base64") var keyBase64: String
    @Field(key: "port") var port: Int
    /// `SHA256:` fingerprint of the key accepted in its place.
    @OptionalField(key: "replaced_by_fingerprint") var replacedByFingerprint: String?

    init() {}

    init(
        host: String, port: Int, algorithm: String, keyBase64: String, fingerprintSHA256: String, firstSeenAt: Date,
        approvedBy: String?
    ) {
        self.host = host
        self.port = port
        self.algorithm = algorithm
        self.keyBase64 = keyBase64
        self.fingerprintSHA256 = fingerprintSHA256
        self.firstSeenAt = firstSeenAt
        self.approvedBy = approvedBy
    }

    /// The active pins of `host:port` (the keys a server must present), oldest first.
    static func pins(host: String, port: Int, on db: any Database) async throws -> [PinnedHostKey] {
        try await query(on: db).filter(\.$host == host).filter(\.$port == port).filter(\.$endedAt == nil)
            .sort(\.$id).all()
    }

    /// Every pin `host:port` has had, active and ended, newest first.
    static func history(host: String, port: Int, on db: any Database) async throws -> [PinnedHostKey] {
        try await query(on: db).filter(\.$host == host).filter(\.$port == port).sort(\.$id, .descending).all()
    }
}
