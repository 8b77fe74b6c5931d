import ArgumentParser
import Fluent
import Foundation
import PipewrightCore
import Vapor

extension PipewrightCommand {
    /// `pipewright user …`: user administration (one subcommand type each).
    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage users.", subcommands: [Create.self])
    }
}

extension PipewrightCommand.User {
    /// `pipewright user create NAME [--admin] [--password-stdin]`: prints a random password unless one is
    /// read from standard input.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user (prints a random password unless --password-stdin).")

        @Argument(help: "Login name (letters, digits, . _ -; at most 64).")
        var username: String

        @Flag(help: "Give the user the admin role.")
        var admin = false

        @Flag(help: "Read the password from the first line of standard input.")
        var passwordStdin = false

        func run() async throws {
            let password: String
            if passwordStdin {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw CommandFailure("standard input had no password (--password-stdin)")
                }
                password = line
            } else {
                password = String(TokenHasher.randomToken().prefix(24))
            }
            try await ServiceBoot.withApplication(try ServiceBoot.loadConfiguration(), access: .shared) { app in
                let user = try await createUser(
                    username: username, password: password, role: admin ? .admin : .member, app: app)
                print("Created user '\(user.username)' (id \(try user.requireID()), \(user.role.rawValue)).")
                if !passwordStdin { print("Password: \(password)") }
            }
        }
    }
}

/// Creates a user with a bcrypt password hash.
///
/// - Throws: `AppError.invalidField` for a bad username, `ConflictError.duplicateUser` when it exists.
func createUser(username: String, password: String, role: User.Role, app: Application) async throws -> User {
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
    guard !username.isEmpty, username.count <= 64, username.unicodeScalars.allSatisfy(allowed.contains),
        !username.hasPrefix("-")
    else {
        throw AppError.invalidField("username", reason: "use 1-64 letters, digits, '.', '_' or '-'")
    }
    if try await User.query(on: app.db).filter(\.$username == username).first() != nil {
        throw ConflictError.duplicateUser(username)
    }
    let user = User(username: username, passwordHash: try await app.password.async.hash(password), role: role)
    try await user.create(on: app.db)
    return user
}
