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
                guard let user = try await User.query(on: app.db).filter(\.$username == username).first() else {
                    throw CommandFailure("no user '\(username)'")
                }
                let issued = try await TokenIssuer.issue(
                    for: try user.requireID(), name: name, expiresInDays: expiresInDays, now: app.services.now(),
                    on: app.db)
                print(issued.token)
            }
        }
    }
}
