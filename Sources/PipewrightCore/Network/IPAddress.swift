#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address as raw network-order bytes (4 or 16).
///
/// Parsed and printed with the C library (`inet_pton` / `inet_ntop`), so every textual form the
/// system accepts works (`127.0.0.1`, `::1`, `::ffff:10.0.0.1`, …). IPv4-mapped IPv6 addresses
/// (`::ffff:a.b.c.d`) are normalised to their IPv4 form, so `::ffff:169.254.169.254` is the same
/// address as `169.254.169.254` for every check.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let bytes: [UInt8]

    /// Creates an address from 4 or 16 bytes (`nil` for any other length).
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            self.bytes = Array(bytes[12..<16])
        } else {
            self.bytes = bytes
        }
    }

    /// Parses a numeric address; brackets around IPv6 (`[::1]`) are accepted.
    ///
    /// - Parameter text: `a.b.c.d` or an IPv6 address (no zone index, no port).
    /// - Returns: `nil` when `text` is not a numeric address.
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        if text.hasPrefix("["), text.hasSuffix("]"), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        guard !text.isEmpty, text.utf8.count <= 64, !text.contains("%") else { return nil }
        if !text.contains(":") {
            var v4 = in_addr()
            guard inet_pton(AF_INET, text, &v4) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &v4) { Array($0) })
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &v6) { Array($0) })
        }
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool { bytes.count == 4 }

    /// The canonical text (`inet_ntop`): `10.0.0.1`, `fe80::1`.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var raw = bytes
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = raw.withUnsafeMutableBytes { pointer in
            inet_ntop(family, pointer.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A CIDR block such as `10.0.0.0/8` or `fd00::/8`.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network address (host bits as given).
    public let address: IPAddress
    /// Prefix length: 0…32 (IPv4) or 0…128 (IPv6).
    public let prefixLength: Int

    /// Creates a block; `nil` when the prefix is out of range for the family.
    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bytes.count * 8 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `address/prefix` or a single address (a /32 or /128 block); IPv6 may be bracketed
    /// (`[fd00::]/8` or `[fd00::/8]`).
    ///
    /// - Returns: `nil` for anything else (no host names here).
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        var length = address.bytes.count * 8
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy(\.isASCII),
                let parsed = Int(parts[1])
            else { return nil }
            // `::ffff:10.0.0.0/104` is the IPv4 block 10.0.0.0/8.
            length = parsed
            if address.isIPv4, text.contains(":") { length -= 96 }
        }
        self.init(address: address, prefixLength: length)
    }

    /// Whether `candidate` lies inside this block (always `false` across families).
    public func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<address.bytes.count {
            guard remaining > 0 else { return true }
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xff : ~(0xff >> UInt8(bits))
            if address.bytes[index] & mask != candidate.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// `address/prefix`.
    public var description: String { "\(address)/\(prefixLength)" }
}
