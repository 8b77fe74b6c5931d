import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/servers` body.
struct CreateServerRequest: Content {
    var name: String?
    var host: String
    var port: Int?
    var username: String
    /// Let RSA keys sign with `ssh-rsa` (SHA-1) on this server only; `false` when absent.
    var legacyRsaSha1: Bool?
}

/// `PATCH /api/servers/{id}` body: every field optional, `null` or absent leaves it unchanged.
struct UpdateServerRequest: Content {
    var name: String?
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

/// A server (docs/API.md "Servers and host keys").
struct ServerResponse: Content {
    var id: Int
    var name: String?
    var host: String
    var port: Int
    var username: String
    /// The per-server opt-in for `ssh-rsa` (SHA-1) signatures.
    var legacyRsaSha1: Bool
    var hostKeys: [HostKeyResponse]
    var createdAt: Date?

    init(_ server: Server, hostKeys: [PinnedHostKey]) throws {
        id = try server.requireID()
        name = server.name
        host = server.host
        port = server.port
        username = server.username
        legacyRsaSha1 = server.allowsLegacyRSASHA1
        self.hostKeys = hostKeys.map(HostKeyResponse.init)
        createdAt = server.createdAt
    }
}
