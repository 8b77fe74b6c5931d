import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import PipewrightCore

/// The live ``BitbucketHTTPTransport`` over AsyncHTTPClient.
///
/// The `HTTPClient` must be configured **not** to follow redirects
/// (`HTTPClient.Configuration(redirectConfiguration: .disallow)`), so that a `307` to log storage
/// reaches the Bitbucket client, which re-sends it without `Authorization`.
/// ``makeHTTPClient(connectTimeout:)`` builds such a client.
public struct AsyncHTTPClientTransport: BitbucketHTTPTransport {
    /// The shared client (its lifecycle belongs to the caller: shut it down on application stop).
    public let httpClient: HTTPClient
    /// Largest response body read into memory, in bytes; a longer body fails with
    /// ``BitbucketTransportError/connection(reason:)``.
    public let maxResponseBytes: Int

    /// Wraps `httpClient`.
    ///
    /// - Parameters:
    ///   - httpClient: a client configured with `redirectConfiguration: .disallow`.
    ///   - maxResponseBytes: body limit in bytes (default 64 MiB).
    public init(httpClient: HTTPClient, maxResponseBytes: Int = 64 * 1024 * 1024) {
        self.httpClient = httpClient
        self.maxResponseBytes = maxResponseBytes
    }

    /// A new `HTTPClient` on the shared event loop group that never follows redirects.
    ///
    /// - Parameter connectTimeout: TCP/TLS connect limit (default 10 s).
    /// - Returns: a client the caller must `shutdown()` when done.
    public static func makeHTTPClient(connectTimeout: Duration = .seconds(10)) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .nanoseconds(connectTimeout.clampedNanoseconds)
        // A refused connection fails at once (AHC would otherwise re-dial until the connect timeout);
        // the client's own RetryPolicy decides whether to try again.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Sends `request` with AsyncHTTPClient and collects the body.
    ///
    /// - Throws: ``BitbucketTransportError/timeout`` for connect/read/deadline timeouts,
    ///   ``BitbucketTransportError/connection(reason:)`` for everything else.
    public func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
        -> BitbucketHTTPResponse
    {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for field in request.headers { outgoing.headers.add(name: field.name, value: field.value) }
        if let body = request.body {
            outgoing.body = .bytes(body)
        } else if request.method == "POST" || request.method == "PUT" {
            // Bitbucket answers 411 Length Required to a body-less POST/PUT without Content-Length.
            outgoing.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        do {
            let response = try await httpClient.execute(
                outgoing, timeout: .nanoseconds(timeout.clampedNanoseconds))
            let buffer = try await response.body.collect(upTo: maxResponseBytes)
            var headers = BitbucketHTTPHeaders()
            for (name, value) in response.headers { headers.add(name: name, value: value) }
            return BitbucketHTTPResponse(
                status: Int(response.status.code), headers: headers, body: Array(buffer.readableBytesView))
        } catch let error as HTTPClientError {
            switch error {
            case .readTimeout, .connectTimeout, .deadlineExceeded, .writeTimeout:
                throw .timeout
            default:
                throw .connection(reason: String(describing: error))
            }
        } catch is CancellationError {
            throw .connection(reason: "cancelled")
        } catch let error as NIOTooManyBytesError {
            throw .connection(reason: "response body larger than \(maxResponseBytes) bytes (\(error))")
        } catch {
            throw .connection(reason: String(describing: type(of: error)))
        }
    }
}
