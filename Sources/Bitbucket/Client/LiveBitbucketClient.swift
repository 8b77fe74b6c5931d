import Foundation
import Logging
import PipewrightCore

/// The HTTP implementation of ``BitbucketAPI`` over a ``BitbucketHTTPTransport``.
///
/// Behaviour shared by every call:
/// - `Authorization` (from ``BitbucketCredentials``) is sent only to the base URL's origin; redirects
///   and links to other hosts are requested without it.
/// - Idempotent requests (`GET`, `PUT`, `DELETE`) are retried with ``retryPolicy`` on 429, 5xx and
///   transport failures, honouring `Retry-After` when present (Bitbucket's 429 normally carries none;
///   https://support.atlassian.com/bitbucket-cloud/docs/api-request-limits/). `POST` is never retried
///   automatically.
/// - Paginated lists follow `next` verbatim, fall back to `page + 1` when `next` is missing but
///   `size` shows more items, and de-duplicate (page-numbered lists can shift while being read).
/// - Each exchange is logged at `debug` with method, path (no query), status and duration — never
///   headers or bodies.
public struct LiveBitbucketClient: BitbucketAPI {
    /// The API root without a trailing slash, e.g. `https://api.bitbucket.org/2.0`.
    public let baseURL: String
    /// Retry policy for idempotent requests.
    public let retryPolicy: RetryPolicy
    /// Limit for one HTTP exchange (each retry gets a new one).
    public let requestTimeout: Duration

    let credentials: BitbucketCredentials
    let transport: any BitbucketHTTPTransport
    let clock: any Clock<Duration>
    let logger: Logger
    let origin: BitbucketOrigin?

    /// Most redirects followed for one request.
    static let maxRedirects = 5
    /// Most pages read for one list (a guard against a server that never ends a list).
    static let maxPages = 1_000

    /// Recommended policy: 5 attempts, 1 s base, 60 s cap, full jitter (pauses ≤ 2, 4, 8, 16 s).
    public static let defaultRetryPolicy = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), cap: .seconds(60))

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - baseURL: API root, `https://api.bitbucket.org/2.0` in production (`BITBUCKET_API_URL` points
    ///     tests at the fake); a trailing `/` is ignored.
    ///   - credentials: API token (Basic e-mail:token) or access token (Bearer).
    ///   - transport: the HTTP seam (``AsyncHTTPClientTransport`` in production).
    ///   - retryPolicy: backoff for idempotent requests (default ``defaultRetryPolicy``).
    ///   - clock: clock for retry pauses (inject a test clock in tests).
    ///   - logger: receives one `debug` line per exchange.
    ///   - requestTimeout: limit for one exchange (default 30 s).
    public init(
        baseURL: String = "https://api.bitbucket.org/2.0",
        credentials: BitbucketCredentials,
        transport: any BitbucketHTTPTransport,
        retryPolicy: RetryPolicy = LiveBitbucketClient.defaultRetryPolicy,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "pipewright.bitbucket"),
        requestTimeout: Duration = .seconds(30)
    ) {
        var trimmed = baseURL
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.baseURL = trimmed
        self.credentials = credentials
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.clock = clock
        self.logger = logger
        self.requestTimeout = requestTimeout
        self.origin = BitbucketOrigin(url: trimmed)
    }

    // MARK: - URLs

    /// `baseURL/seg/ments[/]?query`, each segment percent-encoded once.
    func url(_ segments: [String], trailingSlash: Bool = false, query: [(String, String)] = []) -> String {
        var url = baseURL + "/" + segments.map(BitbucketURLEncoding.encode).joined(separator: "/")
        if trailingSlash, !url.hasSuffix("/") { url += "/" }
        if !query.isEmpty { url += "?" + BitbucketURLEncoding.query(query) }
        return url
    }

    /// `["repositories", workspace, slug] + more`.
    func repositoryPath(_ workspace: String, _ slug: String, _ more: String...) -> [String] {
        ["repositories", workspace, slug] + more
    }

    // MARK: - Requests

    /// Performs one logical request (with retries when `idempotent`) and returns a 2xx response.
    ///
    /// - Throws: the classified ``BitbucketError`` for any non-2xx status or transport failure.
    func perform(
        method: String, url: String, body: [UInt8]? = nil, contentType: String? = nil,
        accept: String = "application/json", idempotent: Bool? = nil, followRedirects: Bool = false,
        headers extraHeaders: BitbucketHTTPHeaders = [:]
    ) async throws(BitbucketError) -> BitbucketHTTPResponse {
        let retryable = idempotent ?? (method != "POST" && method != "PATCH")
        let policy = retryable ? retryPolicy : .never
        let logger = self.logger
        return try await retry(
            policy: policy, clock: clock,
            classify: { (error: BitbucketError) in error.isRetryable ? .retry(retryAfter: error.retryAfter) : .stop },
            onRetry: { attempt, error, delay in
                logger.debug(
                    "bitbucket retry",
                    metadata: [
                        "method": .string(method), "attempt": .stringConvertible(attempt),
                        "error": .string(error.code), "delay_ms": .stringConvertible(Int64(delay.milliseconds)),
                    ])
            },
            operation: { (_: Int) async throws(BitbucketError) -> BitbucketHTTPResponse in
                let response = try await exchange(
                    method: method, url: url, body: body, contentType: contentType, accept: accept,
                    followRedirects: followRedirects, headers: extraHeaders)
                guard (200..<300).contains(response.status) else { throw classify(response) }
                return response
            })
    }

    /// One exchange, following up to ``maxRedirects`` redirects when asked; returns any status.
    ///
    /// `extraHeaders` (e.g. `Range`) are sent on every hop, redirects included; they must not carry
    /// credentials (only `Authorization` is origin-scoped).
    func exchange(
        method: String, url: String, body: [UInt8]?, contentType: String?, accept: String, followRedirects: Bool,
        headers extraHeaders: BitbucketHTTPHeaders = [:]
    ) async throws(BitbucketError) -> BitbucketHTTPResponse {
        var method = method
        var body = body
        var currentURL = url
        for _ in 0...Self.maxRedirects {
            var headers: BitbucketHTTPHeaders = ["Accept": accept, "User-Agent": "pipewright"]
            for field in extraHeaders where field.name.lowercased() != "authorization" {
                headers.add(name: field.name, value: field.value)
            }
            if let origin, BitbucketOrigin(url: currentURL) == origin {
                headers.add(name: "Authorization", value: credentials.authorizationHeaderValue)
            }
            if let contentType, body != nil { headers.add(name: "Content-Type", value: contentType) }
            let request = BitbucketHTTPRequest(method: method, url: currentURL, headers: headers, body: body)
            let started = ContinuousClock.now
            let response: BitbucketHTTPResponse
            do throws(BitbucketTransportError) {
                response = try await transport.send(request, timeout: requestTimeout)
            } catch {
                logExchange(method: method, url: currentURL, status: nil, started: started, failure: error)
                switch error {
                case .timeout: throw .transport(reason: .timeout(after: requestTimeout))
                case .dnsFailure(let host, let permanent):
                    throw .transport(reason: .dnsFailure(host: host, permanent: permanent))
                case .connectionRefused(let host, let port):
                    throw .transport(reason: .connectionRefused(host: host, port: port))
                case .tls(let reason, let certificate):
                    throw .transport(reason: .tlsError(reason: credentials.redacting(reason), certificate: certificate))
                case .connection(let reason): throw .transport(reason: .connection(credentials.redacting(reason)))
                }
            }
            logExchange(method: method, url: currentURL, status: response.status, started: started, failure: nil)
            guard followRedirects, [301, 302, 303, 307, 308].contains(response.status),
                let location = response.headers["Location"], !location.isEmpty
            else { return response }
            currentURL = resolve(location, against: currentURL)
            if response.status == 303 || ((response.status == 301 || response.status == 302) && method == "POST") {
                method = "GET"
                body = nil
            }
        }
        throw .invalidResponse(reason: "more than \(Self.maxRedirects) redirects")
    }

    /// An absolute `Location`/`next` (relative ones resolved against `base`'s origin).
    func resolve(_ location: String, against base: String) -> String {
        if location.contains("://") { return location }
        let prefix = BitbucketOrigin.prefix(of: base) ?? ""
        return location.hasPrefix("/") ? prefix + location : prefix + "/" + location
    }

    private func logExchange(
        method: String, url: String, status: Int?, started: ContinuousClock.Instant, failure: BitbucketTransportError?
    ) {
        guard logger.logLevel <= .debug else { return }
        var metadata: Logger.Metadata = [
            "method": .string(method), "path": .string(Self.pathOnly(url)),
            "duration_ms": .stringConvertible(Int64((ContinuousClock.now - started).milliseconds)),
        ]
        if let status { metadata["status"] = .stringConvertible(status) }
        if let failure { metadata["transport_error"] = .string(failure.kind) }
        logger.debug("bitbucket request", metadata: metadata)
    }

    /// The URL's path without scheme, host or query (queries of storage redirects carry signatures).
    static func pathOnly(_ url: String) -> String {
        var rest = Substring(url)
        if let schemeEnd = url.range(of: "://") {
            rest = url[schemeEnd.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        return String(rest.prefix { $0 != "?" && $0 != "#" })
    }

    // MARK: - Errors

    /// Maps a non-2xx response to a ``BitbucketError`` (tolerant of non-JSON bodies, redacted).
    func classify(_ response: BitbucketHTTPResponse) -> BitbucketError {
        let body = BitbucketErrorBody(body: response.body)
        func text(_ fallback: String) -> String {
            let summary = credentials.redacting(body.summary(fallback: fallback))
            return summary.count > 400 ? String(summary.prefix(400)) + "…" : summary
        }
        switch response.status {
        case 400:
            return .badRequest(message: text("Bad request"), fields: body.fields)
        case 401:
            return .unauthorized(
                message: "Bitbucket rejected the credentials (HTTP 401: \(text("Unauthorized"))). "
                    + BitbucketError.authenticationHint)
        case 403:
            return .forbidden(message: text("Forbidden"), requiredScopes: body.requiredScopes)
        case 404:
            return .notFound(message: text("Not found"))
        case 409:
            return .conflict(message: text("Conflict"))
        case 429:
            return .rateLimited(retryAfter: Self.retryAfter(response.headers["Retry-After"]))
        default:
            return .upstream(status: response.status, message: text("HTTP \(response.status)"))
        }
    }

    /// `Retry-After` as delta-seconds (`120`); HTTP-dates are ignored (Bitbucket sends none).
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value, let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
            return nil
        }
        return .seconds(seconds)
    }

    // MARK: - JSON

    /// Decodes `T` from `response`'s body.
    func decode<T: Decodable>(_ type: T.Type, from response: BitbucketHTTPResponse) throws(BitbucketError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw .invalidResponse(reason: "could not decode \(T.self): \(Self.describe(error))")
        }
    }

    /// Encodes `value` as a JSON body.
    func encode<T: Encodable>(_ value: T) throws(BitbucketError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw .invalidResponse(reason: "could not encode \(T.self)")
        }
    }

    /// A short, value-free description of a decoding error (coding path + kind).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)' at '\(path(context))'"
        case .typeMismatch(_, let context): return "wrong type at '\(path(context))'"
        case .valueNotFound(_, let context): return "null at '\(path(context))'"
        case .dataCorrupted(let context): return "malformed JSON at '\(path(context))'"
        @unknown default: return "undecodable"
        }
    }

    // MARK: - Pagination

    /// Reads every page of a list endpoint (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination).
    ///
    /// Follows `next` verbatim (it already carries the query; re-adding parameters duplicates them, which
    /// Bitbucket refuses with 400); without `next` (the pipelines list often has none), requests `page + 1` while
    /// `page × pagelen < size` (or, when `size` is missing, while pages come back full); stops on an
    /// empty page; de-duplicates by `key`.
    ///
    /// - Parameter pageLimit: when set, stop quietly after this many pages (a bounded look-up, e.g. the
    ///   most recent pipelines); when `nil`, more than ``maxPages`` pages is an error.
    /// - Throws: ``BitbucketError/invalidResponse(reason:)`` for a `next` on another host or more than
    ///   ``maxPages`` pages; any request error.
    func collectPages<Value: Decodable>(
        _ segments: [String], trailingSlash: Bool = false, query: [(String, String)], pagelen: Int,
        pageLimit: Int? = nil, key: (Value) -> String
    ) async throws(BitbucketError) -> [Value] {
        let baseQuery = query + [("pagelen", String(pagelen))]
        var nextURL = url(segments, trailingSlash: trailingSlash, query: baseQuery)
        var seen = Set<String>()
        var values: [Value] = []
        let limit = pageLimit.map { max(1, min($0, Self.maxPages)) }
        for _ in 0..<(limit ?? Self.maxPages) {
            let response = try await perform(method: "GET", url: nextURL)
            let page = try decode(BitbucketPage<Value>.self, from: response)
            for value in page.values where seen.insert(key(value)).inserted { values.append(value) }
            if let next = page.next, !next.isEmpty {
                let resolved = resolve(next, against: nextURL)
                guard BitbucketOrigin(url: resolved) == origin else {
                    throw .invalidResponse(reason: "pagination link points to another host")
                }
                nextURL = resolved
                continue
            }
            guard !page.values.isEmpty, let number = page.page else { return values }
            let length = max(page.pagelen ?? page.values.count, page.values.count)
            if let size = page.size {
                guard number * length < size, values.count < size else { return values }
            } else {
                guard page.values.count >= length else { return values }
            }
            nextURL = url(segments, trailingSlash: trailingSlash, query: baseQuery + [("page", String(number + 1))])
        }
        if limit != nil { return values }
        throw .invalidResponse(reason: "more than \(Self.maxPages) pages")
    }
}
