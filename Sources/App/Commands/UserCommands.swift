import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `pipewright user create NAME [--admin] [--password-stdin]`.
struct UserCommands: AsyncCommandGroup {
    var help = "Manage users."
    var commands: [String: any AnyAsyncCommand] { ["create": UserCreateCommand()] }
}

/// Creates a user; prints a random password unless one is read from standard input.
struct UserCreateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "Login name (letters, digits, . _ -; at most 64).")
        var username: String
        @Flag(name: "admin", help: "Give the user the admin role.")
        var admin: Bool
        @Flag(name: "password-stdin", help: "Read the password from the first line of standard input.")
        var passwordStdin: Bool
        init() {}
    }

    var help = "Create a user (prints a random password unless --password-stdin)."

    func run(using context: CommandContext, signature: Signature) async throws {
        let password: String
        if signature.passwordStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw AppError.invalidField("password", reason: "standard input had no password")
            }
            password = line
        } else {
            password = String(TokenHasher.randomToken().prefix(24))
        }
        let user = try await createUser(
            username: signature.username, password: password, role: signature.admin ? .admin : .member,
            app: context.application)
        context.console.print("Created user '\(user.username)' (id \(try user.requireID()), \(user.role.rawValue)).")
        if !signature.passwordStdin { context.console.print("Password: \(password)") }
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
