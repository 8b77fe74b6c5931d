import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `pipewright user list|create|disable|enable|delete|set-role|reset-password` (docs/API.md "Users and
/// roles"). Each subcommand parses its arguments and makes one `UserService` call as `.console` (the OS
/// user running it, recorded as `cli:<name>` in the audit log); the rules are the service's.
struct UserCommands: AsyncCommandGroup {
    var help = "Manage users."
    var commands: [String: any AnyAsyncCommand] {
        [
            "list": UserListCommand(), "create": UserCreateCommand(), "disable": UserDisableCommand(disable: true),
            "enable": UserDisableCommand(disable: false), "delete": UserDeleteCommand(),
            "set-role": UserSetRoleCommand(), "reset-password": UserResetPasswordCommand(),
        ]
    }
}

/// The role named on the command line.
///
/// - Throws: `AppError.invalidField` for anything but `admin`, `maintainer`, `viewer`.
private func parseRole(_ value: String, option: String) throws -> User.Role {
    guard let role = User.Role(rawValue: value.lowercased()) else {
        throw AppError.invalidField(option, reason: "must be admin, maintainer or viewer")
    }
    return role
}

/// Lists users: id, name, role, state.
struct UserListCommand: AsyncCommand {
    struct Signature: CommandSignature {
        init() {}
    }

    var help = "List users (id, name, role, disabled / must change password)."

    func run(using context: CommandContext, signature: Signature) async throws {
        let service = context.application.userService
        var page = 1
        while true {
            let request = try PipewrightCore.PageRequest(page: page, perPage: 100)
            let (users, total) = try await service.list(page: request, by: .console(osUser: ConsoleActor.current))
            for user in users {
                var flags: [String] = []
                if user.isDisabled { flags.append("disabled") }
                if user.mustChangePassword { flags.append("must change password") }
                context.console.print(
                    "\(user.id ?? 0)\t\(user.username)\t\(user.role.rawValue)"
                        + (flags.isEmpty ? "" : "\t(\(flags.joined(separator: ", ")))"))
            }
            guard page * 100 < total else { break }
            page += 1
        }
    }
}

/// Creates a user; prints a random password unless one is read from standard input.
struct UserCreateCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "Login name (letters, digits, . _ -; at most 64).")
        var username: String
        @Option(name: "role", help: "admin, maintainer or viewer (default: maintainer).")
        var role: String?
        @Flag(name: "admin", help: "Same as --role admin.")
        var admin: Bool
        @Flag(name: "password-stdin", help: "Read the password from the first line of standard input.")
        var passwordStdin: Bool
        init() {}
    }

    var help =
        "Create a user (prints a random password, to be changed at first sign-in, unless --password-stdin)."

    func run(using context: CommandContext, signature: Signature) async throws {
        let role = signature.admin ? .admin : try parseRole(signature.role ?? "maintainer", option: "role")
        var password: String?
        if signature.passwordStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw AppError.invalidField("password", reason: "standard input had no password")
            }
            password = line
        }
        let osUser = ConsoleActor.current
        let creation = try await AuditLog.consoleAudited(
            context.application, .userCreate, osUser: osUser, resource: AuditResource(type: "user")
        ) { note in
            note.details["role"] = role.rawValue
            let creation = try await context.application.userService.create(
                username: signature.username, password: password, role: role, by: .console(osUser: osUser))
            note.resource?.id = creation.user.id
            note.details["username"] = creation.user.username
            note.details["password"] = password == nil ? "generated" : "chosen"
            return creation
        }
        let user = creation.user
        context.console.print("Created user '\(user.username)' (id \(try user.requireID()), \(user.role.rawValue)).")
        if let generated = creation.generatedPassword {
            context.console.print("Password: \(generated.value)")
            context.console.print("(to be changed at the first sign-in: POST /api/auth/password)")
        }
    }
}

/// `user disable NAME` / `user enable NAME`.
struct UserDisableCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "The user.")
        var username: String
        init() {}
    }

    let disable: Bool
    var help: String {
        disable
            ? "Disable a user: no sign-in, sessions end, tokens refused (refused for the last active admin)."
            : "Enable a disabled user again."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let osUser = ConsoleActor.current
        let service = context.application.userService
        let user = try await service.find(username: signature.username)
        _ = try await AuditLog.consoleAudited(
            context.application, .userUpdate, osUser: osUser, resource: AuditResource(type: "user", id: user.id)
        ) { note in
            note.details["disabled"] = String(disable)
            return try await service.update(
                userID: try user.requireID(), role: nil, disabled: disable, by: .console(osUser: osUser))
        }
        context.console.print("User '\(user.username)' \(disable ? "disabled" : "enabled").")
    }
}

/// `user delete NAME`.
struct UserDeleteCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "The user.")
        var username: String
        init() {}
    }

    var help = "Delete a user (their audit entries stay; refused for the last active admin)."

    func run(using context: CommandContext, signature: Signature) async throws {
        let osUser = ConsoleActor.current
        let service = context.application.userService
        let user = try await service.find(username: signature.username)
        try await AuditLog.consoleAudited(
            context.application, .userDelete, osUser: osUser, resource: AuditResource(type: "user", id: user.id)
        ) { _ in
            try await service.delete(userID: try user.requireID(), by: .console(osUser: osUser))
        }
        context.console.print("User '\(user.username)' deleted.")
    }
}

/// `user set-role NAME ROLE`.
struct UserSetRoleCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "The user.")
        var username: String
        @Argument(name: "role", help: "admin, maintainer or viewer.")
        var role: String
        init() {}
    }

    var help = "Change a user's role (refused when no active admin would remain)."

    func run(using context: CommandContext, signature: Signature) async throws {
        let role = try parseRole(signature.role, option: "role")
        let osUser = ConsoleActor.current
        let service = context.application.userService
        let user = try await service.find(username: signature.username)
        _ = try await AuditLog.consoleAudited(
            context.application, .userUpdate, osUser: osUser, resource: AuditResource(type: "user", id: user.id)
        ) { note in
            note.details["role"] = role.rawValue
            return try await service.update(
                userID: try user.requireID(), role: role, disabled: nil, by: .console(osUser: osUser))
        }
        context.console.print("User '\(user.username)' is now \(role.rawValue).")
    }
}

/// `user reset-password NAME`: prints a one-time password the user must change at the next sign-in.
struct UserResetPasswordCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "username", help: "The user.")
        var username: String
        init() {}
    }

    var help = "Set a one-time password (printed once) that must be changed at the next sign-in."

    func run(using context: CommandContext, signature: Signature) async throws {
        let osUser = ConsoleActor.current
        let service = context.application.userService
        let user = try await service.find(username: signature.username)
        let reset = try await AuditLog.consoleAudited(
            context.application, .userPasswordReset, osUser: osUser,
            resource: AuditResource(type: "user", id: user.id)
        ) { note in
            let reset = try await service.resetPassword(userID: try user.requireID(), by: .console(osUser: osUser))
            note.details["sessions_ended"] = String(reset.sessionsEnded)
            return reset
        }
        context.console.print("One-time password for '\(user.username)': \(reset.oneTimePassword.value)")
        context.console.print("(to be changed at the next sign-in: POST /api/auth/password)")
    }
}

/// Creates a user with a bcrypt password hash (as the CLI: no role check), through `UserService`.
///
/// - Throws: `AppError.invalidField` for a bad username or a password `PasswordPolicy` refuses,
///   `ConflictError.duplicateUser` when it exists.
func createUser(username: String, password: String, role: User.Role, app: Application) async throws -> User {
    try await app.userService.create(
        username: username, password: password, role: role, by: .console(osUser: ConsoleActor.current)
    ).user
}
