import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Foundation
import Logging
import PipewrightCore
import PipewrightTesting
import Testing

/// One HTTP client for every test in the process (never follows redirects).
let sharedHTTPClient = AsyncHTTPClientTransport.makeHTTPClient()

let testEmail = "dev@example.com"
let testToken = "ATATT3xFfGF0-secret-api-token-1234567890"
let testAccessToken = "access-token-secret-abcdef0123456789"

/// A fast policy for tests: `.none` jitter, microsecond delays.
let fastRetryPolicy = RetryPolicy(maxAttempts: 4, baseDelay: .microseconds(10), cap: .milliseconds(1), jitter: .none)

/// Starts a fake with one API token and one access token accepted, runs `body`, always stops it.
func withFakeBitbucket(
    _ body: (FakeBitbucketServer) async throws -> Void
) async throws {
    let server = try await FakeBitbucketServer.start()
    await server.acceptedAPIToken(email: testEmail, token: testToken)
    await server.acceptedAccessToken(testAccessToken)
    do {
        try await body(server)
    } catch {
        try await server.stop()
        throw error
    }
    try await server.stop()
}

/// A live client pointed at `server`.
func makeClient(
    _ server: FakeBitbucketServer,
    credentials: BitbucketCredentials = .apiToken(email: testEmail, token: Secret(testToken)),
    retryPolicy: RetryPolicy = fastRetryPolicy,
    clock: any Clock<Duration> = ContinuousClock(),
    logger: Logger = Logger(label: "test.bitbucket")
) -> LiveBitbucketClient {
    LiveBitbucketClient(
        baseURL: server.baseURL, credentials: credentials,
        transport: AsyncHTTPClientTransport(httpClient: sharedHTTPClient), retryPolicy: retryPolicy, clock: clock,
        logger: logger)
}

/// Runs `body` expecting a ``BitbucketError`` and returns it (records an issue otherwise).
func expectBitbucketError<T>(
    _ body: () async throws(BitbucketError) -> T, sourceLocation: SourceLocation = #_sourceLocation
) async -> BitbucketError? {
    do throws(BitbucketError) {
        let value = try await body()
        Issue.record("expected a BitbucketError, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Every string a secret could leak through.
func renderings(of error: BitbucketError) -> [String] {
    [error.message, error.code, String(describing: error), String(reflecting: error), "\(error.details)"]
}

/// A transport answering from a closure, recording requests (for unit tests without a server).
final class StubTransport: BitbucketHTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [BitbucketHTTPRequest] = []
    private let answer: @Sendable (BitbucketHTTPRequest, Int) throws(BitbucketTransportError) -> BitbucketHTTPResponse

    init(
        _ answer:
            @escaping @Sendable (BitbucketHTTPRequest, Int) throws(BitbucketTransportError) -> BitbucketHTTPResponse
    ) {
        self.answer = answer
    }

    var requests: [BitbucketHTTPRequest] { lock.withLock { sent } }

    func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
        -> BitbucketHTTPResponse
    {
        let index = lock.withLock {
            sent.append(request)
            return sent.count - 1
        }
        return try answer(request, index)
    }
}

/// A log handler keeping every rendered line (message + metadata) for leak assertions.
struct CapturingLogHandler: LogHandler {
    final class Store: @unchecked Sendable {
        private let lock = NSLock()
        private var storage: [String] = []
        var lines: [String] { lock.withLock { storage } }
        func append(_ line: String) { lock.withLock { storage.append(line) } }
    }

    let store: Store
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })")
    }
}
