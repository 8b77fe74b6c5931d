import AsyncHTTPClient
import Foundation
import NIOSSL
import PipewrightCore
import Testing

@testable import Bitbucket

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 13 item 7: network failures say what happened, come back within the connect timeout, and the
/// ones that cannot succeed are not retried. Real sockets on 127.0.0.1 and the real resolver.
@Suite(.serialized) struct BitbucketNetworkFailureTests {
    /// Counts what the real AsyncHTTPClient transport is asked to send.
    final class CountingTransport: BitbucketHTTPTransport, @unchecked Sendable {
        let base = AsyncHTTPClientTransport(httpClient: networkClient)
        private let lock = NSLock()
        private var sent = 0
        var count: Int { lock.withLock { sent } }

        func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
            -> BitbucketHTTPResponse
        {
            lock.withLock { sent += 1 }
            return try await base.send(request, timeout: timeout)
        }
    }

    static let networkClient = AsyncHTTPClientTransport.makeHTTPClient(connectTimeout: .seconds(3))

    func client(_ baseURL: String, _ transport: CountingTransport, requestTimeout: Duration = .seconds(30))
        -> LiveBitbucketClient
    {
        LiveBitbucketClient(
            baseURL: baseURL, credentials: .apiToken(email: testEmail, token: Secret(testToken)), transport: transport,
            retryPolicy: fastRetryPolicy, requestTimeout: requestTimeout)
    }

    @Test func closedPort_isConnectionRefused_namingHostAndPort_atOnce() async throws {
        let port = try closedPort()
        let transport = CountingTransport()
        let started = ContinuousClock.now
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await client("http://127.0.0.1:\(port)/2.0", transport).currentUser()
        }
        #expect(error == .transport(reason: .connectionRefused(host: "127.0.0.1", port: port)))
        #expect(error?.code == "bitbucket_connection_refused")
        #expect(
            error?.message.contains("connection_refused host=127.0.0.1 port=\(port)") == true, "\(error?.message ?? "")"
        )
        #expect(ContinuousClock.now - started < .seconds(3), "well within the connect timeout")
        #expect(transport.count == fastRetryPolicy.maxAttempts, "nothing was sent: a GET is tried again")
    }

    @Test func unresolvableName_isDNSFailure_notRetried() async throws {
        let transport = CountingTransport()
        let started = ContinuousClock.now
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await client("https://nonexistent.invalid/2.0", transport).currentUser()
        }
        #expect(
            error == .transport(reason: .dnsFailure(host: "nonexistent.invalid", permanent: true)),
            "\(String(describing: error))")
        #expect(error?.message.contains("dns_failure host=nonexistent.invalid (name does not exist)") == true)
        #expect(error?.details["transport_error"]?.hasPrefix("dns_failure host=nonexistent.invalid") == true)
        #expect(error?.handling == .fail)
        #expect(transport.count == 1, "NXDOMAIN is not retried")
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func httpsToAPlainPort_isTLSError() async throws {
        let listener = try LoopbackListener(mode: .plainHTTP)
        defer { listener.close() }
        let transport = CountingTransport()
        let started = ContinuousClock.now
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await client("https://127.0.0.1:\(listener.port)/2.0", transport).currentUser()
        }
        #expect(error?.code == "bitbucket_tls_error", "\(String(describing: error))")
        #expect(error?.message.contains("tls_error (handshake failed") == true, "\(error?.message ?? "")")
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func refusedCertificate_isTLSCertificateError_thatIsNotRetried() {
        // A certificate that does not fit the host (NIOSSL's hostname validation) cannot succeed later.
        let classified = AsyncHTTPClientTransport.classify(
            NIOSSLExtraError.failedToValidateHostname, url: "https://api.bitbucket.org/2.0/user")
        guard case .tls(_, let certificate) = classified else {
            Issue.record("\(classified)")
            return
        }
        #expect(certificate)
        let error = BitbucketError.transport(reason: .tlsError(reason: "hostname mismatch", certificate: true))
        #expect(error.handling == .fail)
        #expect(error.code == "bitbucket_tls_error")
        #expect(error.message.contains("tls_error (certificate refused: hostname mismatch)"))
    }

    @Test func listenerThatNeverAnswers_isTimeoutAfterTheRequestTimeout() async throws {
        let listener = try LoopbackListener(mode: .silent)
        defer { listener.close() }
        let transport = CountingTransport()
        let started = ContinuousClock.now
        let error = await expectBitbucketError { () async throws(BitbucketError) in
            try await client("http://127.0.0.1:\(listener.port)/2.0", transport, requestTimeout: .seconds(1))
                .triggerPipeline(workspace: "acme", slug: "web", target: .branch("main"))
        }
        #expect(error == .transport(reason: .timeout(after: .seconds(1))))
        #expect(error?.message.contains("timeout after 1 s") == true, "\(error?.message ?? "")")
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(transport.count == 1, "a POST is not repeated by the client")
    }

    // MARK: - Helpers

    /// A port on 127.0.0.1 that nothing listens on (bound, read, closed).
    func closedPort() throws -> Int {
        let listener = try LoopbackListener(mode: .silent)
        let port = listener.port
        listener.close()
        return port
    }
}

/// A TCP listener on 127.0.0.1: `.silent` never accepts (connections complete in the kernel's backlog
/// and are never answered); `.plainHTTP` accepts and answers every connection with a plain HTTP 400.
final class LoopbackListener: @unchecked Sendable {
    enum Mode { case silent, plainHTTP }

    let descriptor: Int32
    let port: Int
    private var thread: Thread?

    init(mode: Mode) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        descriptor = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: address.sin_port))
        if mode == .plainHTTP {
            let descriptor = self.descriptor
            let thread = Thread {
                while true {
                    let client = accept(descriptor, nil, nil)
                    if client < 0 { return }
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = read(client, &buffer, buffer.count)
                    let answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    _ = answer.withCString { write(client, $0, strlen($0)) }
                    Glibc.close(client)
                }
            }
            thread.start()
            self.thread = thread
        }
    }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}
