import Foundation
import PipewrightCore

/// How the client authenticates to Bitbucket Cloud
/// (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#authentication).
///
/// `description` never shows the token. Build the `Authorization` header only through
/// ``authorizationHeaderValue``, at the point of sending.
public enum BitbucketCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A user API token ("with scopes"): `Authorization: Basic base64(email:token)`. The user name is
    /// the Atlassian account **e-mail** (a username gives 401).
    /// https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/
    case apiToken(email: String, token: Secret<String>)
    /// A repository/project/workspace access token or an OAuth 2.0 access token:
    /// `Authorization: Bearer <token>`.
    /// https://support.atlassian.com/bitbucket-cloud/docs/repository-access-tokens/
    case accessToken(Secret<String>)

    /// The `Authorization` header value (`Basic …` or `Bearer …`).
    ///
    /// - Important: contains the secret; send it, never log it.
    public var authorizationHeaderValue: String {
        switch self {
        case .apiToken(let email, let token):
            "Basic " + Data("\(email):\(token.value)".utf8).base64EncodedString()
        case .accessToken(let token):
            "Bearer " + token.value
        }
    }

    /// `api_token` or `access_token` (safe to log).
    public var kind: String {
        switch self {
        case .apiToken: "api_token"
        case .accessToken: "access_token"
        }
    }

    /// Shows the kind and, for API tokens, the e-mail; never the token.
    public var description: String {
        switch self {
        case .apiToken(let email, _): "BitbucketCredentials.apiToken(email: \(email), token: <redacted>)"
        case .accessToken: "BitbucketCredentials.accessToken(<redacted>)"
        }
    }

    /// Same as ``description``.
    public var debugDescription: String { description }

    /// Replaces every occurrence of the token (and of the whole header value) in `text` with `<redacted>`.
    ///
    /// Used on server-provided error text before it reaches an error message or a log.
    func redacting(_ text: String) -> String {
        var result = text
        let secrets: [String] =
            switch self {
            case .apiToken(_, let token):
                [authorizationHeaderValue, String(authorizationHeaderValue.dropFirst(6)), token.value]
            case .accessToken(let token): [authorizationHeaderValue, token.value]
            }
        for secret in secrets where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return result
    }
}
