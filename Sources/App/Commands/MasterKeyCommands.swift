import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// `pipewright master-key rotate [--new-key-file PATH]`.
struct MasterKeyCommands: AsyncCommandGroup {
    var help = "Manage the master key that seals secrets at rest."
    var commands: [String: any AnyAsyncCommand] { ["rotate": MasterKeyRotateCommand()] }
}

/// Generates a new master key and re-seals every secret with it in one transaction.
///
/// With a key file (the default), the new key is written beside it first (`<file>.new`, 0600), the
/// database is re-sealed, then the new file replaces the old one (rename). With `PIPEWRIGHT_MASTER_KEY`,
/// `--new-key-file` is required and the operator sets the variable to its content afterwards.
struct MasterKeyRotateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "new-key-file", help: "Where to write the new key (required with PIPEWRIGHT_MASTER_KEY).")
        var newKeyFile: String?
        init() {}
    }

    var help = "Re-seal every secret under a new random master key."

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let result = try await rotateMasterKey(app: app, newKeyFile: signature.newKeyFile)
        context.console.print("Re-sealed \(result.count) secret(s); new master key id \(result.newKey.id).")
        context.console.print("New key written to \(result.path).")
    }
}

/// Rotates the master key (see `MasterKeyRotateCommand`).
///
/// - Returns: the new key, the number of values re-sealed and where the key was written.
func rotateMasterKey(app: Application, newKeyFile: String?) async throws -> (
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
        throw ConfigurationError.invalid(variable: "PIPEWRIGHT_MASTER_KEY_FILE", reason: "cannot write \(stagingPath)")
    }
    let count = try await SecretInventory.reseal(from: services.masterKey, to: newKey, on: app.db)
    // rename(2) replaces the old key file atomically (FileManager.replaceItemAt is unreliable on Linux).
    guard rename(stagingPath, finalPath) == 0 else {
        throw ConfigurationError.invalid(
            variable: "PIPEWRIGHT_MASTER_KEY_FILE",
            reason: "the data is now sealed with the key in \(stagingPath) but it could not be moved to \(finalPath): "
                + "move it there by hand")
    }
    app.services.masterKey = newKey
    return (newKey, count, finalPath)
}
