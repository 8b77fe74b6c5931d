import Fluent
import Foundation
import PipewrightCore
import SSHKeys

/// Stores SSH key pairs with their secrets sealed under the master key, and opens them again.
///
/// The private key is sealed as unencrypted openssh-key-v1 text (so Pipewright can use it for SSH);
/// the passphrase, when the owner set one, is sealed beside it and re-applied on export.
/// Associated data binds each envelope to its row and column (`ssh_keys:<id>:private_key`).
struct KeyVault {
    let masterKey: MasterKey

    /// Inserts a key row and seals its secrets, in one transaction.
    ///
    /// - Throws: `AppError.duplicate` (`duplicate_key`) when the owner already has this public key.
    func store(
        _ key: SSHPrivateKey, ownerID: Int, name: String, comment: String, passphrase: Secret<String>?,
        exportable: Bool, on db: any Database
    ) async throws -> StoredKey {
        let publicKey = key.publicKey(comment: comment)
        if let existing = try await StoredKey.query(on: db).filter(\.$owner.$id == ownerID)
            .filter(\.$fingerprintSHA256 == publicKey.fingerprintSHA256).first()
        {
            throw AppError.duplicate(
                code: "duplicate_key", message: "You already have this key (id \(try existing.requireID())).",
                details: ["existing_id": String(try existing.requireID()), "fingerprint_sha256": publicKey.fingerprintSHA256])
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
        let masterKey = self.masterKey
        do {
            try await db.transaction { tx in
                try await record.create(on: tx)
                let id = try record.requireID()
                record.sealedPrivateKey = try SealedSecret.seal(
                    Array(pem.value.utf8), with: masterKey,
                    associatedData: StoredKey.associatedData(id: id, column: "private_key")
                ).base64
                if let passphrase {
                    record.sealedPassphrase = try SealedSecret.seal(
                        Array(passphrase.value.utf8), with: masterKey,
                        associatedData: StoredKey.associatedData(id: id, column: "passphrase")
                    ).base64
                }
                try await record.save(on: tx)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError.duplicate(
                code: "duplicate_key", message: "You already have this key.",
                details: ["fingerprint_sha256": publicKey.fingerprintSHA256])
        }
        return record
    }

    /// The unencrypted openssh-key-v1 text of a stored key (for SSH use).
    ///
    /// - Important: the result is plaintext key material: write it only to a 0600 file in a 0700
    ///   temporary directory, or hand it to the export endpoint.
    /// - Throws: `SSHKeyError.sealedSecretCorrupt` when the envelope does not open.
    func privateKeyPEM(of record: StoredKey) throws -> Secret<String> {
        guard let sealed = record.sealedPrivateKey else { throw SSHKeyError.sealedSecretCorrupt }
        let opened = try SealedSecret(base64: sealed).open(
            with: masterKey, associatedData: StoredKey.associatedData(id: try record.requireID(), column: "private_key"))
        return Secret(String(decoding: opened.value, as: UTF8.self))
    }

    /// The private key as the owner should receive it: with the key's current comment, and
    /// passphrase-protected if it has a passphrase.
    func exportPEM(of record: StoredKey) throws -> Secret<String> {
        let pem = try privateKeyPEM(of: record)
        var passphrase: Secret<String>?
        if let sealedPassphrase = record.sealedPassphrase {
            let opened = try SealedSecret(base64: sealedPassphrase).open(
                with: masterKey, associatedData: StoredKey.associatedData(id: try record.requireID(), column: "passphrase"))
            passphrase = Secret(String(decoding: opened.value, as: UTF8.self))
        }
        let imported = try PrivateKeyImporter.parse(pem.value, passphrase: nil)
        return try imported.key.openSSHPrivateKeyPEM(comment: record.comment, passphrase: passphrase)
    }
}
