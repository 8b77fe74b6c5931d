import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/servers` body.
struct CreateServerRequest: Content {
    var name: String?
    /// Free text about the server (at most 2,000 characters).
    var notes: String?
    var host: String
    var port: Int?
    var username: String
    /// Let RSA keys sign with `ssh-rsa` (SHA-1) on this server only; `false` when absent.
    var legacyRsaSha1: Bool?
}

/// `PATCH /api/servers/{id}` body: every field optional, `null` or absent leaves it unchanged.
struct UpdateServerRequest: Content {
    var name: String?
    /// Replaces the notes; `""` clears them.
    var notes: String?
    var legacyRsaSha1: Bool?
}

/// `POST /api/servers/{id}/host-keys/accept` body.
struct AcceptHostKeyRequest: Content {
    /// `SHA256:…` as `ssh-keygen -l` prints it.
    var fingerprintSha256: String
}

/// A pinned host key (docs/API.md "Servers and host keys").
struct HostKeyResponse: Content {
    var keyType: String
    var fingerprintSHA256: String
    var firstSeenAt: Date
    var approvedBy: String?

    enum CodingKeys: String, CodingKey {
        case keyType = "key_type"
        case fingerprintSHA256 = "fingerprint_sha256"
        case firstSeenAt = "first_seen_at"
        case approvedBy = "approved_by"
    }

    init(_ key: PinnedHostKey) {
        keyType = key.algorithm
        fingerprintSHA256 = key.fingerprintSHA256
        firstSeenAt = key.firstSeenAt
        approvedBy = key.approvedBy
    }
}

/// One pin in a server's host-key history (docs/API.md "Servers and host keys"): active while `ended_at`
/// is null. Every field is always present (null when it has no value).
struct HostKeyHistoryResponse: Content {
    var keyType: String
    var fingerprintSHA256: String
    var firstSeenAt: Date
    var approvedBy: String?
    var endedAt: Date?
    var endedBy: String?
    /// `replaced` (an admin accepted another key, or the same key again).
    var endReason: String?
    var replacedBy: String?

    enum CodingKeys: String, CodingKey {
        case keyType = "key_type"
        case fingerprintSHA256 = "fingerprint_sha256"
        case firstSeenAt = "first_seen_at"
        case approvedBy = "approved_by"
        case endedAt = "ended_at"
        case endedBy = "ended_by"
        case endReason = "end_reason"
        case replacedBy = "replaced_by"
    }

    init(_ key: PinnedHostKey) {
        keyType = key.algorithm
        fingerprintSHA256 = key.fingerprintSHA256
        firstSeenAt = key.firstSeenAt
        approvedBy = key.approvedBy
        endedAt = key.endedAt
        endedBy = key.endedBy
        endReason = key.endReason?.rawValue
        replacedBy = key.replacedByFingerprint
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyType, forKey: .keyType)
        try container.encode(fingerprintSHA256, forKey: .fingerprintSHA256)
        try container.encode(firstSeenAt, forKey: .firstSeenAt)
        try container.encode(approvedBy, forKey: .approvedBy)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(endedBy, forKey: .endedBy)
        try container.encode(endReason, forKey: .endReason)
        try container.encode(replacedBy, forKey: .replacedBy)
    }
}

/// A server (docs/API.md "Servers and host keys").
struct ServerResponse: Content {
    var id: Int
    var name: String?
    /// Free text about the server; `null` when there is none.
    var notes: String?
    var host: String
    var port: Int
    var username: String
    /// The per-server opt-in for `ssh-rsa` (SHA-1) signatures.
    var legacyRsaSha1: Bool
    var hostKeys: [HostKeyResponse]
    /// Every pin of the endpoint, newest first, ended ones included.
    var hostKeyHistory: [HostKeyHistoryResponse]
    var createdAt: Date?

    init(_ server: Server, hostKeys: [PinnedHostKey], hostKeyHistory: [PinnedHostKey]) throws {
        id = try server.requireID()
        name = server.name
        notes = server.notes
        host = server.host
        port = server.port
        username = server.username
        legacyRsaSha1 = server.allowsLegacyRSASHA1
        self.hostKeys = hostKeys.map(HostKeyResponse.init)
        self.hostKeyHistory = hostKeyHistory.map(HostKeyHistoryResponse.init)
        createdAt = server.createdAt
    }

    /// `name` and `notes` are always present, `null` when unset.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(notes, forKey: .notes)
        try container.encode(host, forKey: .host)
        try container.encode(port, forKey: .port)
        try container.encode(username, forKey: .username)
        try container.encode(legacyRsaSha1, forKey: .legacyRsaSha1)
        try container.encode(hostKeys, forKey: .hostKeys)
        try container.encode(hostKeyHistory, forKey: .hostKeyHistory)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
    }
}
