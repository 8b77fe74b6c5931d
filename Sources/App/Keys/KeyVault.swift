import Fluent
import Foundation
import PipewrightCore
import SSHKeys

/// Stores SSH key pairs with their secrets sealed under the master key, and opens them again.
///
/// The private key is sealed as unencrypted openssh-key-v1 text (so Pipewright can use it for SSH);
/// the passphrase, when the owner set one, is sealed beside it and re-applied on export
/// (`SealedColumn.keyPrivateKey`, `.keyPassphrase`).
struct KeyVault: Sendable {
    let vault: SecretVault

    /// Inserts a key row and seals its secrets, in one transaction.
    ///
    /// - Throws: `ConflictError.duplicateKey` when the owner already has this public key.
    func store(
        _ key: SSHPrivateKey, ownerID: Int, name: String, comment: String, passphrase: Secret<String>?,
        exportable: Bool, on db: any Database
    ) async throws -> StoredKey {
        let publicKey = key.publicKey(comment: comment)
        if let existing = try await StoredKey.query(on: db).filter(\.$owner.$id == ownerID)
            .filter(\.$fingerprintSHA256 == publicKey.fingerprintSHA256).first()
        {
            throw ConflictError.duplicateKey(
                existingID: try existing.requireID(), fingerprintSHA256: publicKey.fingerprintSHA256)
        }
        let pem = try key.openSSHPrivateKeyPEM(comment: comment, passphrase: nil)
        let record = StoredKey()
        record.$owner.id = ownerID
        record.name = name
        record.comment = comment
        record.keyType = key.keyType.rawValue
        record.keySize = key.keySizeBits
        record.publicKey = publicKey.authorizedKeysLine
        record.fingerprintSHA256 = publicKey.fingerprintSHA256
        record.fingerprintMD5 = publicKey.fingerprintMD5
        record.exportable = exportable
        record.status = .active
        let vault = self.vault
        do {
            try await db.transaction { tx in
                try await record.create(on: tx)
                let id = try record.requireID()
                record.sealedPrivateKey = try vault.seal(pem.value, for: .keyPrivateKey, row: id)
                if let passphrase {
                    record.sealedPassphrase = try vault.seal(passphrase.value, for: .keyPassphrase, row: id)
                }
                try await record.save(on: tx)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw ConflictError.duplicateKey(existingID: nil, fingerprintSHA256: publicKey.fingerprintSHA256)
        }
        return record
    }

    /// The unencrypted openssh-key-v1 text of a stored key (for SSH use).
    ///
    /// - Important: the result is plaintext key material: write it only to a 0600 file in a 0700
    ///   temporary directory, or hand it to the export endpoint.
    /// - Throws: `SecretError.sealedSecretCorrupt` when the envelope does not open.
    func privateKeyPEM(of record: StoredKey) throws -> Secret<String> {
        try vault.openText(record.sealedPrivateKey, for: .keyPrivateKey, row: try record.requireID())
    }

    /// The owner's passphrase, when the key has one.
    func passphrase(of record: StoredKey) throws -> Secret<String>? {
        guard let sealed = record.sealedPassphrase else { return nil }
        return try vault.openText(sealed, for: .keyPassphrase, row: try record.requireID())
    }

    /// The private key as the owner should receive it: with the key's current comment, and
    /// passphrase-protected if it has a passphrase.
    func exportPEM(of record: StoredKey) throws -> Secret<String> {
        let imported = try PrivateKeyImporter.parse(try privateKeyPEM(of: record).value, passphrase: nil)
        return try imported.key.openSSHPrivateKeyPEM(comment: record.comment, passphrase: try passphrase(of: record))
    }
}
