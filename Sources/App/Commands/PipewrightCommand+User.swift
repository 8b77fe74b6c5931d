import ArgumentParser
import Fluent
import Foundation
import PipewrightCore
import Vapor

extension PipewrightCommand {
    /// `pipewright user list|create|disable|enable|delete|set-role|reset-password` (docs/API.md "Users and
    /// roles"). Each subcommand makes one `UserService` call as `.console` (the OS user running it, recorded as
    /// `cli:<name>` in the audit log); the rules are the service's.
    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage users.",
            subcommands: [
                List.self, Create.self, Disable.self, Enable.self, Delete.self, SetRole.self,
                ResetPassword.self,
            ])
    }
}

/// The role named on the command line.
///
/// - Throws: `ValidationError` for anything but `admin`, `maintainer`, `viewer`.
private func parseRole(_ value: String) throws -> User.Role {
    guard let role = User.Role(rawValue: value.lowercased()) else {
        throw ValidationError("the role must be admin, maintainer or viewer")
    }
    return role
}

/// Runs `body` on the data directory's application with the user named `username`.
private func withUser<T>(
    _ username: String, _ body: (Application, UserService, User) async throws -> T
) async throws -> T {
    try await ServiceBoot.withApplication(try ServiceBoot.loadConfiguration(), access: .shared) { app in
        let service = app.userService
        let user: User
        do {
            user = try await service.find(username: username)
        } catch AppError.notFound(_) {
            throw CommandFailure("no user '\(username)'")
        }
        return try await body(app, service, user)
    }
}

/// `AuditLog.consoleAudited` for a change of `user`.
private func auditedChange<T>(
    _ app: Application, _ action: AuditAction, _ user: User, _ body: (AuditNote) async throws -> T
) async throws -> T {
    try await AuditLog.consoleAudited(
        app, action, osUser: ConsoleActor.current, resource: AuditResource(type: "user", id: user.id), body)
}

extension PipewrightCommand.User {
    /// `user list`: id, name, role and state, one user a line.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List users (id, name, role, disabled / must change password).")

        func run() async throws {
            try await ServiceBoot.withApplication(try ServiceBoot.loadConfiguration(), access: .shared) { app in
                var page = 1
                while true {
                    let request = try PipewrightCore.PageRequest(page: page, perPage: 100)
                    let (users, total) = try await app.userService.list(
                        page: request, by: .console(osUser: ConsoleActor.current))
                    for user in users {
                        var flags: [String] = []
                        if user.isDisabled { flags.append("disabled") }
                        if user.mustChangePassword { flags.append("must change password") }
                        print(
                            "\(user.id ?? 0)\t\(user.username)\t\(user.role.rawValue)"
                                + (flags.isEmpty ? "" : "\t(\(flags.joined(separator: ", ")))"))
                    }
                    guard page * 100 < total else { break }
                    page += 1
                }
            }
        }
    }

    /// `user create NAME [--role ROLE | --admin] [--password-stdin]`: prints a random password (to be
    /// changed at the first sign-in) unless one is read from standard input.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create a user (prints a random password, to be changed at first sign-in, unless --password-stdin).")

        @Argument(help: "Login name (letters, digits, . _ -; at most 64).")
        var username: String

        @Option(help: "admin, maintainer or viewer (default: maintainer).")
        var role: String?

        @Flag(help: "Same as --role admin.")
        var admin = false

        @Flag(help: "Read the password from the first line of standard input.")
        var passwordStdin = false

        func validate() throws {
            if let role {
                let parsed = try parseRole(role)
                if admin && parsed != .admin {
                    throw ValidationError("--admin and --role \(role) name different roles: give one of them")
                }
            }
        }

        func run() async throws {
            let role = admin ? .admin : try parseRole(role ?? "maintainer")
            var password: String?
            if passwordStdin {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw CommandFailure("standard input had no password (--password-stdin)")
                }
                password = line
            }
            try await ServiceBoot.withApplication(
                try ServiceBoot.loadConfiguration(), access: .shared, installation: .createsIfMissing
            ) { app in
                let osUser = ConsoleActor.current
                let creation = try await AuditLog.consoleAudited(
                    app, .userCreate, osUser: osUser, resource: AuditResource(type: "user")
                ) { note in
                    note.details["role"] = role.rawValue
                    let creation = try await app.userService.create(
                        username: username, password: password, role: role, by: .console(osUser: osUser))
                    note.resource?.id = creation.user.id
                    note.details["username"] = creation.user.username
                    note.details["password"] = password == nil ? "generated" : "chosen"
                    return creation
                }
                let user = creation.user
                print("Created user '\(user.username)' (id \(try user.requireID()), \(user.role.rawValue)).")
                if let generated = creation.generatedPassword {
                    print("Password: \(generated.value)")
                    print("(to be changed at the first sign-in: POST /api/auth/password)")
                }
            }
        }
    }

    /// `user disable NAME`.
    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: no sign-in, sessions end, tokens refused (refused for the last active admin).")

        @Argument(help: "The user.")
        var username: String

        func run() async throws { try await setDisabled(username, true) }
    }

    /// `user enable NAME`.
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user again.")

        @Argument(help: "The user.")
        var username: String

        func run() async throws { try await setDisabled(username, false) }
    }

    /// `user delete NAME`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user (their audit entries stay; refused for the last active admin).")

        @Argument(help: "The user.")
        var username: String

        func run() async throws {
            try await withUser(username) { app, service, user in
                try await auditedChange(app, .userDelete, user) { _ in
                    try await service.delete(userID: try user.requireID(), by: .console(osUser: ConsoleActor.current))
                }
                print("User '\(user.username)' deleted.")
            }
        }
    }

    /// `user set-role NAME ROLE`.
    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-role", abstract: "Change a user's role (refused when no active admin would remain).")

        @Argument(help: "The user.")
        var username: String

        @Argument(help: "admin, maintainer or viewer.")
        var role: String

        func validate() throws { _ = try parseRole(role) }

        func run() async throws {
            let role = try parseRole(role)
            try await withUser(username) { app, service, user in
                _ = try await auditedChange(app, .userUpdate, user) { note in
                    note.details["role"] = role.rawValue
                    return try await service.update(
                        userID: try user.requireID(), role: role, disabled: nil,
                        by: .console(osUser: ConsoleActor.current))
                }
                print("User '\(user.username)' is now \(role.rawValue).")
            }
        }
    }

    /// `user reset-password NAME`: prints a one-time password the user must change at the next sign-in.
    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a one-time password (printed once) that must be changed at the next sign-in.")

        @Argument(help: "The user.")
        var username: String

        func run() async throws {
            try await withUser(username) { app, service, user in
                let reset = try await auditedChange(app, .userPasswordReset, user) { note in
                    let reset = try await service.resetPassword(
                        userID: try user.requireID(), by: .console(osUser: ConsoleActor.current))
                    note.details["sessions_ended"] = String(reset.sessionsEnded)
                    return reset
                }
                print("One-time password for '\(user.username)': \(reset.oneTimePassword.value)")
                print("(to be changed at the next sign-in: POST /api/auth/password)")
            }
        }
    }
}

/// `user disable` / `user enable`.
private func setDisabled(_ username: String, _ disabled: Bool) async throws {
    try await withUser(username) { app, service, user in
        _ = try await auditedChange(app, .userUpdate, user) { note in
            note.details["disabled"] = String(disabled)
            return try await service.update(
                userID: try user.requireID(), role: nil, disabled: disabled, by: .console(osUser: ConsoleActor.current))
        }
        print("User '\(user.username)' \(disabled ? "disabled" : "enabled").")
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
