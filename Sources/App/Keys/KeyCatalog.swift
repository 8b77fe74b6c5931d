import Fluent
import Foundation
import Logging
import PipewrightCore
import SSHKeys

/// The key pairs a user owns: generate, import, list, show, rename, delete, export (docs/API.md "SSH keys").
struct KeyCatalog: Sendable {
    let db: any Database
    let keys: KeyVault
    let deployments: KeyDeploymentService
    let locks: OperationLocks
    /// `PIPEWRIGHT_ALLOW_PRIVATE_KEY_EXPORT`.
    let allowsExport: Bool
    let logger: Logger

    /// A stored key and its ledger.
    struct Entry: Sendable {
        var key: StoredKey
        var deployments: [KeyDeployment]
    }

    /// Which keys to list.
    struct Filter: Sendable {
        var status: StoredKey.Status?
        /// Matched (contains, case-insensitive) against name and comment; when it spells a fingerprint
        /// (`FingerprintSpelling`: SHA256 or MD5, with or without prefix, padding, colons, any hex case),
        /// also exactly against that fingerprint.
        var text: String?
    }

    // MARK: - Create

    /// Generates a key pair in process and stores it sealed.
    ///
    /// - Parameters:
    ///   - type: `.ed25519` or `.rsa` (`bits` 2048 or 4096, default 4096).
    /// - Throws: `AppError.invalidField` for a bad name, type, size, comment or passphrase;
    ///   `ConflictError.duplicateKey` (practically impossible for a fresh key).
    func generate(
        name: String, type keyType: String, bits: Int?, comment: String?, passphrase: String?, exportable: Bool,
        owner: AuthenticatedUser
    ) async throws -> StoredKey {
        try owner.require(.changeKeys)
        let name = try FieldRules.name(name, field: "name")
        guard let type = KeyType(rawValue: keyType.lowercased()), type != .ecdsa else {
            throw AppError.invalidField("key_type", reason: "must be ed25519 or rsa")
        }
        if type == .rsa, let bits, ![2048, 4096].contains(bits) {
            throw AppError.invalidField("key_size", reason: "must be 2048 or 4096 for rsa")
        }
        if type == .ed25519, let bits, bits != 256 {
            throw AppError.invalidField("key_size", reason: "ed25519 keys are 256 bits")
        }
        let comment = try Self.comment(comment, default: name)
        let passphrase = try Self.passphrase(passphrase)
        let key = try await Self.generate(type: type, bits: type == .rsa ? (bits ?? 4096) : nil)
        let record = try await keys.store(
            key, ownerID: owner.id, name: name, comment: comment, passphrase: passphrase, exportable: exportable, on: db
        )
        logger.info("ssh key created", metadata: ["key_id": "\(record.id ?? 0)", "type": "\(type.rawValue)"])
        return record
    }

    /// Imports a private key (OpenSSH, PKCS#1, PKCS#8, SEC1; encrypted ones with `passphrase`).
    ///
    /// - Throws: `AppError.invalidField`, `SSHKeyError.invalidPrivateKey`/`.wrongPassphrase`/…,
    ///   `ConflictError.duplicateKey`.
    func importKey(
        name: String, privateKey: String, passphrase: String?, comment: String?, exportable: Bool,
        owner: AuthenticatedUser
    ) async throws -> StoredKey {
        try owner.require(.changeKeys)
        let name = try FieldRules.name(name, field: "name")
        guard !privateKey.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AppError.invalidField("private_key", reason: "must not be empty")
        }
        let passphrase = try Self.passphrase(passphrase)
        guard privateKey.components(separatedBy: "-----BEGIN ").count <= 2 else {
            throw SSHKeyError.invalidPrivateKey(reason: "the text holds more than one key; import them one at a time")
        }
        let imported = try PrivateKeyImporter.parse(privateKey, passphrase: passphrase)
        let comment = try Self.comment(comment ?? imported.comment, default: name)
        let record = try await keys.store(
            imported.key, ownerID: owner.id, name: name, comment: comment,
            passphrase: imported.wasPassphraseProtected ? passphrase : nil, exportable: exportable, on: db)
        logger.info("ssh key imported", metadata: ["key_id": "\(record.id ?? 0)"])
        return record
    }

    // MARK: - Read

    /// The keys `user` may see, in id order, with their ledgers.
    func list(_ filter: Filter, page: PipewrightCore.PageRequest, for user: AuthenticatedUser) async throws -> (
        items: [Entry], total: Int
    ) {
        let query = StoredKey.visible(to: user, on: db)
        if let status = filter.status { query.filter(\.$status == status) }
        if let text = filter.text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard text.count <= 200 else { throw AppError.invalidField("q", reason: "must be at most 200 characters") }
            // Any common spelling of a fingerprint matches that fingerprint exactly (issue 12 item 5);
            // name and comment stay substring matches.
            let fingerprint = FingerprintSpelling(text)
            query.group(.or) { group in
                group.filter(\.$name ~~ text).filter(\.$comment ~~ text)
                switch fingerprint {
                case .sha256(let value): group.filter(\.$fingerprintSHA256 == value)
                case .md5(let value): group.filter(\.$fingerprintMD5 == value)
                case nil: break
                }
            }
        }
        let total = try await query.count()
        let records = try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage))
            .with(\.$deployments) { $0.with(\.$server) }.all()
        return (records.map { Entry(key: $0, deployments: $0.deployments) }, total)
    }

    /// One key with its ledger.
    func show(keyID: Int, for user: AuthenticatedUser) async throws -> Entry {
        let record = try await StoredKey.find(keyID, visibleTo: user, on: db)
        return Entry(key: record, deployments: try await deployments.deployments(of: record))
    }

    // MARK: - Change

    /// Renames the key and/or changes its comment (the public-key line follows the comment).
    func update(keyID: Int, name: String?, comment: String?, by user: AuthenticatedUser) async throws -> Entry {
        let record = try await StoredKey.find(keyID, for: .changeKeys, by: user, on: db)
        if let name { record.name = try FieldRules.name(name, field: "name") }
        if let comment {
            let comment = try Self.comment(comment, default: record.name)
            if let publicKey = try? SSHPublicKey(openSSHLine: record.publicKey) {
                record.publicKey = publicKey.withComment(comment).authorizedKeysLine
            }
            record.comment = comment
        }
        try await record.save(on: db)
        return Entry(key: record, deployments: try await deployments.deployments(of: record))
    }

    /// Deletes the key. While it is recorded on servers: refused (`key_in_use`) unless `removeFromServers`
    /// (removes it everywhere first; any failure keeps the row) or `force` (forgets the ledger only). A key
    /// that pipelines deploy with is refused (`key_in_use`, `details.pipelines`) before any server is touched.
    func delete(keyID: Int, removeFromServers: Bool, force: Bool, by user: AuthenticatedUser) async throws
        -> KeyDeletion
    {
        let record = try await StoredKey.find(keyID, for: .changeKeys, by: user, on: db)
        return try await locks.withLock("ssh_key:\(keyID)") {
            // Refused before any server is touched: the row could not be deleted afterwards.
            let pipelines = try await Pipeline.query(on: db).filter(\.$sshKey.$id == keyID).count()
            guard pipelines == 0 else { throw ConflictError.keyUsedByPipelines(pipelines: pipelines) }
            let present = try await deployments.deployments(of: record).filter { $0.status == .present }
            if !present.isEmpty && !force {
                guard removeFromServers else { throw ConflictError.keyInUse(servers: present.count) }
                let results = try await deployments.undeployEverywhere(record, actor: user)
                guard results.allSatisfy({ $0.succeeded }) else { return .undeployFailed(results) }
            }
            try await record.delete(on: db)
            logger.info("ssh key deleted", metadata: ["key_id": "\(keyID)"])
            return .deleted
        }
    }

    /// The private key for download (passphrase-protected if the key has one).
    ///
    /// - Throws: `AppError.exportDisabled` when export is off for the key or the instance.
    /// - Important: the result is plaintext key material; it goes into the response body only.
    func export(keyID: Int, for user: AuthenticatedUser) async throws -> Secret<String> {
        let record = try await StoredKey.find(keyID, for: .exportPrivateKeys, by: user, on: db)
        guard allowsExport, record.exportable else { throw AppError.exportDisabled }
        let pem = try keys.exportPEM(of: record)
        logger.notice("private key exported", metadata: ["key_id": "\(keyID)"])
        return pem
    }

    // MARK: - Rules

    static func comment(_ value: String?, default defaultValue: String) throws -> String {
        let comment = (value ?? defaultValue).trimmingCharacters(in: .whitespacesAndNewlines)
        guard comment.count <= 200 else {
            throw AppError.invalidField("comment", reason: "must be at most 200 characters")
        }
        try FieldRules.noControlCharacters(comment, field: "comment")
        try FieldRules.noPrivateKeyMaterial(comment, field: "comment")
        return comment
    }

    static func passphrase(_ value: String?) throws -> Secret<String>? {
        guard let value, !value.isEmpty else { return nil }
        guard value.utf8.count <= 1024 else {
            throw AppError.invalidField("passphrase", reason: "must be at most 1024 bytes")
        }
        return Secret(value)
    }

    /// Generates a key pair off the event loop (RSA-4096 takes seconds of CPU).
    static func generate(type: KeyType, bits: Int?) async throws -> SSHPrivateKey {
        try await runBlocking { try KeyGenerator.generate(type: type, bits: bits) }
    }
}
