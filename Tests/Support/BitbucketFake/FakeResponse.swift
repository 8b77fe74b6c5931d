/// A response the fake sends.
public struct FakeResponse: Sendable {
    /// HTTP status.
    public var status: Int
    /// Header fields.
    public var headers: [(name: String, value: String)]
    /// Body bytes.
    public var body: [UInt8]
    /// When set, the server holds the response this long before sending it (cut short by `stop()`).
    public var holdFor: Duration?
    /// When `true`, the connection is broken instead of sending a usable response (after `holdFor`).
    public var dropsConnection = false

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `application/json` with `value` serialized.
    public static func json(_ value: FakeJSON, status: Int = 200, headers: [(name: String, value: String)] = [])
        -> FakeResponse
    {
        FakeResponse(
            status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
            body: Array(value.serialized().utf8))
    }

    /// `text/plain` with `text`.
    public static func text(_ text: String, status: Int, headers: [(name: String, value: String)] = []) -> FakeResponse
    {
        FakeResponse(status: status, headers: [("Content-Type", "text/plain")] + headers, body: Array(text.utf8))
    }

    /// The standard error envelope `{"type":"error","error":{"message",…}}`
    /// (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#standardized-error-responses).
    ///
    /// - Parameters:
    ///   - includeType: `false` mimics pipelines-service errors that omit `"type"`.
    public static func error(
        _ status: Int, message: String, detail: FakeJSON? = nil, fields: [String: [String]]? = nil,
        data: FakeJSON? = nil, includeType: Bool = true, headers: [(name: String, value: String)] = []
    ) -> FakeResponse {
        var error: [(String, FakeJSON)] = [("message", .string(message))]
        if let fields {
            error.append(
                (
                    "fields",
                    .object(fields.keys.sorted().map { ($0, .array(fields[$0, default: []].map(FakeJSON.string))) })
                ))
        }
        if let detail { error.append(("detail", detail)) }
        if let data { error.append(("data", data)) }
        var envelope: [(String, FakeJSON)] = includeType ? [("type", "error")] : []
        envelope.append(("error", .object(error)))
        return .json(.object(envelope), status: status, headers: headers)
    }

    /// `status` with no body.
    public static func empty(_ status: Int, headers: [(name: String, value: String)] = []) -> FakeResponse {
        FakeResponse(status: status, headers: headers)
    }
}
