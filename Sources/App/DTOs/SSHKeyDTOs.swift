import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/ssh-keys` body.
struct CreateSSHKeyRequest: Content {
    var name: String
    /// `ed25519` or `rsa`.
    var keyType: String
    /// RSA only: 2048 or 4096 (default 4096).
    var keySize: Int?
    var comment: String?
    var passphrase: String?
    var exportable: Bool?
}

/// `POST /api/ssh-keys/import` body.
struct ImportSSHKeyRequest: Content {
    var name: String
    var privateKey: String
    var passphrase: String?
    var comment: String?
    var exportable: Bool?
}

/// `PUT /api/ssh-keys/{id}` body (metadata only).
struct UpdateSSHKeyRequest: Content {
    var name: String?
    var comment: String?
}

/// `GET /api/ssh-keys/{id}/private` response.
struct PrivateKeyResponse: Content {
    var privateKey: String
}

/// A server as embedded in results and ledger entries.
struct ServerSummaryResponse: Content {
    var id: Int
    var host: String
    var port: Int
    var username: String

    init(_ server: Server) throws {
        id = try server.requireID()
        host = server.host
        port = server.port
        username = server.username
    }
}

/// A deployment ledger entry (docs/API.md "SSH keys").
struct DeploymentResponse: Content {
    var id: Int
    var server: ServerSummaryResponse
    var deployedAt: Date
    var deployedBy: String
    var method: String
    var lastVerifiedAt: Date?
    var status: String

    /// - Precondition: `deployment.$server` is eager-loaded.
    init(_ deployment: KeyDeployment) throws {
        id = try deployment.requireID()
        server = try ServerSummaryResponse(deployment.server)
        deployedAt = deployment.deployedAt
        deployedBy = deployment.deployedBy
        method = deployment.method.rawValue
        lastVerifiedAt = deployment.lastVerifiedAt
        status = deployment.status.rawValue
    }
}

/// An SSH key as shown to clients (docs/API.md "SSH keys"). Has no private-key property by design.
struct SSHKeyResponse: Content {
    var id: Int
    var name: String
    var keyType: String
    var keySize: Int
    var comment: String
    var publicKey: String
    var fingerprintSHA256: String
    var fingerprintMD5: String
    var exportable: Bool
    var passphraseProtected: Bool
    var createdAt: Date?
    var updatedAt: Date?
    var lastUsedAt: Date?
    var status: String
    var deployments: [DeploymentResponse]

    enum CodingKeys: String, CodingKey {
        case id, name, comment, exportable, status, deployments
        case keyType = "key_type"
        case keySize = "key_size"
        case publicKey = "public_key"
        case fingerprintSHA256 = "fingerprint_sha256"
        case fingerprintMD5 = "fingerprint_md5"
        case passphraseProtected = "passphrase_protected"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastUsedAt = "last_used_at"
    }

    /// - Precondition: `key.$deployments` with their servers is eager-loaded, or `deployments` is given.
    init(_ key: StoredKey, deployments: [KeyDeployment]) throws {
        id = try key.requireID()
        name = key.name
        keyType = key.keyType
        keySize = key.keySize
        comment = key.comment
        publicKey = key.publicKey
        fingerprintSHA256 = key.fingerprintSHA256
        fingerprintMD5 = key.fingerprintMD5
        exportable = key.exportable
        passphraseProtected = key.sealedPassphrase != nil
        createdAt = key.createdAt
        updatedAt = key.updatedAt
        lastUsedAt = key.lastUsedAt
        status = key.status.rawValue
        self.deployments = try deployments.map(DeploymentResponse.init)
    }
}

/// A deploy/test/undeploy target: `{"server_id"}` or `{"host", "port"?, "username", "password"?}`.
struct TargetRequest: Content {
    var serverId: Int?
    var host: String?
    var port: Int?
    var username: String?
    var password: String?
}

/// `POST /api/ssh-keys/{id}/deploy` body.
struct DeployKeyRequest: Content {
    var servers: [TargetRequest]
    var parallel: Bool?
    /// When the verifying login is refused for sshd's StrictModes: remove group/other write bits from the
    /// home directory, `~/.ssh` and `authorized_keys` where the account owns them (never chown, never widen).
    var fixPermissions: Bool?
}

/// `POST /api/ssh-keys/{id}/test` body.
struct TestKeyRequest: Content {
    var servers: [TargetRequest]?
}

/// `POST /api/ssh-keys/{id}/undeploy` body.
struct UndeployKeyRequest: Content {
    var servers: [TargetRequest]
    var force: Bool?
}

/// An SSH error as shown inside per-server results.
struct OperationErrorResponse: Content {
    var code: String
    var message: String
    var details: [String: String]?
}

/// One server's result of deploy / undeploy / rotate.
struct ServerResultResponse: Content {
    var server: ServerSummaryResponse?
    var target: String
    var status: String
    var error: OperationErrorResponse?
    var durationS: Double
}

/// Deploy / undeploy response.
struct ServerResultsResponse: Content {
    var results: [ServerResultResponse]
    var ok: Bool
}

/// One server's result of a connection test.
struct TestResultResponse: Content {
    var server: ServerSummaryResponse?
    var target: String
    var ok: Bool
    var latencyMs: Double?
    var remoteUser: String?
    var error: OperationErrorResponse?
}

/// `POST /api/ssh-keys/{id}/test` response.
struct TestResultsResponse: Content {
    var results: [TestResultResponse]
    var ok: Bool
}

/// `POST /api/ssh-keys/{id}/rotate` response.
struct RotateKeyResponse: Content {
    var key: SSHKeyResponse
    /// The rotated key's id, `null` (always present) when a server failed and the old key stays active.
    var retiredKeyId: Int?
    var results: [ServerResultResponse]
    /// The Bitbucket repositories whose key pair followed the rotation (empty when no pipeline uses the key).
    var repositories: [RepositoryKeyPairResponse]
    var ok: Bool

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(retiredKeyId, forKey: .retiredKeyId)
        try container.encode(results, forKey: .results)
        try container.encode(repositories, forKey: .repositories)
        try container.encode(ok, forKey: .ok)
    }
}

extension ServerResultResponse {
    init(_ result: ServerOperationResult) {
        self.init(
            server: result.server.flatMap { try? ServerSummaryResponse($0) }, target: result.target,
            status: result.status, error: result.error.map(OperationErrorResponse.init),
            durationS: result.duration.seconds)
    }
}

extension ServerResultsResponse {
    init(_ results: [ServerOperationResult]) {
        self.init(results: results.map(ServerResultResponse.init), ok: results.allSatisfy(\.succeeded))
    }
}

extension TestResultResponse {
    init(_ result: ServerTestResult) {
        let server = result.server.flatMap { try? ServerSummaryResponse($0) }
        switch result.outcome {
        case .success(let login):
            self.init(
                server: server, target: result.target, ok: true, latencyMs: login.latency.milliseconds,
                remoteUser: login.remoteUser, error: nil)
        case .failure(let error):
            self.init(
                server: server, target: result.target, ok: false, latencyMs: nil, remoteUser: nil,
                error: OperationErrorResponse(error))
        }
    }
}

extension RotateKeyResponse {
    init(_ rotation: KeyRotation) throws {
        self.init(
            key: try SSHKeyResponse(rotation.successor, deployments: rotation.successorDeployments),
            retiredKeyId: rotation.retiredKeyID, results: rotation.results.map(ServerResultResponse.init),
            repositories: rotation.repositories.map(RepositoryKeyPairResponse.init), ok: rotation.succeeded)
    }
}
