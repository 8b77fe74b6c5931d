import Fluent
import Foundation
import Logging
import PipewrightCore
import Vapor

/// Users and their roles (docs/API.md "Users and roles"), for the JSON API and `pipewright user …` alike.
///
/// Every method but `changeOwnPassword` needs `Permission.manageUsers` when an API user calls it; the CLI
/// acts as `.console` (whoever can run it owns the data directory). Changes that could remove the last
/// active admin are serialised and checked inside one transaction (409 `last_admin`).
struct UserService: Sendable {
    let db: any Database
    let passwords: AsyncPasswordHasher
    let connections: RealtimeConnections
    let queues: SerialQueues
    let now: @Sendable () -> Date
    let logger: Logger

    /// Who asks.
    enum Actor: Sendable {
        /// A signed-in API user (role checked against `Permission.manageUsers`).
        case user(AuthenticatedUser)
        /// The `pipewright` CLI, run by this operating-system user.
        case console(osUser: String)
    }

    /// A user just created; `generatedPassword` is set when none was given (shown once).
    struct Creation: Sendable {
        var user: User
        /// - Important: shown once to the admin who created the account; only its bcrypt hash is stored.
        var generatedPassword: Secret<String>?
    }

    /// A password an admin reset: the user must change it at the next sign-in.
    struct PasswordReset: Sendable {
        var user: User
        /// - Important: shown once to the admin; only its bcrypt hash is stored.
        var oneTimePassword: Secret<String>
        /// Sessions of the user that were ended.
        var sessionsEnded: Int
    }

    /// What `changeOwnPassword` revoked.
    struct PasswordChange: Sendable {
        var sessionsEnded: Int
        var tokensRevoked: Int
    }

    // MARK: - Reading

    /// Users that are not deleted, in id order.
    ///
    /// - Throws: `AppError.forbidden` without `manageUsers`.
    func list(page: PipewrightCore.PageRequest, by actor: Actor) async throws -> (items: [User], total: Int) {
        try authorize(actor)
        let query = User.query(on: db).filter(\.$deletedAt == nil)
        let total = try await query.count()
        return (try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage)).all(), total)
    }

    /// - Throws: `AppError.notFound` (unknown or deleted), `AppError.forbidden` without `manageUsers`.
    func show(userID: Int, by actor: Actor) async throws -> User {
        let user = try await find(userID)
        try authorize(actor)
        return user
    }

    /// The user named `username` (CLI look-ups).
    ///
    /// - Throws: `AppError.notFound`.
    func find(username: String) async throws -> User {
        guard
            let user = try await User.query(on: db).filter(\.$username == username).filter(\.$deletedAt == nil)
                .first()
        else { throw AppError.notFound("User '\(username)'") }
        return user
    }

    // MARK: - Changing

    /// Creates a user. Without `password` a random one is generated, returned once, and must be changed
    /// at the first sign-in.
    ///
    /// - Throws: `AppError.invalidField` (`username`, `password` by `PasswordPolicy`),
    ///   `ConflictError.duplicateUser` (also for the name of a deleted user), `AppError.forbidden`.
    func create(username: String, password: String?, role: User.Role, by actor: Actor) async throws -> Creation {
        try authorize(actor)
        let username = try Self.checkUsername(username)
        let chosen = password ?? PasswordPolicy.generate()
        try PasswordPolicy.check(chosen, username: username)
        let user = User(username: username, passwordHash: try await passwords.hash(chosen), role: role)
        user.mustChangePassword = password == nil
        do {
            try await user.create(on: db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw ConflictError.duplicateUser(username)
        }
        logger.notice(
            "user created", metadata: ["user_id": "\(user.id ?? 0)", "role": "\(role.rawValue)", "actor": "\(actor)"])
        return Creation(user: user, generatedPassword: password == nil ? Secret(chosen) : nil)
    }

    /// Changes the role and/or the disabled flag (`nil` leaves it). Disabling ends the user's sessions and
    /// live streams; their tokens stop working while disabled.
    ///
    /// - Throws: `AppError.notFound`, `AppError.forbidden`, `ConflictError.lastAdmin` when no active admin
    ///   would remain, `ConflictError.ownAccount` for the caller's own role or disabling.
    func update(userID: Int, role: User.Role?, disabled: Bool?, by actor: Actor) async throws -> User {
        let current = try await find(userID)
        try authorize(actor)
        if (role.map { $0 != current.role } ?? false) || disabled == true { try refuseOwnAccount(userID, actor) }
        try await guardingAdmins { tx in
            guard let user = try await User.find(userID, on: tx) else { throw AppError.notFound("User") }
            if let role { user.role = role }
            if let disabled { user.isDisabled = disabled }
            try await user.save(on: tx)
        }
        if disabled == true { try await endSessions(of: userID, keeping: nil, closingTokens: true) }
        return try await find(userID)
    }

    /// Deletes a user: the row stays as a tombstone (`deleted_at`) so their audit entries and the
    /// `created_by` of what they made keep a name; sessions and tokens are deleted, the name stays taken.
    ///
    /// - Throws: `AppError.notFound`, `AppError.forbidden`, `ConflictError.lastAdmin`.
    func delete(userID: Int, by actor: Actor) async throws {
        _ = try await find(userID)
        try authorize(actor)
        try refuseOwnAccount(userID, actor)
        let deletedAt = now()
        try await guardingAdmins { tx in
            guard let user = try await User.find(userID, on: tx) else { throw AppError.notFound("User") }
            user.deletedAt = deletedAt
            user.isDisabled = true
            try await user.save(on: tx)
        }
        try await endSessions(of: userID, keeping: nil, closingTokens: true)
        try await APIToken.query(on: db).filter(\.$user.$id == userID).delete()
    }

    /// Sets a random one-time password the user must change at the next sign-in, and ends their sessions.
    /// Their tokens are refused (403 `password_change_required`) until they change it.
    ///
    /// - Throws: `AppError.notFound`, `AppError.forbidden`.
    func resetPassword(userID: Int, by actor: Actor) async throws -> PasswordReset {
        let user = try await find(userID)
        try authorize(actor)
        try refuseOwnAccount(userID, actor)
        let password = PasswordPolicy.generate()
        try PasswordPolicy.check(password, username: user.username)
        user.passwordHash = try await passwords.hash(password)
        user.mustChangePassword = true
        try await user.save(on: db)
        let ended = try await endSessions(of: userID, keeping: nil, closingTokens: true)
        return PasswordReset(user: user, oneTimePassword: Secret(password), sessionsEnded: ended)
    }

    /// The signed-in user changes their own password: `current` must be right, `new` must pass
    /// `PasswordPolicy` and differ from it. Every other session of the user ends; with `revokeTokens` every
    /// API token of the user is deleted too (the caller's own included).
    ///
    /// - Throws: `AppError.invalidField` (`current_password` wrong, `new_password` by policy).
    func changeOwnPassword(current: String, new: String, revokeTokens: Bool, for caller: AuthenticatedUser)
        async throws -> PasswordChange
    {
        try caller.require(.manageOwnAccount)
        guard let user = try await User.find(caller.id, on: db), user.isActive else {
            throw AppError.unauthenticated
        }
        var matches = false
        if current.utf8.count <= PasswordPolicy.maximumBytes {
            matches = (try? await passwords.verify(current, created: user.passwordHash)) ?? false
        }
        guard matches else {
            throw AppError.invalidField("current_password", reason: "is not your current password")
        }
        try PasswordPolicy.check(new, username: user.username, field: "new_password")
        guard new != current else {
            throw AppError.invalidField("new_password", reason: "must differ from the current password")
        }
        user.passwordHash = try await passwords.hash(new)
        user.mustChangePassword = false
        try await user.save(on: db)
        var keep: Int?
        if case .session(let id, _) = caller.method { keep = id }
        let ended = try await endSessions(of: caller.id, keeping: keep, closingTokens: revokeTokens)
        var revoked = 0
        if revokeTokens {
            revoked = try await APIToken.query(on: db).filter(\.$user.$id == caller.id).count()
            try await APIToken.query(on: db).filter(\.$user.$id == caller.id).delete()
        }
        return PasswordChange(sessionsEnded: ended, tokensRevoked: revoked)
    }

    // MARK: - Rules

    /// 1–64 letters, digits, `.`, `_`, `-`, not starting with `-` (surrounding blanks are trimmed, but count
    /// towards the 64).
    static func checkUsername(_ value: String) throws -> String {
        guard value.count <= 64 else {
            throw AppError.invalidField("username", reason: "use 1-64 letters, digits, '.', '_' or '-'")
        }
        let username = value.trimmingCharacters(in: .whitespaces)
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !username.isEmpty, username.count <= 64, username.unicodeScalars.allSatisfy(allowed.contains),
            !username.hasPrefix("-")
        else {
            throw AppError.invalidField("username", reason: "use 1-64 letters, digits, '.', '_' or '-'")
        }
        return username
    }

    private func authorize(_ actor: Actor) throws {
        if case .user(let user) = actor { try user.require(.manageUsers) }
    }

    /// An admin does not demote, disable, delete or reset themselves through the API (they would lock
    /// themselves out mid-session); another admin, or the CLI, can.
    private func refuseOwnAccount(_ userID: Int, _ actor: Actor) throws {
        if case .user(let user) = actor, user.id == userID { throw ConflictError.ownAccount }
    }

    /// A user that exists and is not deleted.
    private func find(_ userID: Int) async throws -> User {
        guard let user = try await User.find(userID, on: db), user.deletedAt == nil else {
            throw AppError.notFound("User")
        }
        return user
    }

    /// Runs `change` in a transaction, one at a time (across instances on PostgreSQL), and refuses it when it
    /// takes the number of admins who are neither disabled nor deleted from one or more to none.
    private func guardingAdmins(_ change: @escaping @Sendable (any Database) async throws -> Void) async throws {
        let db = self.db
        try await queues.serialized("users:admins") {
            try await db.transaction { tx in
                try await TransactionLocks.lock("users:admins", on: tx)
                func activeAdmins() async throws -> Int {
                    try await User.query(on: tx).filter(\.$role == .admin).filter(\.$isDisabled == false)
                        .filter(\.$deletedAt == nil).count()
                }
                let before = try await activeAdmins()
                try await change(tx)
                if before > 0, try await activeAdmins() == 0 { throw ConflictError.lastAdmin }
            }
        }
    }

    /// Deletes the user's sessions (but `keeping`) and closes their live streams; with `closingTokens`
    /// also the streams opened with their tokens.
    ///
    /// - Returns: how many sessions ended.
    @discardableResult
    private func endSessions(of userID: Int, keeping: Int?, closingTokens: Bool) async throws -> Int {
        var sessions = try await UserSession.query(on: db).filter(\.$user.$id == userID).all()
        if let keeping { sessions.removeAll { $0.id == keeping } }
        for session in sessions {
            try await session.delete(on: db)
            if let id = session.id { await connections.close(authenticatedBy: .session(id)) }
        }
        if closingTokens {
            for token in try await APIToken.query(on: db).filter(\.$user.$id == userID).all() {
                if let id = token.id { await connections.close(authenticatedBy: .token(id)) }
            }
        }
        return sessions.count
    }
}

extension UserService.Actor: CustomStringConvertible {
    /// `user:NAME` or `cli:OSUSER` (log metadata and audit entries).
    var description: String {
        switch self {
        case .user(let user): "user:\(user.username)"
        case .console(let osUser): "cli:\(osUser)"
        }
    }
}
