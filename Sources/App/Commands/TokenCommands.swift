import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `pipewright token create USER [--name NAME] [--expires-in-days N]`.
struct TokenCommands: AsyncCommandGroup {
    var help = "Manage API tokens."
    var commands: [String: any AnyAsyncCommand] { ["create": TokenCreateCommand()] }
}

/// Prints a new bearer token for a user (shown once); audited as `token.create` by `cli:<OS user>`.
struct TokenCreateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "The user the token acts as.")
        var username: String
        @Option(name: "name", help: "A label for the token (default: cli).")
        var name: String?
        @Option(name: "expires-in-days", help: "Lifetime in days (default: never expires).")
        var expiresInDays: Int?
        init() {}
    }

    var help = "Create an API token for a user and print it once."

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        if let days = signature.expiresInDays, !(1...3650).contains(days) {
            throw AppError.invalidField("expires-in-days", reason: "must be between 1 and 3650")
        }
        let user = try await app.userService.find(username: signature.username)
        let name = try FieldRules.name(signature.name ?? "cli", field: "name")
        let issued = try await AuditLog.consoleAudited(
            app, .tokenCreate, osUser: ConsoleActor.current, resource: AuditResource(type: "token")
        ) { note in
            let issued = try await TokenIssuer.issue(
                for: try user.requireID(), name: name, expiresInDays: signature.expiresInDays, now: app.services.now(),
                on: app.db)
            note.resource?.id = issued.record.id
            note.details = ["name": issued.record.name, "prefix": issued.record.prefix, "user": user.username]
            return issued
        }
        context.console.print(issued.token)
    }
}
