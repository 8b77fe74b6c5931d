import Vapor
import Fluent
import AsyncHTTPClient
import Bitbucket
import Foundation
import Logging
import PipewrightCore
import SSHKeys

/// Builds Bitbucket clients for stored connections: opens the sealed token and points the client at
/// `BITBUCKET_API_URL`.
struct BitbucketGateway {
    let services: AppServices
    let logger: Logger

    /// A client speaking for `connection`.
    ///
    /// - Throws: `SSHKeyError.sealedSecretCorrupt` when the token does not open.
    func client(for connection: Connection) throws -> any BitbucketAPI {
        guard let sealed = connection.sealedToken else { throw SSHKeyError.sealedSecretCorrupt }
        let opened = try SealedSecret(base64: sealed).open(
            with: services.masterKey, associatedData: Connection.associatedData(id: try connection.requireID()))
        let token = Secret(String(decoding: opened.value, as: UTF8.self))
        let credentials: BitbucketCredentials
        switch connection.authType {
        case .apiToken: credentials = .apiToken(email: connection.email ?? "", token: token)
        case .accessToken: credentials = .accessToken(token)
        }
        return services.makeBitbucketClient(services.configuration.bitbucketAPIURL, credentials, logger)
    }
}
