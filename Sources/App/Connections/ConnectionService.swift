import Bitbucket
import Fluent
import Foundation
import Logging
import PipewrightCore

/// Bitbucket workspaces and their credentials (docs/API.md "Bitbucket connections"). The token is
/// sealed at rest and never returned.
struct ConnectionService: Sendable {
    let db: any Database
    let vault: SecretVault
    let clients: BitbucketClients
    let now: @Sendable () -> Date
    let logger: Logger

    /// A new connection's credentials as the user entered them.
    struct Credentials: Sendable {
        /// `api_token` (Basic e-mail:token) or `access_token` (Bearer).
        var type: String
        var email: String?
        var token: Secret<String>
    }

    /// What `GET /user` said with the stored credentials.
    enum Verification: Sendable {
        case verified(BitbucketUser)
        case failed(any Error)
    }

    /// Stores a connection with its token sealed.
    ///
    /// - Throws: `AppError.invalidField` naming the field (`name`, `workspace`, `auth.type`, `auth.token`,
    ///   `auth.email`).
    func create(name: String, workspace: String, credentials: Credentials, owner: AuthenticatedUser) async throws
        -> Connection
    {
        try owner.require(.changeConnections)
        let name = try FieldRules.name(name, field: "name")
        let workspace = try FieldRules.slug(workspace, field: "workspace")
        let (type, token, email) = try Self.check(credentials)
        let connection = Connection()
        connection.$owner.id = owner.id
        connection.name = name
        connection.workspace = workspace
        connection.authType = type
        connection.email = email
        let vault = self.vault
        try await db.transaction { tx in
            try await connection.create(on: tx)
            connection.sealedToken = try vault.seal(token, for: .connectionToken, row: try connection.requireID())
            try await connection.save(on: tx)
        }
        return connection
    }

    /// A connection after `update`, and what Bitbucket said about replaced credentials (`nil` when the
    /// credentials were kept).
    struct Update: Sendable {
        var connection: Connection
        var verification: Verification?
    }

    /// Renames the connection and/or replaces its credentials (sealed with `SecretVault` like on create; the
    /// workspace stays). New credentials are verified at once with `GET /user`: the outcome is returned, and
    /// a failure keeps the new credentials (so a token whose scopes are being fixed can be stored first).
    ///
    /// - Throws: `AppError.notFound`, `AppError.forbidden` (role), `AppError.invalidField` naming the field.
    func update(connectionID: Int, name: String?, credentials: Credentials?, by user: AuthenticatedUser)
        async throws -> Update
    {
        let connection = try await Connection.find(connectionID, for: .changeConnections, by: user, on: db)
        let name = try name.map { try FieldRules.name($0, field: "name") }
        let checked = try credentials.map { try Self.check($0) }
        if let name { connection.name = name }
        if let (type, token, email) = checked {
            connection.authType = type
            connection.email = email
            connection.sealedToken = try vault.seal(token, for: .connectionToken, row: connectionID)
            connection.accountName = nil
            connection.lastVerifiedAt = nil
        }
        try await connection.save(on: db)
        guard checked != nil else { return Update(connection: connection, verification: nil) }
        let verification = try await verify(connection)
        return Update(connection: connection, verification: verification)
    }

    /// Validated credentials: the type, the trimmed token, the e-mail (API tokens only).
    private static func check(_ credentials: Credentials) throws -> (Connection.AuthType, String, String?) {
        guard let type = Connection.AuthType(rawValue: credentials.type) else {
            throw AppError.invalidField("auth.type", reason: "must be api_token or access_token")
        }
        let token = credentials.token.value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.utf8.count <= 4096 else {
            throw AppError.invalidField("auth.token", reason: "must be 1-4096 bytes")
        }
        try FieldRules.noControlCharacters(token, field: "auth.token")
        var email: String?
        if type == .apiToken {
            guard let given = credentials.email?.trimmingCharacters(in: .whitespaces), given.contains("@"),
                given.count <= 254
            else {
                throw AppError.invalidField(
                    "auth.email",
                    reason: "API tokens authenticate with your Atlassian account e-mail (Basic email:token)")
            }
            try FieldRules.noControlCharacters(given, field: "auth.email")
            email = given
        }
        return (type, token, email)
    }

    func list(page: PipewrightCore.PageRequest, for user: AuthenticatedUser) async throws -> (
        items: [Connection], total: Int
    ) {
        try await Connection.page(visibleTo: user, page, on: db)
    }

    func show(connectionID: Int, for user: AuthenticatedUser) async throws -> Connection {
        try await Connection.find(connectionID, visibleTo: user, on: db)
    }

    /// Deletes a connection no pipeline uses.
    ///
    /// - Throws: `ConflictError.connectionInUse`.
    func delete(connectionID: Int, by user: AuthenticatedUser) async throws {
        let connection = try await Connection.find(connectionID, for: .changeConnections, by: user, on: db)
        let users = try await Pipeline.query(on: db).filter(\.$connection.$id == connectionID).count()
        guard users == 0 else { throw ConflictError.connectionInUse(pipelines: users) }
        try await connection.delete(on: db)
    }

    /// Calls `GET /user` with the stored credentials; on success stores the account name and the time.
    func verify(connectionID: Int, for user: AuthenticatedUser) async throws -> Verification {
        try await verify(try await Connection.find(connectionID, for: .changeConnections, by: user, on: db))
    }

    private func verify(_ connection: Connection) async throws -> Verification {
        let client = try clients.client(for: connection, logger: logger)
        do {
            let account = try await client.currentUser()
            connection.accountName = account.displayName
            connection.lastVerifiedAt = now()
            try await connection.save(on: db)
            return .verified(account)
        } catch {
            return .failed(error)
        }
    }
}
