/// The side-effect seam of the Bitbucket client: send one HTTP request and return its response.
///
/// Implementations must **not** follow redirects: the client decides whether to follow a `3xx`
/// and strips `Authorization` when the target is another host (a completed step's log redirects to
/// long-term storage elsewhere). ``AsyncHTTPClientTransport`` is the live implementation; tests use the loopback
/// fake server or a closure-backed stub.
public protocol BitbucketHTTPTransport: Sendable {
    /// Sends `request` and returns the response, whatever its status.
    ///
    /// - Parameters:
    ///   - request: method, absolute URL, headers and body.
    ///   - timeout: limit for the whole exchange (connect, send, receive).
    /// - Returns: status, headers and the whole body.
    /// - Throws: ``BitbucketTransportError/timeout`` or ``BitbucketTransportError/connection(reason:)``
    ///   when no response was received.
    func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
        -> BitbucketHTTPResponse
}
