import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/connections` body.
struct CreateConnectionRequest: Content {
    struct Auth: Content {
        /// `api_token` (needs `email`) or `access_token`.
        var type: String
        var email: String?
        var token: String
    }

    var name: String
    var workspace: String
    var auth: Auth
}

/// `PATCH /api/connections/{id}` body: each field optional; `auth` replaces the credentials (re-verified).
struct UpdateConnectionRequest: Content {
    var name: String?
    var auth: CreateConnectionRequest.Auth?
}

/// `PATCH /api/connections/{id}` response: the connection and, when the credentials were replaced, what
/// `GET /user` said with them (`null` otherwise).
struct UpdatedConnectionResponse: Content {
    var connection: ConnectionResponse
    var verification: VerifyConnectionResponse?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(connection, forKey: .connection)
        try container.encode(verification, forKey: .verification)
    }
}

/// A connection as shown to clients: never the token.
struct ConnectionResponse: Content {
    var id: Int
    var name: String
    var workspace: String
    var authType: String
    var email: String?
    var accountName: String?
    var lastVerifiedAt: Date?
    var createdAt: Date?

    init(_ connection: Connection) throws {
        id = try connection.requireID()
        name = connection.name
        workspace = connection.workspace
        authType = connection.authType.rawValue
        email = connection.email
        accountName = connection.accountName
        lastVerifiedAt = connection.lastVerifiedAt
        createdAt = connection.createdAt
    }
}

/// `POST /api/connections/{id}/verify` response.
struct VerifyConnectionResponse: Content {
    struct Account: Content {
        var uuid: String?
        var displayName: String?
        var nickname: String?
    }

    var ok: Bool
    var account: Account?
    var error: OperationErrorResponse?
    /// Problems that do not fail the verification but will bite: a `PIPEWRIGHT_PUBLIC_URL` Bitbucket cannot
    /// reach (`PublicURLCheck`). Empty when there are none.
    var warnings: [String] = []
}
