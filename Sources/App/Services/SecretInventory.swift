import Fluent
import Foundation
import PipewrightCore
import SSHKeys

/// Every sealed value the database holds, for `pipewright keys verify` and `pipewright master-key rotate`.
///
/// A new sealed column is added to `sealedValues(on:)` so rotation never leaves one behind.
enum SecretInventory {
    /// One sealed value that failed to open.
    struct Failure: Sendable, Equatable {
        var table: String
        var id: Int
        var column: String
    }

    /// A sealed column of one row: where it is, its associated data, and how to write a re-sealed value.
    struct SealedValue {
        var table: String
        var id: Int
        var column: String
        var value: String
        var associatedData: [UInt8]
        var store: (String, any Database) async throws -> Void
    }

    /// Every sealed value in the database.
    static func sealedValues(on db: any Database) async throws -> [SealedValue] {
        var values: [SealedValue] = []
        for record in try await StoredKey.query(on: db).all() {
            let id = try record.requireID()
            if let value = record.sealedPrivateKey {
                values.append(SealedValue(
                    table: StoredKey.schema, id: id, column: "private_key", value: value,
                    associatedData: StoredKey.associatedData(id: id, column: "private_key")
                ) { new, db in record.sealedPrivateKey = new; try await record.save(on: db) })
            }
            if let value = record.sealedPassphrase {
                values.append(SealedValue(
                    table: StoredKey.schema, id: id, column: "passphrase", value: value,
                    associatedData: StoredKey.associatedData(id: id, column: "passphrase")
                ) { new, db in record.sealedPassphrase = new; try await record.save(on: db) })
            }
        }
        for record in try await Connection.query(on: db).all() {
            guard let value = record.sealedToken else { continue }
            let id = try record.requireID()
            values.append(SealedValue(
                table: Connection.schema, id: id, column: "token", value: value,
                associatedData: Connection.associatedData(id: id)
            ) { new, db in record.sealedToken = new; try await record.save(on: db) })
        }
        for record in try await Pipeline.query(on: db).all() {
            guard let value = record.sealedWebhookSecret else { continue }
            let id = try record.requireID()
            values.append(SealedValue(
                table: Pipeline.schema, id: id, column: "webhook_secret", value: value,
                associatedData: Pipeline.webhookAssociatedData(id: id)
            ) { new, db in record.sealedWebhookSecret = new; try await record.save(on: db) })
        }
        for record in try await Execution.query(on: db).all() {
            guard let value = record.sealedVariables else { continue }
            let id = try record.requireID()
            values.append(SealedValue(
                table: Execution.schema, id: id, column: "variables", value: value,
                associatedData: Execution.variablesAssociatedData(id: id)
            ) { new, db in record.sealedVariables = new; try await record.save(on: db) })
        }
        if let check = try await Setting.query(on: db).filter(\.$name == Setting.masterKeyCheck).first() {
            values.append(SealedValue(
                table: Setting.schema, id: try check.requireID(), column: "value", value: check.value,
                associatedData: MasterKeyStore.checkAssociatedData
            ) { new, db in check.value = new; try await check.save(on: db) })
        }
        return values
    }

    /// Opens every sealed value with `key`.
    ///
    /// - Returns: the number of values checked and the ones that failed.
    static func verify(with key: MasterKey, on db: any Database) async throws -> (checked: Int, failures: [Failure]) {
        let values = try await sealedValues(on: db)
        let failures = values.filter { value in
            (try? SealedSecret(base64: value.value).open(with: key, associatedData: value.associatedData)) == nil
        }.map { Failure(table: $0.table, id: $0.id, column: $0.column) }
        return (values.count, failures)
    }

    /// Re-seals every value from `old` to `new` in one transaction: all or nothing.
    ///
    /// - Returns: how many values were re-sealed.
    /// - Throws: `SSHKeyError.sealedSecretCorrupt` if any value does not open with `old` (nothing is changed).
    static func reseal(from old: MasterKey, to new: MasterKey, on db: any Database) async throws -> Int {
        try await db.transaction { tx in
            let values = try await sealedValues(on: tx)
            for value in values {
                let plaintext = try SealedSecret(base64: value.value).open(with: old, associatedData: value.associatedData)
                let resealed = try SealedSecret.seal(plaintext.value, with: new, associatedData: value.associatedData)
                try await value.store(resealed.base64, tx)
            }
            return values.count
        }
    }
}
