import Bitbucket
import Fluent
import Logging
import PipewrightCore
import Vapor

/// Builds Bitbucket clients for stored connections: opens the sealed token and points the client at
/// `BITBUCKET_API_URL`.
struct BitbucketClients: Sendable {
    let vault: SecretVault
    let baseURL: String
    let makeClient: @Sendable (String, BitbucketCredentials, Logger) -> any BitbucketAPI

    /// A client speaking for `connection`.
    ///
    /// - Throws: `ConnectionError.tokenUnreadable` when the stored token does not open (another master
    ///   key, or corrupted data).
    func client(for connection: Connection, logger: Logger) throws -> any BitbucketAPI {
        let id = try connection.requireID()
        let token: Secret<String>
        do {
            token = try vault.openText(connection.sealedToken, for: .connectionToken, row: id)
        } catch {
            throw ConnectionError.tokenUnreadable(connectionID: id)
        }
        let credentials: BitbucketCredentials
        switch connection.authType {
        case .apiToken: credentials = .apiToken(email: connection.email ?? "", token: token)
        case .accessToken: credentials = .accessToken(token)
        }
        return makeClient(baseURL, credentials, logger)
    }
}

/// Refusals about a stored Bitbucket connection.
enum ConnectionError: APIErrorConvertible, Equatable {
    /// The sealed token of the connection does not open with the configured master key.
    case tokenUnreadable(connectionID: Int)

    var status: HTTPResponseStatus { .serviceUnavailable }
    var code: String { "connection_token_unreadable" }
    var message: String {
        switch self {
        case .tokenUnreadable(let id):
            "The stored Bitbucket token of connection \(id) cannot be opened (another master key or corrupted data); "
                + "check PIPEWRIGHT_MASTER_KEY, or create the connection again with the token."
        }
    }
    var details: [String: String] {
        switch self {
        case .tokenUnreadable(let id): ["connection_id": String(id)]
        }
    }
}
