import ArgumentParser
import Foundation
import PipewrightCore
import Vapor

extension PipewrightCommand {
    /// `pipewright master-key …`: the key that seals secrets at rest.
    struct MasterKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "master-key", abstract: "Manage the master key that seals secrets at rest.",
            subcommands: [Rotate.self])
    }
}

extension PipewrightCommand.MasterKey {
    /// `pipewright master-key rotate [--new-key-file PATH]`: offline rotation; refused while a server holds
    /// the data (use `POST /api/admin/master-key/rotate` then).
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every secret under a new random master key (server stopped).",
            discussion: """
                Refused while 'pipewright serve' runs on the same data: rotate online with \
                POST /api/admin/master-key/rotate instead (docs/operations.md "Master key").
                """)

        @Option(help: "Where to write the new key (required with PIPEWRIGHT_MASTER_KEY).")
        var newKeyFile: String?

        func run() async throws {
            let configuration = try ServiceBoot.loadConfiguration()
            try await ServiceBoot.withApplication(configuration, access: .rewrite(purpose: "master-key rotate")) {
                app in
                let result = try await MasterKeyRotation.rotate(app: app, newKeyFile: newKeyFile)
                print("Re-sealed \(result.count) secret(s); new master key id \(result.newKey.id).")
                print("New key written to \(result.path).")
                switch configuration.masterKey {
                case .file(let configured) where configured != result.path:
                    print(
                        "\(configured) still holds the old key, which no longer opens the data: set "
                            + "PIPEWRIGHT_MASTER_KEY_FILE=\(result.path) (or move that file to \(configured)) before "
                            + "the next start.")
                case .environment, .fixed:
                    print("Set PIPEWRIGHT_MASTER_KEY to the content of \(result.path) before the next start.")
                default: break
                }
            }
        }
    }
}
