/// One HTTP request as the Bitbucket client hands it to a ``BitbucketHTTPTransport``.
///
/// - Important: `headers` carries the `Authorization` header. Never log or print a request; the
///   client logs only method, path, status and duration.
public struct BitbucketHTTPRequest: Sendable, Equatable {
    /// `GET`, `POST`, `PUT`, `DELETE`, …
    public var method: String
    /// Absolute URL, already percent-encoded (`https://api.bitbucket.org/2.0/repositories/acme/web`).
    public var url: String
    /// Header fields, including `Authorization` when the target is Bitbucket itself.
    public var headers: BitbucketHTTPHeaders
    /// Body bytes, or `nil` for none.
    public var body: [UInt8]?

    /// Creates a request.
    public init(method: String, url: String, headers: BitbucketHTTPHeaders = [:], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}
