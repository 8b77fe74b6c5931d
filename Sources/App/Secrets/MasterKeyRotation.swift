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
    /// - Returns: the new key, the number of values re-sealed and where the key was written.
    /// - Throws: `ConfigurationError` when the key file cannot be written or moved;
    ///   `SecretError.sealedSecretCorrupt` when a stored value does not open (nothing is changed then).
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
        try? manager.removeItem(atPath: stagingPath)
        guard
            manager.createFile(
                atPath: stagingPath, contents: Data((newKey.base64Representation.value + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw ConfigurationError.invalid(
                variable: "PIPEWRIGHT_MASTER_KEY_FILE", reason: "cannot write \(stagingPath)")
        }
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

/// `MasterKeyRotation.rotate` (kept for callers of the earlier free function).
func rotateMasterKey(app: Application, newKeyFile: String?) async throws -> (
    newKey: MasterKey, count: Int, path: String
) {
    try await MasterKeyRotation.rotate(app: app, newKeyFile: newKeyFile)
}
