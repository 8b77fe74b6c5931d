import ArgumentParser
import Fluent
import Foundation
import Vapor

extension PipewrightCommand {
    /// `pipewright keys …`: checks of stored secrets.
    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check stored secrets.", subcommands: [Verify.self])
    }
}

extension PipewrightCommand.Keys {
    /// `pipewright keys verify`: opens every sealed secret with the current master key; exit 1 when any fails.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt every stored secret with the master key and report failures.")

        func run() async throws {
            try await ServiceBoot.withApplication(try ServiceBoot.loadConfiguration(), access: .shared) { app in
                let report = try await SecretInventory.verify(with: app.services.masterKey, on: app.db)
                for failure in report.failures {
                    print("FAILED \(failure.table) id=\(failure.id) column=\(failure.column)")
                }
                print("Checked \(report.checked) secret(s): \(report.failures.count) failure(s).")
                if !report.failures.isEmpty {
                    throw CommandFailure("\(report.failures.count) secret(s) failed to decrypt")
                }
            }
        }
    }
}
