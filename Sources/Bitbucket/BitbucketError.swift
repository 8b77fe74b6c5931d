import PipewrightCore

/// Everything the Bitbucket client throws, classified for callers and the HTTP adapter.
///
/// Messages and details never contain the token or the `Authorization` header (server text is
/// redacted before it is stored here). ``code`` values are stable `snake_case`.
public enum BitbucketError: PipewrightError, Equatable {
    /// Where a transport failure came from.
    public enum TransportReason: Sendable, Equatable {
        /// No answer within `after` (connect, read or overall deadline): `timeout after 30 s`.
        case timeout(after: Duration)
        /// The host name did not resolve: `dns_failure host=api.bitbucket.org`. `permanent` when the name
        /// does not exist (NXDOMAIN, `EAI_NONAME`/`EAI_FAIL`): retrying cannot help; otherwise a temporary
        /// resolver failure (`EAI_AGAIN`).
        case dnsFailure(host: String, permanent: Bool)
        /// Nothing listens at `host`:`port` (TCP RST): the request was never sent.
        case connectionRefused(host: String, port: Int)
        /// The TLS handshake failed: `certificate` when the server's certificate was refused (expired,
        /// wrong name, untrusted: retrying cannot help); otherwise a handshake failure, e.g. a server
        /// that does not speak TLS on that port. `reason` is short and header-free.
        case tlsError(reason: String, certificate: Bool)
        /// Any other broken connection (reset, closed mid-answer, body too large); short and header-free.
        case connection(String)
    }

    /// 401: credentials missing, wrong, expired, or of the wrong kind. `message` includes a hint about
    /// API tokens (Basic e-mail:token) and the app-password shutdown on 2026-06-09.
    case unauthorized(message: String)
    /// 403: authenticated but not allowed; `requiredScopes` from `error.detail.required` when present.
    case forbidden(message: String, requiredScopes: [String])
    /// 404: the workspace, repository, branch, path or pull request does not exist (or is hidden).
    case notFound(message: String)
    /// 409: e.g. `POST /src` whose `parents` is not the branch tip (the branch moved).
    case conflict(message: String)
    /// 400: rejected input; `fields` from `error.fields` (field → messages).
    case badRequest(message: String, fields: [String: [String]])
    /// 429 after the retry budget was used; `retryAfter` when the server sent `Retry-After`.
    case rateLimited(retryAfter: Duration?)
    /// Any other non-success status (5xx, unexpected 3xx/4xx).
    case upstream(status: Int, message: String)
    /// No HTTP response: timeout or connection failure.
    case transport(reason: TransportReason)
    /// A success status with a body that could not be understood (bad JSON, missing fields,
    /// a pagination link to another host).
    case invalidResponse(reason: String)

    /// Stable machine code, e.g. `bitbucket_unauthorized`, `bitbucket_timeout`.
    public var code: String {
        switch self {
        case .unauthorized: "bitbucket_unauthorized"
        case .forbidden: "bitbucket_forbidden"
        case .notFound: "bitbucket_not_found"
        case .conflict: "bitbucket_conflict"
        case .badRequest: "bitbucket_bad_request"
        case .rateLimited: "bitbucket_rate_limited"
        case .upstream: "bitbucket_upstream_error"
        case .transport(.timeout): "bitbucket_timeout"
        case .transport(.dnsFailure): "bitbucket_dns_failure"
        case .transport(.connectionRefused): "bitbucket_connection_refused"
        case .transport(.tlsError): "bitbucket_tls_error"
        case .transport(.connection): "bitbucket_unreachable"
        case .invalidResponse: "bitbucket_invalid_response"
        }
    }

    /// One human sentence, safe to show.
    public var message: String {
        switch self {
        case .unauthorized(let message), .notFound(let message), .conflict(let message):
            message
        case .forbidden(let message, let scopes):
            scopes.isEmpty ? message : "\(message) Required scopes: \(scopes.joined(separator: ", "))."
        case .badRequest(let message, _):
            message
        case .rateLimited(let retryAfter):
            if let retryAfter {
                "Bitbucket rate limit exceeded; retry after \(retryAfter.components.seconds) s."
            } else {
                "Bitbucket rate limit exceeded (1,000 requests per hour per credential for repository APIs)."
            }
        case .upstream(let status, let message):
            "Bitbucket answered HTTP \(status): \(message)"
        case .transport(let reason):
            "Bitbucket could not be reached: \(reason.summary)."
        case .invalidResponse(let reason):
            "Bitbucket sent a response that could not be understood: \(reason)."
        }
    }

    /// Machine-readable context: `required_scopes`, `fields.<name>`, `status`, `retry_after_s`, and for
    /// transport failures `transport_error` (the `summary` below).
    public var details: [String: String] {
        switch self {
        case .forbidden(_, let scopes) where !scopes.isEmpty:
            ["required_scopes": scopes.joined(separator: ",")]
        case .badRequest(_, let fields):
            Dictionary(uniqueKeysWithValues: fields.map { ("fields.\($0.key)", $0.value.joined(separator: "; ")) })
        case .upstream(let status, _):
            ["status": String(status)]
        case .rateLimited(let retryAfter?):
            ["retry_after_s": String(retryAfter.components.seconds)]
        case .transport(let reason):
            ["transport_error": reason.summary]
        default:
            [:]
        }
    }

    /// The sentence appended to every 401: most 401s come from pairing the wrong user name with the
    /// credential (a username with an API token, an e-mail with an app password) or from a token without
    /// scopes (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#authentication).
    public static let authenticationHint =
        "API tokens authenticate with Basic <Atlassian account e-mail>:<token> and need scopes; "
        + "repository, project and workspace access tokens use Bearer. "
        + "App passwords stop working on 2026-06-09 — replace them with an API token."
}

extension BitbucketError.TransportReason {
    /// What happened, in the words an operator greps for: `dns_failure host=api.bitbucket.org (name does
    /// not exist)`, `connection_refused host=127.0.0.1 port=9`, `tls_error (certificate: …)`,
    /// `timeout after 30 s`, `connection (…)`.
    public var summary: String {
        switch self {
        case .timeout(let after):
            "timeout after \(Self.seconds(after)) s"
        case .dnsFailure(let host, let permanent):
            "dns_failure host=\(host) (\(permanent ? "name does not exist" : "temporary resolver failure"))"
        case .connectionRefused(let host, let port):
            "connection_refused host=\(host) port=\(port)"
        case .tlsError(let reason, let certificate):
            "tls_error (\(certificate ? "certificate refused" : "handshake failed"): \(reason))"
        case .connection(let reason):
            "connection (\(reason))"
        }
    }

    /// `30`, `0.4`.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return String(seconds) }
        let tenths = Int64((Double(seconds) * 10 + Double(attoseconds) / 1e17).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
