/// One request as the fake saw it (also what ``FakeBitbucketServer/requests()`` returns).
///
/// Headers are kept verbatim, **including `Authorization`**, so tests can assert whether credentials
/// were sent (e.g. never to log storage).
public struct FakeRequest: Sendable {
    /// `GET`, `POST`, …
    public var method: String
    /// Raw, percent-encoded path as received, e.g. `/2.0/repositories/acme/web/refs/branches/feature/ci-setup`.
    public var path: String
    /// Raw, percent-encoded query string (without `?`), or `nil`.
    public var rawQuery: String?
    /// Decoded query items in order (`+` is a space).
    public var query: [(name: String, value: String)]
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// Body bytes.
    public var body: [UInt8]

    /// Creates a request value.
    public init(
        method: String, path: String, rawQuery: String?, headers: [(name: String, value: String)], body: [UInt8]
    ) {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.query = FakeFormParser.parseURLEncoded(rawQuery ?? "")
        self.headers = headers
        self.body = body
    }

    /// First header value named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// All query values named `name`.
    public func queryValues(_ name: String) -> [String] { query.filter { $0.name == name }.map(\.value) }

    /// The first query value named `name`.
    public func queryValue(_ name: String) -> String? { queryValues(name).first }

    /// The body as UTF-8 text (lossy).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Decoded path segments after the `/2.0` prefix (`["repositories", "acme", "web", …]`).
    public var apiSegments: [String] {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map {
            FakeFormParser.percentDecode(String($0), plusIsSpace: false)
        }
        if segments.first == "2.0" { segments.removeFirst() }
        return segments
    }

    /// Whether the raw path ends with `/`.
    public var hasTrailingSlash: Bool { path.count > 1 && path.hasSuffix("/") }
}
