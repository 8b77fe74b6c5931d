import PipewrightCore

/// Where to log in: host, port and remote user name.
///
/// Values come from API requests, so they are hostile until ``validated()`` has accepted them.
/// Every SSH operation validates its target before anything is executed: a host such as
/// `-oProxyCommand=…` would otherwise be read by `ssh` as an option.
public struct SSHTarget: Sendable, Hashable, CustomStringConvertible {
    /// Host name, IPv4 address or IPv6 address (brackets optional, e.g. `[::1]`).
    public var host: String
    /// TCP port, 1…65535; 22 by default.
    public var port: Int
    /// Remote account name.
    public var username: String
    /// The numeric address to connect to, when the caller has resolved and checked ``host`` itself
    /// (``SSHTargetAllowlist``). OpenSSH then connects to this address and keeps looking host keys up
    /// under ``host`` (`HostKeyAlias`), so a DNS answer cannot change between check and connect.
    /// `nil`: OpenSSH resolves ``host``.
    public var connectAddress: String?
    /// Whether OpenSSH may sign with `ssh-rsa` (SHA-1) for RSA keys on this server: the per-server
    /// `legacy_rsa_sha1` opt-in for servers that accept no `rsa-sha2-*` signature. `false` by default.
    public var allowsLegacyRSASHA1: Bool

    /// Creates a target without validating it.
    ///
    /// - Parameters:
    ///   - host: Host name or address.
    ///   - port: TCP port; 22 by default.
    ///   - username: Remote account name.
    ///   - connectAddress: Checked numeric address to connect to instead of resolving `host`.
    ///   - allowsLegacyRSASHA1: Offer `ssh-rsa` (SHA-1) signatures first for RSA keys.
    public init(
        host: String, port: Int = 22, username: String, connectAddress: String? = nil,
        allowsLegacyRSASHA1: Bool = false
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.connectAddress = connectAddress
        self.allowsLegacyRSASHA1 = allowsLegacyRSASHA1
    }

    /// Maximum host length in bytes (a DNS name is at most 253 characters).
    public static let maximumHostLength = 253
    /// Maximum user-name length in bytes.
    public static let maximumUsernameLength = 64

    /// Checks every field and returns the normalised target.
    ///
    /// Rules:
    /// - host: not empty, at most 253 bytes, only ASCII letters, digits and `.-:_`, not starting with
    ///   `-`; an IPv6 address may be wrapped in `[` `]` (the brackets are removed). The result is
    ///   lowercased, as OpenSSH lowercases host names before looking them up in `known_hosts`.
    /// - username: 1…64 bytes of `A-Z a-z 0-9 . _ -` (POSIX portable user names), not starting
    ///   with `-`.
    /// - port: 1…65535.
    ///
    /// Whitespace and control characters (including newline) are therefore always rejected.
    ///
    /// - Returns: The target with brackets stripped and the host lowercased.
    /// - Throws: ``SSHKeyError/invalidTarget(field:reason:)`` naming `host`, `port` or `username`.
    public func validated() throws(SSHKeyError) -> SSHTarget {
        var host = self.host
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
            host = String(host.dropFirst().dropLast())
            guard host.contains(":") else {
                throw .invalidTarget(field: "host", reason: "brackets are only allowed around an IPv6 address")
            }
        }
        try Self.check(host, field: "host", maximumLength: Self.maximumHostLength, allowed: Self.hostCharacters)
        try Self.check(
            username, field: "username", maximumLength: Self.maximumUsernameLength, allowed: Self.userCharacters)
        guard (1...65_535).contains(port) else {
            throw .invalidTarget(field: "port", reason: "must be between 1 and 65535")
        }
        var address: String?
        if let connectAddress {
            guard let parsed = IPAddress(connectAddress) else {
                throw .invalidTarget(field: "host", reason: "the checked address is not a numeric address")
            }
            address = parsed.description
        }
        return SSHTarget(
            host: host.lowercased(), port: port, username: username, connectAddress: address,
            allowsLegacyRSASHA1: allowsLegacyRSASHA1)
    }

    /// `user@host:port`.
    public var description: String { "\(username)@\(host):\(port)" }

    // MARK: - Helpers

    private static let hostCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_".unicodeScalars)
    private static let userCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)

    private static func check(
        _ value: String, field: String, maximumLength: Int, allowed: Set<Unicode.Scalar>
    ) throws(SSHKeyError) {
        guard !value.isEmpty else { throw .invalidTarget(field: field, reason: "must not be empty") }
        guard value.utf8.count <= maximumLength else {
            throw .invalidTarget(field: field, reason: "must be at most \(maximumLength) characters")
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidTarget(field: field, reason: "must not contain control characters")
        }
        if value.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
            throw .invalidTarget(field: field, reason: "must not contain whitespace")
        }
        guard !value.hasPrefix("-") else { throw .invalidTarget(field: field, reason: "must not start with '-'") }
        guard value.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            throw .invalidTarget(field: field, reason: "contains characters that are not allowed")
        }
    }
}
