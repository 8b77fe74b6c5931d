import Fluent
import Foundation
import PipewrightCore

/// Every sealed value the database holds, for `pipewright keys verify` and `pipewright master-key rotate`.
///
/// A new sealed column gets a ``SealedColumn`` descriptor and a line in `sealedValues(on:)`, so rotation
/// never leaves one behind.
enum SecretInventory {
    /// One sealed value that failed to open.
    struct Failure: Sendable, Equatable {
        var table: String
        var id: Int
        var column: String
    }

    /// A sealed column of one row: where it is, and how to write a re-sealed value.
    struct SealedValue {
        var column: SealedColumn
        var id: Int
        var value: String
        var store: (String, any Database) async throws -> Void

        var failure: Failure { Failure(table: column.table, id: id, column: column.column) }
    }

    /// Every sealed value in the database.
    static func sealedValues(on db: any Database) async throws -> [SealedValue] {
        var values: [SealedValue] = []
        func add<M: Model>(_ rows: [M], _ column: SealedColumn, _ path: ReferenceWritableKeyPath<M, String?>) throws
        where M.IDValue == Int {
            for row in rows {
                guard let value = row[keyPath: path] else { continue }
                values.append(
                    SealedValue(column: column, id: try row.requireID(), value: value) { new, db in
                        row[keyPath: path] = new
                        try await row.save(on: db)
                    })
            }
        }
        let keys = try await StoredKey.query(on: db).all()
        try add(keys, .keyPrivateKey, \.sealedPrivateKey)
        try add(keys, .keyPassphrase, \.sealedPassphrase)
        try add(try await Connection.query(on: db).all(), .connectionToken, \.sealedToken)
        try add(try await Pipeline.query(on: db).all(), .webhookSecret, \.sealedWebhookSecret)
        try add(try await Execution.query(on: db).all(), .executionVariables, \.sealedVariables)
        if let check = try await Setting.query(on: db).filter(\.$name == Setting.masterKeyCheck).first() {
            values.append(
                SealedValue(column: .masterKeyCheck, id: try check.requireID(), value: check.value) { new, db in
                    check.value = new
                    try await check.save(on: db)
                })
        }
        return values
    }

    /// Opens every sealed value with `key`.
    ///
    /// - Returns: the number of values checked and the ones that failed.
    static func verify(with key: MasterKey, on db: any Database) async throws -> (checked: Int, failures: [Failure]) {
        let values = try await sealedValues(on: db)
        let vault = SecretVault(masterKey: key)
        let failures = values.filter { (try? vault.open($0.value, for: $0.column, row: $0.id)) == nil }.map(\.failure)
        return (values.count, failures)
    }

    /// Re-seals every value from `old` to `new` in one transaction: all or nothing.
    ///
    /// - Returns: how many values were re-sealed.
    /// - Throws: `SecretError.sealedSecretCorrupt` if any value does not open with `old` (nothing is changed).
    static func reseal(from old: MasterKey, to new: MasterKey, on db: any Database) async throws -> Int {
        try await db.transaction { tx in
            let values = try await sealedValues(on: tx)
            let vault = SecretVault(masterKey: old)
            for value in values {
                try await value.store(try vault.reseal(value.value, for: value.column, row: value.id, to: new), tx)
            }
            return values.count
        }
    }
}
