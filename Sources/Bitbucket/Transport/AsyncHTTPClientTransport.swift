import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
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
        } catch is CancellationError {
            throw .connection(reason: "cancelled")
        } catch let error as NIOTooManyBytesError {
            throw .connection(reason: "response body larger than \(maxResponseBytes) bytes (\(error))")
        } catch {
            throw Self.classify(error, url: request.url)
        }
    }

    /// What a failed exchange means (docs/API.md "Retries of Bitbucket requests"): DNS failure (NXDOMAIN
    /// or temporary), refused connection, TLS certificate or handshake failure, timeout, other.
    static func classify(_ error: any Error, url: String) -> BitbucketTransportError {
        let components = URLComponents(string: url)
        let host = components?.host ?? "?"
        let port = components?.port ?? (components?.scheme == "http" ? 80 : 443)
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .readTimeout, .connectTimeout, .deadlineExceeded, .writeTimeout, .tlsHandshakeTimeout:
                return .timeout
            default:
                return .connection(reason: String(describing: error))
            }
        case let error as NIOConnectionError:
            if let dns = (error.dnsAError ?? error.dnsAAAAError) as? SocketAddressError.UnknownHost {
                return .dnsFailure(host: dns.host, permanent: dns.errorCode != Int(EAI_AGAIN))
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return .dnsFailure(host: error.host, permanent: false)
            }
            let refused = error.connectionErrors.allSatisfy {
                ($0.error as? IOError)?.errnoCode == ECONNREFUSED
            }
            if refused, !error.connectionErrors.isEmpty {
                return .connectionRefused(host: error.host, port: error.port)
            }
            if let first = error.connectionErrors.first {
                return classify(first.error, url: url)
            }
            return .connection(reason: "no address to connect to for \(error.host)")
        case let error as SocketAddressError.UnknownHost:
            return .dnsFailure(host: error.host, permanent: error.errorCode != Int(EAI_AGAIN))
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return .connectionRefused(host: host, port: port)
        case let error as IOError where error.errnoCode == ETIMEDOUT:
            return .timeout
        case let error as ChannelError:
            if case .connectTimeout = error { return .timeout }
            return .connection(reason: String(describing: error))
        case let error as NIOSSLError:
            let text = String(describing: error)
            let certificate = text.contains("CERTIFICATE") || text.contains("certificate")
            return .tls(reason: Self.shortTLSReason(text), certificate: certificate)
        case let error as NIOSSLExtraError:
            // failedToValidateHostname and friends: the certificate does not fit the host.
            return .tls(reason: String(describing: error), certificate: true)
        default:
            return .connection(reason: String(describing: type(of: error)))
        }
    }

    /// `handshakeFailed(sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER]))`
    /// → `WRONG_VERSION_NUMBER`.
    static func shortTLSReason(_ text: String) -> String {
        if let range = text.range(of: "OPENSSL_internal:") {
            let rest = text[range.upperBound...]
            return String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        }
        return String(text.prefix(120))
    }
}
