/// Why a ``BitbucketHTTPTransport`` produced no HTTP response.
public enum BitbucketTransportError: Error, Sendable, Equatable {
    /// Connecting, or waiting for the response, took longer than the request timeout.
    case timeout
    /// The connection could not be made or broke (DNS, refused, TLS, reset, body too large).
    /// `reason` is a short description of the transport failure; it never contains headers.
    case connection(reason: String)
}
