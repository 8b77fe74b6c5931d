import Foundation
import Vapor

/// A loopback fake of Bitbucket Cloud REST 2.0 (https://developer.atlassian.com/cloud/bitbucket/rest/intro/)
/// for tests, including the real API's known quirks (missing `next`, log redirects, text/plain 429s, …).
///
/// ```swift
/// let server = try await FakeBitbucketServer.start()
/// defer { Task { try await server.stop() } }   // or call stop() at the end of the test
/// await server.acceptedAPIToken(email: "dev@example.com", token: "tok")
/// await server.addRepository(workspace: "acme", slug: "web", mainBranch: "main", files: ["README.md": "hi"])
/// let client = LiveBitbucketClient(baseURL: server.baseURL, …)
/// ```
///
/// Implemented: `GET /user`; `GET /repositories/{ws}/{repo}`; `refs/branches` list/get/create/delete;
/// `GET /src/{commit-or-branch}/{path}` (files, `format=meta`, paginated listings with `max_depth`);
/// `POST /src` (multipart or urlencoded, `branch`/`parents`/`files` semantics, 409 on a moved tip,
/// 201 empty body); pull requests create/list (`state`, BBQL `q`)/get/update. Every list paginates
/// with `page`, `pagelen`, `size`, `next` (omittable). Auth: Basic and Bearer with real-looking 401s,
/// per-credential scopes → 403 with `detail.required`; injected failures and an hourly limit → 429
/// `text/plain` with no `Retry-After`. All state lives in one actor.
///
/// Pipelines (`FakeBitbucketServer+Pipelines.swift`): trigger (201, braced UUIDs, build numbers,
/// scripted trigger failures incl. accept-then-drop), list (filters, `sort`, no `next`), get by
/// `%7Buuid%7D` or build number, stop, steps, and step logs with `Range`/206/416/304/404/406 and a
/// 307 to a storage origin (`localhost` instead of `127.0.0.1`) that refuses `Authorization`. Runs
/// advance only when a test calls ``advancePipeline(_:)``.
///
/// Repository configuration for Pipelines (`FakeBitbucketServer+PipelinesSetup.swift`): `pipelines_config`
/// (404 before the first PUT), variables (409 on a duplicate key, secured values never returned), the SSH
/// key pair (404 when absent, private key write-only, RSA only unless Ed25519 is switched on), known hosts
/// (409 on a duplicate hostname, fingerprints computed from `key`), environments and deployment variables;
/// ``writeCount()`` counts the state-changing requests.
public final class FakeBitbucketServer: Sendable {
    /// `http://127.0.0.1:PORT/2.0`.
    public let baseURL: String
    /// The bound port.
    public let port: Int
    let backend: FakeBitbucketBackend
    let application: Application

    private init(application: Application, backend: FakeBitbucketBackend, port: Int) {
        self.application = application
        self.backend = backend
        self.port = port
        self.baseURL = "http://127.0.0.1:\(port)/2.0"
    }

    /// Starts a server on 127.0.0.1 with a random free port.
    ///
    /// - Throws: Vapor's startup errors.
    public static func start() async throws -> FakeBitbucketServer {
        var logger = Logger(label: "bitbucket-fake")
        logger.logLevel = .error
        let application = try await Application.make(.testing, logger: logger)
        application.logger.logLevel = .error
        application.http.server.configuration.hostname = "127.0.0.1"
        application.http.server.configuration.port = 0
        let backend = FakeBitbucketBackend()
        for method: HTTPMethod in [.GET, .POST, .PUT, .DELETE, .PATCH] {
            application.on(method, "**", body: .collect(maxSize: "64mb")) { request async -> Response in
                await Self.respond(to: request, backend: backend)
            }
        }
        do {
            try await application.asyncBoot()
            try await application.server.start(address: .hostname("127.0.0.1", port: 0))
        } catch {
            try? await application.asyncShutdown()
            throw error
        }
        guard let port = application.http.server.shared.localAddress?.port else {
            await application.server.shutdown()
            try? await application.asyncShutdown()
            throw Abort(.internalServerError, reason: "fake Bitbucket did not bind a port")
        }
        return FakeBitbucketServer(application: application, backend: backend, port: port)
    }

    /// Stops the server and releases the port.
    public func stop() async throws {
        await backend.markStopping()
        await application.server.shutdown()
        try await application.asyncShutdown()
    }

    private static func respond(to request: Request, backend: FakeBitbucketBackend) async -> Response {
        var body: [UInt8] = []
        if var buffer = request.body.data, let bytes = buffer.readBytes(length: buffer.readableBytes) { body = bytes }
        var path = request.url.path
        if path.isEmpty { path = "/" }
        let fake = FakeRequest(
            method: request.method.rawValue, path: path, rawQuery: request.url.query,
            headers: request.headers.map { (name: $0.name, value: $0.value) }, body: body)
        let answer = await backend.handle(fake)
        if let hold = answer.holdFor {
            let deadline = ContinuousClock.now.advanced(by: hold)
            while ContinuousClock.now < deadline, await !backend.isStopping {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        if answer.dropsConnection {
            // Headers go out, then the body fails: the connection is closed without a usable response.
            let response = Response(status: .created, headers: ["Content-Type": "application/json"])
            response.body = Response.Body(asyncStream: { writer in
                try? await writer.write(.error(Abort(.internalServerError, reason: "dropped by the fake")))
            })
            return response
        }
        var headers = HTTPHeaders()
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        return Response(
            status: HTTPResponseStatus(statusCode: answer.status), headers: headers,
            body: answer.body.isEmpty ? .empty : .init(data: Data(answer.body)))
    }

    // MARK: - Credentials and behaviour

    /// Accepts `Authorization: Basic base64(email:token)` (a user API token).
    ///
    /// - Parameter scopes: granted legacy scopes (`repository`, `pullrequest:write`, …); `nil` grants all.
    public func acceptedAPIToken(email: String, token: String, scopes: Set<String>? = nil, user: FakeUser? = nil) async
    {
        let user = user ?? FakeUser(displayName: email, nickname: String(email.split(separator: "@").first ?? "user"))
        await backend.addCredential(
            FakeCredential(
                id: "basic:" + email, kind: .basic(username: email, secret: token), scopes: scopes, user: user))
    }

    /// Accepts `Authorization: Bearer token` (repository/workspace access token or OAuth).
    ///
    /// - Parameter scopes: granted legacy scopes; `nil` grants all.
    public func acceptedAccessToken(_ token: String, scopes: Set<String>? = nil, user: FakeUser? = nil) async {
        let user = user ?? FakeUser(displayName: "Repository Access Token", nickname: "access-token-bot")
        await backend.addCredential(
            FakeCredential(id: "bearer:\(token.hashValue)", kind: .bearer(token: token), scopes: scopes, user: user))
    }

    /// The next `count` requests (after being recorded) get `failure` instead of being handled.
    public func failNext(_ count: Int, with failure: FakeFailure) async {
        await backend.injectFailures(Array(repeating: failure, count: count))
    }

    /// Limits each credential to `limit` requests per sliding hour (`nil` = unlimited); over it → 429.
    ///
    /// - Parameter sendsHeaders: add `X-RateLimit-Limit`/`X-RateLimit-Resource` for access tokens.
    public func setHourlyLimit(_ limit: Int?, sendsHeaders: Bool = false) async {
        await backend.setHourlyLimit(limit, sendsHeaders: sendsHeaders)
    }

    /// Omit `next` from every paginated list (the pipelines list often has none on Bitbucket), and/or cap
    /// `pagelen` below 100 to force several pages.
    public func setPagination(omitNext: Bool? = nil, maxPagelen: Int? = nil) async {
        await backend.setPagination(omitNext: omitNext, maxPagelen: maxPagelen)
    }

    // MARK: - Repositories

    /// Adds a repository whose main branch holds `files` in one root commit (no commit when `files`
    /// is empty: an empty repository without `mainbranch`).
    ///
    /// - Returns: the root commit hash, or `nil` for an empty repository.
    @discardableResult
    public func addRepository(
        workspace: String, slug: String, mainBranch: String = "main", files: [String: String] = [:],
        isPrivate: Bool = true
    ) async -> String? {
        await backend.addRepository(
            workspace: workspace, slug: slug, mainBranch: mainBranch, files: files.mapValues { Array($0.utf8) },
            isPrivate: isPrivate)
    }

    /// Creates (or moves) `name` to a new commit on top of `from` (a branch name or hash) writing `files`.
    ///
    /// - Returns: the new commit hash, or `nil` when the repository or `from` is unknown.
    @discardableResult
    public func addBranch(
        workspace: String, slug: String, name: String, from: String, files: [String: String] = [:],
        message: String? = nil
    ) async -> String? {
        await backend.addBranch(
            workspace: workspace, slug: slug, name: name, from: from, files: files.mapValues { Array($0.utf8) },
            message: message)
    }

    /// Adds an OPEN (or other `state`) pull request directly, without diff checks.
    ///
    /// - Returns: the id, or `nil` for an unknown repository.
    @discardableResult
    public func addPullRequest(
        workspace: String, slug: String, title: String, source: String, destination: String, state: String = "OPEN"
    ) async -> Int? {
        await backend.addPullRequest(
            workspace: workspace, slug: slug, title: title, source: source, destination: destination, state: state)
    }

    // MARK: - Inspection

    /// Every request received so far, in order (headers include `Authorization`).
    public func requests() async -> [FakeRequest] { await backend.recorded }

    /// Forgets the recorded requests.
    public func clearRequests() async { await backend.clearRecorded() }

    /// Tip hash of `branch`, or `nil`.
    public func branchHead(workspace: String, slug: String, branch: String) async -> String? {
        await backend.repositorySnapshot(workspace, slug)?.branches[branch]
    }

    /// Contents of `path` at `ref` (branch name or hash) as UTF-8, or `nil`.
    public func fileAt(workspace: String, slug: String, ref: String, path: String) async -> String? {
        guard let repository = await backend.repositorySnapshot(workspace, slug) else { return nil }
        let hash = repository.branches[ref] ?? ref
        return repository.commit(matching: hash)?.files[path].map { String(decoding: $0, as: UTF8.self) }
    }

    /// All commits of the repository, oldest first.
    public func commits(workspace: String, slug: String) async -> [FakeCommit] {
        guard let repository = await backend.repositorySnapshot(workspace, slug) else { return [] }
        return repository.commitOrder.compactMap { repository.commits[$0] }
    }

    /// All pull requests of the repository, by id.
    public func pullRequests(workspace: String, slug: String) async -> [FakePullRequest] {
        await backend.repositorySnapshot(workspace, slug)?.pullRequests ?? []
    }

    /// The main branch name, or `nil` while the repository is empty.
    public func mainBranch(workspace: String, slug: String) async -> String? {
        await backend.repositorySnapshot(workspace, slug)?.mainBranch
    }
}
