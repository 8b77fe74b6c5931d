/// Why a ``BitbucketHTTPTransport`` produced no HTTP response.
public enum BitbucketTransportError: Error, Sendable, Equatable {
    /// Connecting, or waiting for the response, took longer than the request timeout.
    case timeout
    /// The host name did not resolve; `permanent` for NXDOMAIN (`EAI_NONAME`, `EAI_FAIL`).
    case dnsFailure(host: String, permanent: Bool)
    /// Connection refused (nothing listens there).
    case connectionRefused(host: String, port: Int)
    /// TLS handshake failed; `certificate` when the peer's certificate was refused.
    case tls(reason: String, certificate: Bool)
    /// The connection broke otherwise (reset, closed mid-answer, body too large).
    /// `reason` is a short description of the transport failure; it never contains headers.
    case connection(reason: String)
}

extension BitbucketTransportError {
    /// `timeout`, `dns_failure`, `connection_refused`, `tls_error`, `connection` (logs and metrics labels).
    public var kind: String {
        switch self {
        case .timeout: "timeout"
        case .dnsFailure: "dns_failure"
        case .connectionRefused: "connection_refused"
        case .tls: "tls_error"
        case .connection: "connection"
        }
    }
}
