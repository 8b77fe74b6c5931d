import Foundation

/// The fake's state and request handling, serialised by the actor.
///
/// ``handle(_:)`` records the request, applies injected failures, authenticates, rate-limits, routes,
/// checks scopes and calls the route's handler (synchronously, isolated to the actor).
actor FakeBitbucketBackend {
    var credentials: [FakeCredential] = []
    var repositories: [String: FakeRepository] = [:]
    var recorded: [FakeRequest] = []
    var pendingFailures: [FakeFailure] = []
    var hourlyLimit: Int?
    var requestTimes: [String: [ContinuousClock.Instant]] = [:]
    /// Global switch: omit `next` from every paginated list (the pipelines list omits it anyway).
    var omitNextLinks = false
    /// Server-side cap on `pagelen` (Bitbucket: 100); lower it to force pagination in tests.
    var maxPagelen = 100
    /// When `true`, access-token 2xx responses carry `X-RateLimit-Limit`/`X-RateLimit-Resource`.
    var sendsRateLimitHeaders = false
    /// Pipelines, steps, logs and their scripted behaviour (`FakeBitbucketBackend+Pipelines.swift`).
    var pipelineStore = FakePipelineStore()
    /// Set by ``FakeBitbucketServer/stop()`` so held responses are released at once.
    var isStopping = false
    /// Whether `PUT …/ssh/key_pair` takes an `ssh-ed25519` key (unconfirmed for Bitbucket; off by default).
    var acceptsEd25519KeyPairs = false

    let routes: [FakeRoute] = FakeBitbucketBackend.allRoutes

    /// Every route of the fake, in matching order.
    static var allRoutes: [FakeRoute] {
        userRoutes + repositoryRoutes + branchRoutes + sourceRoutes + pullRequestRoutes + pipelineRoutes
            + pipelinesSetupRoutes
    }

    // MARK: - Handling

    func handle(_ request: FakeRequest) -> FakeResponse {
        recorded.append(request)
        // Log storage (where completed steps' logs redirect) is another origin: no Bitbucket auth, failures or routes.
        if request.path.hasPrefix(Self.storagePathPrefix) { return storageResponse(request) }
        if !pendingFailures.isEmpty {
            switch pendingFailures.removeFirst() {
            case .tooManyRequests: return Self.rateLimitResponse
            case .serverError: return .error(500, message: "Internal Server Error")
            case .unauthorized: return Self.basicLoginFailed
            }
        }
        if request.path.contains("{") || request.path.contains("}") {
            return .error(
                400, message: "Bad request", detail: "Unexpected response body",
                data: ["key": "unexpected.response.body", "arguments": [:]], includeType: false)
        }
        let credential: FakeCredential
        switch authenticate(request) {
        case .success(let found): credential = found
        case .failure(let response): return response
        }
        if let limited = rateLimit(credential) { return limited }

        let segments = request.apiSegments
        var pathMatched = false
        for route in routes {
            guard let captures = route.match(segments) else { continue }
            pathMatched = true
            guard route.method == request.method else { continue }
            if let scope = route.scope, let granted = credential.scopes, !FakeCredential.expand(granted).contains(scope)
            {
                return .error(
                    403, message: "Your credentials lack one or more required privilege scopes.",
                    detail: ["required": [.string(scope)], "granted": .array(granted.sorted().map(FakeJSON.string))])
            }
            var response = route.handler(self, request, captures)
            if sendsRateLimitHeaders, case .bearer = credential.kind, let hourlyLimit {
                response.headers += [("X-RateLimit-Limit", String(hourlyLimit)), ("X-RateLimit-Resource", "api")]
            }
            return response
        }
        if pathMatched { return .error(405, message: "Method not allowed") }
        return .error(
            404, message: "Resource not found",
            detail: .string(
                "There is no API hosted at this URL.\n\nFor information about our API's, please refer to the documentation at: https://developer.atlassian.com/bitbucket/api/2/reference/"
            ))
    }

    // MARK: - Authentication and rate limiting

    static let basicLoginFailed = FakeResponse.text(
        "Login failed due to incorrect login credentials or method.\nFor information on authentication methods for Bitbucket Cloud APIs, visit:\n    https://developer.atlassian.com/cloud/bitbucket/rest/intro/#authentication\n",
        status: 401, headers: [("www-authenticate", "Basic realm=\"Bitbucket.org HTTP\"")])

    static let rateLimitResponse = FakeResponse(
        status: 429, headers: [("Content-Type", "text/plain"), ("Cache-Control", "no-cache, no-store")],
        body: Array("Rate limit for this resource has been exceeded".utf8))

    enum AuthResult {
        case success(FakeCredential)
        case failure(FakeResponse)
    }

    func authenticate(_ request: FakeRequest) -> AuthResult {
        guard let header = request.header("Authorization") else { return .failure(Self.basicLoginFailed) }
        if header.lowercased().hasPrefix("bearer ") {
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            if let credential = credentials.first(where: { $0.kind == .bearer(token: token) }) {
                return .success(credential)
            }
            return .failure(.error(401, message: "Token is invalid, expired, or not supported for this endpoint."))
        }
        if header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let decoded = String(data: data, encoding: .utf8), let colon = decoded.firstIndex(of: ":")
        {
            let kind = FakeCredential.Kind.basic(
                username: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...]))
            if let credential = credentials.first(where: { $0.kind == kind }) { return .success(credential) }
        }
        return .failure(Self.basicLoginFailed)
    }

    /// Sliding one-hour window per credential (https://support.atlassian.com/bitbucket-cloud/docs/api-request-limits/).
    func rateLimit(_ credential: FakeCredential) -> FakeResponse? {
        guard let hourlyLimit else { return nil }
        let now = ContinuousClock.now
        var times = requestTimes[credential.id, default: []].filter { now - $0 < .seconds(3600) }
        defer { requestTimes[credential.id] = times }
        guard times.count < hourlyLimit else { return Self.rateLimitResponse }
        times.append(now)
        return nil
    }

    // MARK: - Shared helpers

    /// `http://host:port` the client used (from `Host`).
    func origin(of request: FakeRequest) -> String { "http://" + (request.header("Host") ?? "127.0.0.1") }

    /// `http://host:port/2.0`.
    func apiRoot(of request: FakeRequest) -> String { origin(of: request) + "/2.0" }

    func repositoryKey(_ workspace: String, _ slug: String) -> String { "\(workspace)/\(slug)".lowercased() }

    /// The repository or the 404 response Bitbucket gives for it.
    func repository(_ workspace: String, _ slug: String) -> Result<FakeRepository, FakeResponseError> {
        if let repository = repositories[repositoryKey(workspace, slug)] { return .success(repository) }
        if let repository = repositories.values.first(where: {
            ($0.uuid == slug || $0.slug.lowercased() == slug.lowercased())
                && $0.workspace.lowercased() == workspace.lowercased()
        }) {
            return .success(repository)
        }
        return .failure(FakeResponseError(.error(404, message: "Repository \(workspace)/\(slug) not found")))
    }

    func update(_ repository: FakeRepository) {
        repositories[repositoryKey(repository.workspace, repository.slug)] = repository
    }

    // MARK: - Pagination

    /// A paginated envelope over `items` honouring `page`, `pagelen` (1…``maxPagelen``), and building
    /// `next` from the request's own query with `page` replaced (so `next` keeps `q=` etc.).
    ///
    /// Duplicate `page`/`pagelen`/`q` parameters give 400 (catches a client that re-appends its parameters
    /// to a `next` URL that already carries them).
    func paginate(_ items: [FakeJSON], request: FakeRequest, defaultPagelen: Int = 10, omitNext: Bool = false)
        -> FakeResponse
    {
        for name in ["page", "pagelen", "q", "sort"] where request.queryValues(name).count > 1 {
            return .error(400, message: "Invalid query parameter", detail: .string("'\(name)' appears more than once"))
        }
        var pagelen = defaultPagelen
        if let raw = request.queryValue("pagelen") {
            guard let value = Int(raw), value >= 1 else {
                return .error(400, message: "Invalid pagelen", detail: .string("pagelen must be a positive integer"))
            }
            pagelen = value
        }
        pagelen = min(pagelen, maxPagelen, 100)
        var page = 1
        if let raw = request.queryValue("page") {
            guard let value = Int(raw), value >= 1 else {
                return .error(400, message: "Invalid page", detail: .string("page must be a positive integer"))
            }
            page = value
        }
        let start = min((page - 1) * pagelen, items.count)
        let end = min(start + pagelen, items.count)
        var envelope: [(String, FakeJSON)] = [
            ("pagelen", .int(pagelen)), ("size", .int(items.count)), ("values", .array(Array(items[start..<end]))),
            ("page", .int(page)),
        ]
        if end < items.count, !omitNext, !omitNextLinks {
            envelope.append(("next", .string(pageURL(request, page: page + 1))))
        }
        if page > 1, !omitNext, !omitNextLinks {
            envelope.append(("previous", .string(pageURL(request, page: page - 1))))
        }
        return .json(.object(envelope))
    }

    /// The request's URL with `page` set (other raw query items kept as received).
    func pageURL(_ request: FakeRequest, page: Int) -> String {
        var items = (request.rawQuery ?? "").split(separator: "&").map(String.init).filter { !$0.hasPrefix("page=") }
        items.append("page=\(page)")
        return origin(of: request) + request.path + "?" + items.joined(separator: "&")
    }
}

/// A ready error response carried through `Result`.
struct FakeResponseError: Error {
    var response: FakeResponse
    init(_ response: FakeResponse) { self.response = response }
}
