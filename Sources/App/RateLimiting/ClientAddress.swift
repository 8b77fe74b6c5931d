import Foundation
import PipewrightCore
import Vapor

extension Request {
    private struct ClientIPKey: StorageKey {
        typealias Value = String
    }

    /// The client's IP address, as used for rate limits and the audit log.
    ///
    /// The socket peer address; when that peer is one of `PIPEWRIGHT_TRUSTED_PROXIES`, the
    /// `X-Forwarded-For` chain is walked from the right, skipping trusted proxies, and the first
    /// untrusted address is the client. A forwarded header from any other peer is ignored (anyone
    /// could send one). `"unknown"` when there is no socket peer (in-process test requests).
    var clientIP: String {
        if let cached = storage[ClientIPKey.self] { return cached }
        let value = Self.clientIP(
            peer: remoteAddress?.ipAddress, forwardedFor: headers[.xForwardedFor],
            trusted: application.services.configuration.trustedProxies)
        storage[ClientIPKey.self] = value
        return value
    }

    /// The client address as a rate-limit key: the IPv4 address, or the /64 network of an IPv6 address
    /// (one subscriber usually holds a whole /64, so per-address buckets would be free to multiply).
    var clientRateLimitKey: String { Self.rateLimitKey(forClientIP: clientIP) }

    static func rateLimitKey(forClientIP ip: String) -> String {
        guard let address = IPAddress(ip), !address.isIPv4 else { return ip }
        let network = IPAddress(bytes: Array(address.bytes.prefix(8)) + [UInt8](repeating: 0, count: 8))
        return network.map { "\($0)/64" } ?? ip
    }

    static func clientIP(peer: String?, forwardedFor: [String], trusted: [IPNetwork]) -> String {
        guard let peer, let peerAddress = IPAddress(peer) else { return "unknown" }
        func isTrusted(_ address: IPAddress) -> Bool { trusted.contains { $0.contains(address) } }
        guard isTrusted(peerAddress) else { return peerAddress.description }
        let chain = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peerAddress
        for hop in chain.reversed() {
            guard let address = IPAddress(hop) else { break }
            client = address
            if !isTrusted(address) { break }
        }
        return client.description
    }
}
