import ArgumentParser
import Fluent
import Foundation
import PipewrightCore
import Vapor

extension PipewrightCommand {
    /// `pipewright token …`: API tokens.
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Manage API tokens.", subcommands: [Create.self])
    }
}

extension PipewrightCommand.Token {
    /// `pipewright token create USER [--name NAME] [--expires-in-days N]`: prints a new bearer token once.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token for a user and print it once.")

        @Argument(help: "The user the token acts as.")
        var username: String

        @Option(help: "A label for the token.")
        var name = "cli"

        @Option(help: "Lifetime in days, 1...3650 (default: never expires).")
        var expiresInDays: Int?

        func validate() throws {
            if let days = expiresInDays, !(1...3650).contains(days) {
                throw ValidationError("--expires-in-days must be between 1 and 3650")
            }
        }

        func run() async throws {
            try await ServiceBoot.withApplication(try ServiceBoot.loadConfiguration(), access: .shared) { app in
                let user: App.User
                do {
                    user = try await app.userService.find(username: username)
                } catch AppError.notFound(_) {
                    throw CommandFailure("no user '\(username)'")
                }
                // A disabled user's tokens are refused at every request: printing one would only mislead.
                if user.isDisabled {
                    throw CommandFailure(
                        "user '\(username)' is disabled: 'pipewright user enable \(username)' first (no token was created)"
                    )
                }
                let label = try FieldRules.name(name, field: "name")
                // Audited as `token.create` by `cli:<OS user>` (docs/API.md "Audit log").
                let issued = try await AuditLog.consoleAudited(
                    app, .tokenCreate, osUser: ConsoleActor.current, resource: AuditResource(type: "token")
                ) { note in
                    let issued = try await TokenIssuer.issue(
                        for: try user.requireID(), name: label, expiresInDays: expiresInDays,
                        now: app.services.now(), on: app.db)
                    note.resource?.id = issued.record.id
                    note.details = ["name": issued.record.name, "prefix": issued.record.prefix, "user": user.username]
                    return issued
                }
                print(issued.token)
                if user.mustChangePassword {
                    printError(
                        "warning: '\(username)' must choose their own password first (sign in once, or POST "
                            + "/api/auth/password): until then the API answers this token with 403 password_change_required"
                    )
                }
            }
        }
    }
}
