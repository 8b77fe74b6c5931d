import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// Master-key rotation (docs/operations.md "Master key"): `pipewright master-key rotate` (server stopped)
/// and `POST /api/admin/master-key/rotate` (online).
enum MasterKeyRotation {
    /// Generates a new key and re-seals every secret with it in one transaction.
    ///
    /// With a key file (the default), the new key is written beside it first (`<file>.new`, 0600), the
    /// database is re-sealed, then the new file replaces the old one (rename). With
    /// `PIPEWRIGHT_MASTER_KEY`, `newKeyFile` is required and the operator sets the variable to its content
    /// afterwards.
    ///
    /// No key file is ever overwritten but the configured one: `newKeyFile` must not exist yet (unless it
    /// is the configured file), and an existing `<file>.new` stops the rotation, because a rotation whose
    /// final rename failed leaves there the only key the data opens with.
    ///
    /// - Returns: the new key, the number of values re-sealed and where the key was written.
    /// - Throws: `KeyFileExistsError` when `newKeyFile` or `<file>.new` already exists (nothing is changed);
    ///   `ConfigurationError` when the key file cannot be written or moved (nothing is changed, except
    ///   after a failed final rename, which says so); `SecretError.sealedSecretCorrupt` when a stored
    ///   value does not open (nothing is changed).
    static func rotate(app: Application, newKeyFile: String?) async throws -> (
        newKey: MasterKey, count: Int, path: String
    ) {
        let services = app.services
        let newKey = MasterKey.generate()
        let manager = FileManager.default
        let finalPath: String
        let stagingPath: String
        switch services.configuration.masterKey {
        case .file(let path):
            finalPath = newKeyFile ?? path
            stagingPath = finalPath + ".new"
        case .environment, .fixed:
            guard let newKeyFile else {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_MASTER_KEY",
                    reason: "the key comes from the environment: pass --new-key-file PATH")
            }
            finalPath = newKeyFile
            stagingPath = newKeyFile + ".new"
        }
        if let newKeyFile, newKeyFile != configuredKeyFile(services.configuration.masterKey),
            manager.fileExists(atPath: newKeyFile)
        {
            throw KeyFileExistsError(path: newKeyFile, leftByEarlierRotation: false)
        }
        try writeNewKeyFile(newKey, at: stagingPath)
        let count: Int
        do {
            count = try await SecretInventory.reseal(from: services.masterKey, to: newKey, on: app.db)
        } catch {
            try? manager.removeItem(atPath: stagingPath)
            throw error
        }
        // rename(2) replaces the old key file atomically (FileManager.replaceItemAt is unreliable on Linux).
        guard rename(stagingPath, finalPath) == 0 else {
            throw ConfigurationError.invalid(
                variable: "PIPEWRIGHT_MASTER_KEY_FILE",
                reason:
                    "the data is now sealed with the key in \(stagingPath) but it could not be moved to \(finalPath): "
                    + "move it there by hand")
        }
        app.services.masterKey = newKey
        return (newKey, count, finalPath)
    }

    /// The key file the configuration reads, if the key comes from a file.
    private static func configuredKeyFile(_ source: PipewrightConfiguration.MasterKeySource) -> String? {
        if case .file(let path) = source { return path }
        return nil
    }

    /// Writes `key` (base64 and a newline, mode 0600) to a file that must not exist yet: `O_EXCL`
    /// creation (open(2)), so a key left there by an earlier rotation is never replaced.
    ///
    /// - Throws: `KeyFileExistsError` when it exists; `ConfigurationError` when it cannot be written.
    private static func writeNewKeyFile(_ key: MasterKey, at path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw KeyFileExistsError(path: path, leftByEarlierRotation: true) }
            throw ConfigurationError.invalid(
                variable: "PIPEWRIGHT_MASTER_KEY_FILE",
                reason: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let bytes = Array((key.base64Representation.value + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw ConfigurationError.invalid(
                variable: "PIPEWRIGHT_MASTER_KEY_FILE",
                reason: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

extension MasterKeyRotation {
    /// Online rotation: under the sealing gate's exclusive lease (no state-changing request runs meanwhile),
    /// re-seals everything and switches the service's key; the old key stays in memory to open values
    /// sealed by requests that had begun before (`AppServices.retiredMasterKey`).
    ///
    /// - Throws: `MasterKeyInEnvironmentError` (409) when the key comes from `PIPEWRIGHT_MASTER_KEY`.
    static func rotateOnline(app: Application) async throws -> (newKey: MasterKey, count: Int, path: String) {
        switch app.services.configuration.masterKey {
        // A key given in code (tests) has no file to replace either: the same 409, never a 500.
        case .environment, .fixed: throw MasterKeyInEnvironmentError()
        default: break
        }
        if case .postgres = app.services.configuration.database {
            let servers = try await DatabaseOwnership.runningServers(on: app.db)
            if servers > 1 { throw OtherInstancesRunningError(count: servers) }
        }
        let gate = app.services.sealingGate
        return try await gate.exclusive { () async throws -> RotationResult in
            let old = app.services.masterKey
            let result = try await rotate(app: app, newKeyFile: nil)
            app.services.retiredMasterKey = old
            return RotationResult(newKey: result.newKey, count: result.count, path: result.path)
        }.tuple
    }

    /// Sendable carrier of a rotation's outcome.
    struct RotationResult: Sendable {
        var newKey: MasterKey
        var count: Int
        var path: String
        var tuple: (newKey: MasterKey, count: Int, path: String) { (newKey, count, path) }
    }
}

/// 409 `master_key_in_environment`: online rotation cannot replace `PIPEWRIGHT_MASTER_KEY`.
struct MasterKeyInEnvironmentError: APIErrorConvertible {
    var status: HTTPResponseStatus { .conflict }
    var code: String { "master_key_in_environment" }
    var details: [String: String] { [:] }
    var message: String {
        "the master key comes from PIPEWRIGHT_MASTER_KEY: rotate offline with "
            + "'pipewright master-key rotate --new-key-file PATH', then set the variable to the new key"
    }
}

/// 409 `other_instances_running`: other servers share the PostgreSQL database and would keep the old key.
struct OtherInstancesRunningError: APIErrorConvertible {
    var count: Int
    var status: HTTPResponseStatus { .conflict }
    var code: String { "other_instances_running" }
    var details: [String: String] { ["servers": String(count)] }
    var message: String {
        "\(count) pipewright servers use this database and would keep sealing with the old key: stop all of "
            + "them and run 'pipewright master-key rotate'"
    }
}

/// 409 `key_file_exists`: a rotation would have to overwrite a key file it did not write itself. The API
/// answers 409; `pipewright master-key rotate` prints `error: <message>` and exits 1.
struct KeyFileExistsError: APIErrorConvertible {
    /// The file in the way.
    var path: String
    /// `true` for `<key file>.new`, the staging file a rotation whose final rename failed leaves behind.
    var leftByEarlierRotation: Bool
    var status: HTTPResponseStatus { .conflict }
    var code: String { "key_file_exists" }
    var details: [String: String] { ["path": path] }
    var message: String {
        leftByEarlierRotation
            ? "\(path) already exists: an earlier rotation may have left there the key the data is sealed with; "
                + "check it with 'PIPEWRIGHT_MASTER_KEY_FILE=\(path) pipewright keys verify', move it away and rotate again "
                + "(nothing was changed)"
            : "\(path) already exists: name a key file that does not exist yet (nothing was changed)"
    }
}
