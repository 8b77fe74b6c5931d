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

    /// Reads (or, for a missing file, creates 0600) the master key.
    ///
    /// - Throws: `ConfigurationError.invalid` when the file is unreadable or not 32 bytes of base64.
    static func load(_ source: PipewrightConfiguration.MasterKeySource) throws -> MasterKey {
        switch source {
        case .environment(let key), .fixed(let key):
            return key
        case .file(let path):
            let manager = FileManager.default
            if !manager.fileExists(atPath: path) {
                let key = MasterKey.generate()
                let directory = (path as NSString).deletingLastPathComponent
                try? manager.createDirectory(
                    atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
                guard
                    manager.createFile(
                        atPath: path, contents: Data((key.base64Representation.value + "\n").utf8),
                        attributes: [.posixPermissions: 0o600])
                else {
                    throw ConfigurationError.invalid(
                        variable: "PIPEWRIGHT_MASTER_KEY_FILE", reason: "cannot create \(path)")
                }
                return key
            }
            guard let data = manager.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError.invalid(variable: "PIPEWRIGHT_MASTER_KEY_FILE", reason: "cannot read \(path)")
            }
            do {
                return try MasterKey(base64: text.trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_MASTER_KEY_FILE",
                    reason: "\(path) must hold the base64 encoding of exactly 32 bytes")
            }
        }
    }

    /// Outcome of checking a key against the database.
    enum Verdict: Sendable, Equatable {
        case matches
        case mismatch
    }

    /// Checks `key` against the stored check value, writing one if the database has none yet.
    static func verify(_ key: MasterKey, on database: any Database) async throws -> Verdict {
        if let stored = try await Setting.query(on: database).filter(\.$name == Setting.masterKeyCheck).first() {
            return opensCheck(stored.value, with: key) ? .matches : .mismatch
        }
        let sealed = try SecretVault(masterKey: key).seal(checkPlaintext, for: .masterKeyCheck, row: nil)
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
