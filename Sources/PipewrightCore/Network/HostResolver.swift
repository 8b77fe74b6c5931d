import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a host name (or numeric address) into the addresses a connection could reach.
public protocol HostResolving: Sendable {
    /// Every address `host` resolves to, in resolver order, without duplicates.
    ///
    /// - Parameter host: A host name or a numeric IPv4/IPv6 address (brackets allowed).
    /// - Throws: ``HostResolutionError`` when the name does not resolve.
    func resolve(_ host: String) async throws(HostResolutionError) -> [IPAddress]
}

/// The name did not resolve (`getaddrinfo` failed or returned no TCP address).
public struct HostResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `gai_strerror` text.
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "cannot resolve host: \(reason)" }
}

/// The system resolver: `getaddrinfo(3)` (honours `/etc/hosts` and `nsswitch.conf`), run on a
/// background queue so it never blocks an event loop. Numeric addresses are returned without a lookup.
public struct SystemHostResolver: HostResolving {
    public init() {}

    public func resolve(_ host: String) async throws(HostResolutionError) -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        let result = try? await runBlocking { Self.lookup(host) }
        return try (result ?? .failure(HostResolutionError(reason: "lookup failed"))).get()
    }

    static func lookup(_ host: String) -> Result<[IPAddress], HostResolutionError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
            hints.ai_socktype = SOCK_STREAM
        #else
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { return .failure(HostResolutionError(reason: String(cString: gai_strerror(status)))) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ai_next }
            guard let socketAddress = entry.pointee.ai_addr else { continue }
            var address: IPAddress?
            switch Int32(entry.pointee.ai_family) {
            case AF_INET:
                address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin_addr
                    return IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) })
                }
            case AF_INET6:
                address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    var raw = pointer.pointee.sin6_addr
                    return IPAddress(bytes: withUnsafeBytes(of: &raw) { Array($0) })
                }
            default:
                break
            }
            if let address, !addresses.contains(address) { addresses.append(address) }
        }
        guard !addresses.isEmpty else { return .failure(HostResolutionError(reason: "no address")) }
        return .success(addresses)
    }
}
