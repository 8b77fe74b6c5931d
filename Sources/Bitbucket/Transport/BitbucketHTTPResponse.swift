/// One HTTP response as returned by a ``BitbucketHTTPTransport`` (redirects are not followed).
public struct BitbucketHTTPResponse: Sendable, Equatable {
    /// HTTP status code (`200`, `307`, `429`, …).
    public var status: Int
    /// Response header fields.
    public var headers: BitbucketHTTPHeaders
    /// The whole body (bounded by the transport's size limit).
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: BitbucketHTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
