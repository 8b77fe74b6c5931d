import Fluent
import Foundation
import PipewrightCore
import SSHKeys

/// Every sealed value the database holds, for `pipewright keys verify` and `pipewright master-key rotate`.
///
/// Add new sealed columns here (Bitbucket tokens, webhook secrets, …) so rotation never leaves one behind.
enum SecretInventory {
    /// One sealed value that failed to open.
    struct Failure: Sendable, Equatable {
        var table: String
        var id: Int
        var column: String
    }

    /// Opens every sealed value with `key`.
    ///
    /// - Returns: the number of values checked and the ones that failed.
    static func verify(with key: MasterKey, on db: any Database) async throws -> (checked: Int, failures: [Failure]) {
        var checked = 0
        var failures: [Failure] = []
        for record in try await StoredKey.query(on: db).all() {
            let id = try record.requireID()
            for (column, value) in [("private_key", record.sealedPrivateKey), ("passphrase", record.sealedPassphrase)] {
                guard let value else { continue }
                checked += 1
                let aad = StoredKey.associatedData(id: id, column: column)
                if (try? SealedSecret(base64: value).open(with: key, associatedData: aad)) == nil {
                    failures.append(Failure(table: StoredKey.schema, id: id, column: column))
                }
            }
        }
        if let check = try await Setting.query(on: db).filter(\.$name == Setting.masterKeyCheck).first() {
            checked += 1
            if !MasterKeyStore.opensCheck(check.value, with: key) {
                failures.append(Failure(table: Setting.schema, id: try check.requireID(), column: "value"))
            }
        }
        return (checked, failures)
    }

    /// Re-seals every value from `old` to `new` in one transaction: all or nothing.
    ///
    /// - Returns: how many values were re-sealed.
    /// - Throws: `SSHKeyError.sealedSecretCorrupt` if any value does not open with `old` (nothing is changed).
    static func reseal(from old: MasterKey, to new: MasterKey, on db: any Database) async throws -> Int {
        try await db.transaction { tx in
            var count = 0
            func reseal(_ value: String, aad: [UInt8]) throws -> String {
                let plaintext = try SealedSecret(base64: value).open(with: old, associatedData: aad)
                count += 1
                return try SealedSecret.seal(plaintext.value, with: new, associatedData: aad).base64
            }
            for record in try await StoredKey.query(on: tx).all() {
                let id = try record.requireID()
                if let value = record.sealedPrivateKey {
                    record.sealedPrivateKey = try reseal(value, aad: StoredKey.associatedData(id: id, column: "private_key"))
                }
                if let value = record.sealedPassphrase {
                    record.sealedPassphrase = try reseal(value, aad: StoredKey.associatedData(id: id, column: "passphrase"))
                }
                try await record.save(on: tx)
            }
            if let check = try await Setting.query(on: tx).filter(\.$name == Setting.masterKeyCheck).first() {
                check.value = try reseal(check.value, aad: MasterKeyStore.checkAssociatedData)
                try await check.save(on: tx)
            }
            return count
        }
    }
}
