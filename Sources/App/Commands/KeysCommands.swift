import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `pipewright keys verify`.
struct KeysCommands: AsyncCommandGroup {
    var help = "Check stored secrets."
    var commands: [String: any AnyAsyncCommand] { ["verify": KeysVerifyCommand()] }
}

/// Opens every sealed secret with the current master key and reports the ones that fail (exit 1 then).
struct KeysVerifyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        init() {}
    }

    var help = "Decrypt every stored secret with the master key and report failures."

    struct VerificationFailed: Error, CustomStringConvertible {
        var count: Int
        var description: String { "\(count) secret(s) failed to decrypt" }
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let report = try await SecretInventory.verify(with: app.services.masterKey, on: app.db)
        for failure in report.failures {
            context.console.print("FAILED \(failure.table) id=\(failure.id) column=\(failure.column)")
        }
        context.console.print("Checked \(report.checked) secret(s): \(report.failures.count) failure(s).")
        if !report.failures.isEmpty { throw VerificationFailed(count: report.failures.count) }
    }
}
