import Fluent
import Foundation
import PipewrightCore
import SSHKeys

/// Loads the master key (README "Configuration"; docs/ssh-keys.md) and proves it is the one that sealed the existing data.
///
/// The proof is a sealed check value in `settings` (`master_key_check`), written on first start. A key
/// that cannot open it stops start-up with one clear line; nothing is re-sealed or overwritten.
enum MasterKeyStore {
    static let checkPlaintext = Array("pipewright-master-key-check-v1".utf8)

    /// The variable an operator should look at for this source.
    static func variableName(for source: PipewrightConfiguration.MasterKeySource) -> String {
        switch source {
        case .environment, .fixed: "PIPEWRIGHT_MASTER_KEY"
        case .file: "PIPEWRIGHT_MASTER_KEY_FILE"
        }
    }

    /// A master key as read at start-up.
    struct Loaded: Sendable {
        var key: MasterKey
        /// Set when the key file did not exist: the key was generated in memory and is written to this
        /// path (0600) only once the database is known to hold no data sealed by another key.
        var pendingFile: String?
    }

    /// Reads the master key; for a missing key file, generates one in memory (nothing is written here).
    ///
    /// - Throws: `ConfigurationError.invalid` when the file is unreadable or not 32 bytes of base64.
    static func load(_ source: PipewrightConfiguration.MasterKeySource) throws -> Loaded {
        switch source {
        case .environment(let key), .fixed(let key):
            return Loaded(key: key)
        case .file(let path):
            let manager = FileManager.default
            if !manager.fileExists(atPath: path) { return Loaded(key: MasterKey.generate(), pendingFile: path) }
            guard let data = manager.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError.invalid(variable: "PIPEWRIGHT_MASTER_KEY_FILE", reason: "cannot read \(path)")
            }
            do {
                return Loaded(key: try MasterKey(base64: text.trimmingCharacters(in: .whitespacesAndNewlines)))
            } catch {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_MASTER_KEY_FILE",
                    reason: "\(path) must hold the base64 encoding of exactly 32 bytes")
            }
        }
    }

    /// ``load(_:)``, read again every 100 ms for up to `patience` while a key file's key does not open
    /// `check`: an online rotation commits the re-sealed data first and renames the new key file into place
    /// right after, and a command starting in between would otherwise read the old key and stop.
    ///
    /// - Parameters:
    ///   - source: where the key comes from.
    ///   - check: the stored sealed check value (`nil`: nothing to open, the first read is returned).
    ///   - patience: how long to wait for the key file to change (3 s by default).
    /// - Returns: the key that opens `check`, or the last one read (the caller refuses it).
    static func load(
        _ source: PipewrightConfiguration.MasterKeySource, opening check: String?, patience: Duration = .seconds(3)
    ) async throws -> Loaded {
        var loaded = try load(source)
        guard let check, loaded.pendingFile == nil, case .file = source else { return loaded }
        let deadline = ContinuousClock.now + patience
        while !opensCheck(check, with: loaded.key), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            loaded = try load(source)
        }
        return loaded
    }

    /// Writes a new key file 0600 (its directory 0700 if missing).
    static func write(_ key: MasterKey, to path: String) throws {
        let manager = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        try? manager.createDirectory(
            atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        guard
            manager.createFile(
                atPath: path, contents: Data((key.base64Representation.value + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw ConfigurationError.unusable(
                variable: "PIPEWRIGHT_MASTER_KEY_FILE", value: path, reason: "cannot be created (check the permissions)"
            )
        }
    }

    /// The stored check value, or `nil` when there is none or the table does not exist yet (a database
    /// that was never migrated); read before migrating so a wrong key changes nothing.
    static func storedCheck(on database: any Database) async -> String? {
        try? await Setting.query(on: database).filter(\.$name == Setting.masterKeyCheck).first()?.value
    }

    /// Outcome of checking a key against the database.
    enum Verdict: Sendable, Equatable {
        case matches
        case mismatch
        /// The key file is missing but the database holds data sealed by some key.
        case keyFileMissing
    }

    /// Checks `loaded` against the stored check value. When the database has none yet, writes the
    /// pending key file first, then the check value (so a key that sealed data always exists on disk).
    static func verify(_ loaded: Loaded, on database: any Database) async throws -> Verdict {
        if let stored = try await Setting.query(on: database).filter(\.$name == Setting.masterKeyCheck).first() {
            if loaded.pendingFile != nil { return .keyFileMissing }
            return opensCheck(stored.value, with: loaded.key) ? .matches : .mismatch
        }
        if let path = loaded.pendingFile { try write(loaded.key, to: path) }
        let sealed = try SecretVault(masterKey: loaded.key).seal(checkPlaintext, for: .masterKeyCheck, row: nil)
        try await Setting(name: Setting.masterKeyCheck, value: sealed).create(on: database)
        return .matches
    }

    /// Whether `key` opens the stored check value (`/ready`).
    static func opensCheck(_ value: String, with key: MasterKey) -> Bool {
        guard let opened = try? SecretVault(masterKey: key).open(value, for: .masterKeyCheck, row: nil) else {
            return false
        }
        return opened.value == checkPlaintext
    }
}
