import Fluent
import Foundation
import PipewrightCore

/// A token just issued: the row, and the secret shown this once (only its hash is stored).
struct IssuedToken: Sendable {
    var record: APIToken
    /// `pw_…`.
    var token: String
}

/// Creates API tokens (used by the endpoint and by `pipewright token create`).
enum TokenIssuer {
    static func issue(for userID: Int, name: String, expiresInDays: Int?, now: Date, on db: any Database) async throws
        -> IssuedToken
    {
        let secret = TokenHasher.randomToken(prefix: "pw_")
        let expiry = expiresInDays.map { now.addingTimeInterval(TimeInterval($0) * 86_400) }
        let token = APIToken(
            userID: userID, name: name, prefix: String(secret.prefix(10)), tokenHash: TokenHasher.hash(secret),
            expiresAt: expiry)
        try await token.create(on: db)
        return IssuedToken(record: token, token: secret)
    }
}

/// A user's API tokens (docs/API.md "Accounts and tokens").
struct TokenService: Sendable {
    let db: any Database
    let connections: RealtimeConnections
    let now: @Sendable () -> Date

    /// - Throws: `AppError.invalidField` for a bad name or `expires_in_days` outside 1...3650.
    func create(name: String, expiresInDays: Int?, for user: AuthenticatedUser) async throws -> IssuedToken {
        let name = try FieldRules.name(name, field: "name")
        if let days = expiresInDays, !(1...3650).contains(days) {
            throw AppError.invalidField("expires_in_days", reason: "must be between 1 and 3650")
        }
        return try await TokenIssuer.issue(for: user.id, name: name, expiresInDays: expiresInDays, now: now(), on: db)
    }

    func list(page: PipewrightCore.PageRequest, for user: AuthenticatedUser) async throws -> (
        items: [APIToken], total: Int
    ) {
        let query = APIToken.query(on: db).filter(\.$user.$id == user.id)
        let total = try await query.count()
        return (try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage)).all(), total)
    }

    /// Deletes the token; live streams opened with it end now, not when they next make a request.
    func revoke(tokenID: Int, by user: AuthenticatedUser) async throws {
        guard let token = try await APIToken.find(tokenID, on: db),
            token.$user.id == user.id || user.may(.manageUsers)
        else {
            throw AppError.notFound("Token")
        }
        try await token.delete(on: db)
        await connections.close(authenticatedBy: .token(tokenID))
    }
}
