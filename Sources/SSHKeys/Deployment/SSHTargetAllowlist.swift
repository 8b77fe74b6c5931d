import PipewrightCore

/// Which SSH endpoints the service may connect to (`PIPEWRIGHT_SSH_ALLOWED_TARGETS`).
///
/// Without a list (``unrestricted``) every target is allowed except the addresses no legitimate
/// server has: link-local (`169.254.0.0/16`, where cloud metadata services such as
/// `169.254.169.254` live, and `fe80::/10`) and unspecified/"this network" addresses
/// (`0.0.0.0/8`, `::`). Otherwise the deploy endpoints would let any user make the service read its
/// own cloud credentials or probe with connect-scan semantics.
///
/// With a list, a target is allowed only when **every** address its host resolves to matches an
/// entry:
/// - a CIDR block or single address (`10.0.0.0/8`, `192.0.2.7`, `fd00::/8`, `[2001:db8::1]`)
///   matches an address inside it;
/// - a host name (`deploy.example.com`, or `*.example.com` for any sub-domain) matches the host
///   exactly as the user gave it (case-insensitive), and only when the resolved address is not
///   link-local or unspecified, so a name pointed at a metadata address is still refused;
/// - any entry may end with `:port` (`10.0.0.0/8:22`, `[fd00::/8]:2222`, `git.example.com:22`);
///   without a port every port matches.
///
/// Callers check the **resolved** addresses and then make OpenSSH connect to the checked address
/// (``SSHTarget/connectAddress``), so a DNS answer cannot change between check and connect.
public struct SSHTargetAllowlist: Sendable, Equatable {
    /// One allowed endpoint pattern.
    public enum Entry: Sendable, Equatable, CustomStringConvertible {
        case network(IPNetwork, port: Int?)
        /// Lowercased name; a leading `*.` matches any sub-domain (not the bare domain).
        case hostName(String, port: Int?)

        public var description: String {
            switch self {
            case .network(let network, let port):
                let text = network.address.isIPv4 ? network.description : "[\(network)]"
                return port.map { "\(text):\($0)" } ?? network.description
            case .hostName(let name, let port): return port.map { "\(name):\($0)" } ?? name
            }
        }
    }

    /// A list entry that does not parse.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var entry: String
        public var reason: String
        public var description: String { "entry '\(entry)': \(reason)" }
    }

    /// The outcome of a check.
    public enum Decision: Sendable, Equatable {
        case allowed
        /// `reason` names the refused address (never secret).
        case denied(reason: String)
    }

    /// `nil`: the default policy (everything but ``alwaysDeniedByDefault``).
    public let entries: [Entry]?

    /// Every target allowed except link-local and unspecified addresses.
    public static let unrestricted = SSHTargetAllowlist(entries: nil)

    /// Blocks refused by the default policy, and for host-name entries.
    public static let alwaysDeniedByDefault: [IPNetwork] = ["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "::/128"]
        .compactMap { IPNetwork($0) }

    /// Creates a list from parsed entries (`nil` for the default policy).
    public init(entries: [Entry]?) {
        self.entries = entries
    }

    /// Parses the variable's value: comma-separated entries, whitespace around them ignored.
    ///
    /// - Parameter text: e.g. `10.0.0.0/8, deploy.example.com:22, [fd00::/8]:2222`.
    /// - Throws: ``ParseError`` for the first malformed entry or an empty list.
    public init(parsing text: String) throws(ParseError) {
        var entries: [Entry] = []
        for raw in text.split(separator: ",") {
            let entry = raw.trimmingWhitespace()
            if entry.isEmpty { continue }
            entries.append(try Self.parseEntry(entry))
        }
        guard !entries.isEmpty else { throw ParseError(entry: text, reason: "the list is empty") }
        self.entries = entries
    }

    /// Decides whether `host:port` may be contacted when `host` resolved to `addresses`.
    ///
    /// - Parameters:
    ///   - host: The host as the user gave it (after ``SSHTarget/validated()``).
    ///   - port: Target port.
    ///   - addresses: Every resolved address (must not be empty).
    public func decide(host: String, port: Int, addresses: [IPAddress]) -> Decision {
        guard !addresses.isEmpty else { return .denied(reason: "the host has no address") }
        let name = host.lowercased()
        for address in addresses {
            let special = Self.alwaysDeniedByDefault.contains { $0.contains(address) }
            guard let entries else {
                if special { return .denied(reason: "\(address) is a link-local or unspecified address") }
                continue
            }
            let matched = entries.contains { entry in
                switch entry {
                case .network(let network, let allowedPort):
                    return (allowedPort == nil || allowedPort == port) && network.contains(address)
                case .hostName(let pattern, let allowedPort):
                    return (allowedPort == nil || allowedPort == port) && !special && Self.name(name, matches: pattern)
                }
            }
            if !matched { return .denied(reason: "\(address) port \(port) is not in PIPEWRIGHT_SSH_ALLOWED_TARGETS") }
        }
        return .allowed
    }

    // MARK: - Parsing

    static func parseEntry(_ entry: String) throws(ParseError) -> Entry {
        func fail(_ reason: String) -> ParseError { ParseError(entry: entry, reason: reason) }
        var body = entry
        var portText: String?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { throw fail("missing ']'") }
            let inside = String(entry[entry.index(after: entry.startIndex)..<close])
            let rest = entry[entry.index(after: close)...]
            if rest.hasPrefix("/") {
                // `[fd00::]/8` or `[fd00::]/8:22`
                let parts = rest.dropFirst().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                body = inside + "/" + parts[0]
                if parts.count == 2 { portText = String(parts[1]) }
            } else if rest.hasPrefix(":") {
                body = inside
                portText = String(rest.dropFirst())
            } else if rest.isEmpty {
                body = inside
            } else {
                throw fail("unexpected text after ']'")
            }
            guard IPNetwork(body) != nil, body.contains(":") else {
                throw fail("brackets must hold an IPv6 address or block")
            }
        } else {
            let colons = entry.filter { $0 == ":" }.count
            if colons == 1 {
                let parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                body = String(parts[0])
                portText = String(parts[1])
            }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), let value = Int(portText),
                (1...65_535).contains(value)
            else { throw fail("the port must be 1-65535") }
            port = value
        }
        if let network = IPNetwork(body) { return .network(network, port: port) }
        if body.contains("/") { throw fail("not a valid CIDR block") }
        if body.contains(":") { throw fail("not a valid IPv6 address; write IPv6 with a port as [addr]:port") }
        let name = body.lowercased()
        let labels = (name.hasPrefix("*.") ? String(name.dropFirst(2)) : name).split(
            separator: ".", omittingEmptySubsequences: false)
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_")
        guard name.utf8.count <= 253, !labels.isEmpty,
            labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && $0.allSatisfy(allowed.contains) }
            )
        else { throw fail("not a CIDR block, an address or a host name") }
        return .hostName(name, port: port)
    }

    static func name(_ name: String, matches pattern: String) -> Bool {
        if pattern.hasPrefix("*.") {
            return name.hasSuffix(String(pattern.dropFirst(1))) && name.count > pattern.count - 1
        }
        return name == pattern
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
