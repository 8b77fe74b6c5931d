import PipewrightCore

/// A database column that holds values sealed under the master key, and how its associated data is
/// built: `"<table>:<row id>:<column>"` (or `"<table>:<column>"` for a single-row value), so a sealed
/// value cannot be moved to another row or column (see ``SealedSecret``).
///
/// Every sealed column is listed here and in ``SecretInventory``; ``SecretVault`` and key rotation use
/// the same descriptors, so normal use and rotation cannot drift apart.
struct SealedColumn: Sendable, Hashable {
    var table: String
    var column: String
    /// `false` for a single-row value (the master-key check), whose associated data has no row id.
    var isPerRow = true

    /// The associated data of the value in row `id`.
    func associatedData(row id: Int?) -> [UInt8] {
        guard isPerRow, let id else { return Array("\(table):\(column)".utf8) }
        return Array("\(table):\(id):\(column)".utf8)
    }

    /// `ssh_keys.private_key`: unencrypted openssh-key-v1 text.
    static let keyPrivateKey = SealedColumn(table: "ssh_keys", column: "private_key")
    /// `ssh_keys.passphrase`: the owner's passphrase, re-applied on export.
    static let keyPassphrase = SealedColumn(table: "ssh_keys", column: "passphrase")
    /// `connections.token`: a Bitbucket API or access token.
    static let connectionToken = SealedColumn(table: "connections", column: "token")
    /// `pipelines.webhook_secret`: the HMAC key of the pipeline's webhook.
    static let webhookSecret = SealedColumn(table: "pipelines", column: "webhook_secret")
    /// `executions.variables`: JSON of the pipeline variables of one trigger.
    static let executionVariables = SealedColumn(table: "executions", column: "variables")
    /// `settings.value` of `master_key_check`: proves which master key sealed the data.
    static let masterKeyCheck = SealedColumn(table: "settings", column: "master_key_check", isPerRow: false)
}

/// Seals and opens every secret the database holds (AES-256-GCM under the master key).
///
/// - Important: opened values are plaintext secrets (`Secret` redacts them in logs); callers keep them
///   only for the operation that needs them.
struct SecretVault: Sendable {
    let masterKey: MasterKey
    /// A key replaced by an online rotation in this process; used only to open values sealed with it.
    var retired: MasterKey? = nil

    /// Seals `plaintext` for `column` of row `id`; returns the base64 envelope to store.
    func seal(_ plaintext: [UInt8], for column: SealedColumn, row id: Int?) throws -> String {
        try SealedSecret.seal(plaintext, with: masterKey, associatedData: column.associatedData(row: id)).base64
    }

    /// Seals UTF-8 text.
    func seal(_ text: String, for column: SealedColumn, row id: Int?) throws -> String {
        try seal(Array(text.utf8), for: column, row: id)
    }

    /// Opens a stored envelope.
    ///
    /// - Throws: `SecretError.sealedSecretCorrupt` when it is missing, malformed, sealed by another key,
    ///   or belongs to another row or column.
    func open(_ sealed: String?, for column: SealedColumn, row id: Int?) throws(SecretError) -> Secret<[UInt8]> {
        guard let sealed else { throw .sealedSecretCorrupt }
        let envelope = try SealedSecret(base64: sealed)
        let key = retired.flatMap { envelope.keyID == $0.id ? $0 : nil } ?? masterKey
        return try envelope.open(with: key, associatedData: column.associatedData(row: id))
    }

    /// Opens a stored envelope holding UTF-8 text.
    func openText(_ sealed: String?, for column: SealedColumn, row id: Int?) throws(SecretError) -> Secret<String> {
        Secret(String(decoding: try open(sealed, for: column, row: id).value, as: UTF8.self))
    }

    /// Opens with this vault's key and seals again with `newKey` (master-key rotation).
    func reseal(_ sealed: String, for column: SealedColumn, row id: Int?, to newKey: MasterKey) throws -> String {
        let plaintext = try open(sealed, for: column, row: id)
        return try SecretVault(masterKey: newKey).seal(plaintext.value, for: column, row: id)
    }
}
