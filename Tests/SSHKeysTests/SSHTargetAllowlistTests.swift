import PipewrightCore
import Testing

@testable import SSHKeys

/// `PIPEWRIGHT_SSH_ALLOWED_TARGETS` parsing and matching, as tables.
@Suite struct SSHTargetAllowlistTests {
    static func addresses(_ texts: [String]) -> [IPAddress] { texts.compactMap { IPAddress($0) } }

    // MARK: - Addresses and blocks

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("127.0.0.1/32", "127.0.0.1", true),
        ("127.0.0.1/32", "127.0.0.2", false),
        ("192.168.1.0/24", "192.168.1.255", true),
        ("192.168.1.0/24", "192.168.2.0", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "::1", false),
        ("fd00::/8", "fd12:3456::1", true),
        ("fd00::/8", "fe80::1", false),
        ("::1", "::1", true),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/33", "2001:db8:8000::1", false),
        ("10.0.0.0/8", "::ffff:10.1.2.3", true),
        ("172.16.0.0/12", "172.31.255.255", true),
        ("172.16.0.0/12", "172.32.0.0", false),
    ])
    func networkContains(cidr: String, address: String, expected: Bool) throws {
        let network = try #require(IPNetwork(cidr))
        let parsed = try #require(IPAddress(address))
        #expect(network.contains(parsed) == expected)
    }

    @Test(arguments: [
        "", "10.0.0.0/33", "::/129", "10.0.0/8", "300.1.1.1", "10.0.0.0/-1", "10.0.0.0/", "fe80::1%eth0", "a.b",
    ])
    func invalidNetworks(text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test func ipv4MappedAddressesNormalise() throws {
        #expect(try #require(IPAddress("::ffff:169.254.169.254")) == IPAddress("169.254.169.254"))
        #expect(IPAddress("::ffff:169.254.169.254")?.description == "169.254.169.254")
        #expect(IPAddress("[::1]")?.description == "::1")
    }

    // MARK: - Parsing

    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.0/8:22", "10.0.0.0/8:22"),
        ("192.0.2.7", "192.0.2.7/32"),
        ("192.0.2.7:2222", "192.0.2.7/32:2222"),
        ("fd00::/8", "fd00::/8"),
        ("[fd00::/8]:22", "[fd00::/8]:22"),
        ("[2001:db8::1]:2222", "[2001:db8::1/128]:2222"),
        ("[2001:db8::]/32", "2001:db8::/32"),
        ("Deploy.Example.com", "deploy.example.com"),
        ("deploy.example.com:22", "deploy.example.com:22"),
        ("*.example.com", "*.example.com"),
        ("localhost", "localhost"),
    ])
    func parsesEntries(text: String, expected: String) throws {
        let list = try SSHTargetAllowlist(parsing: text)
        #expect(list.entries?.map(\.description) == [expected])
    }

    @Test func parsesLists() throws {
        let list = try SSHTargetAllowlist(parsing: " 10.0.0.0/8 , deploy.example.com:22,,[fd00::/8]:2222 ")
        #expect(list.entries?.count == 3)
    }

    @Test(arguments: [
        "", " , ", "10.0.0.0/33", "host:0", "host:65536", "host:abc", "[fd00::/8", "[10.0.0.1]:22", "fd00::1:22:x",
        "-oProxyCommand=x", "bad host", "host..example", "*.", "a/b", "[::1]x", "ex ample.com:22", "host:",
        "10.0.0.0/8:99999",
    ])
    func rejectsMalformedEntries(text: String) {
        #expect(throws: SSHTargetAllowlist.ParseError.self) { try SSHTargetAllowlist(parsing: text) }
    }

    // MARK: - Decisions

    struct Case: Sendable, CustomTestStringConvertible {
        var list: String?
        var host: String
        var port: Int
        var resolved: [String]
        var allowed: Bool
        var testDescription: String { "\(list ?? "<default>") \(host):\(port) → \(resolved) = \(allowed)" }
    }

    static let cases: [Case] = [
        // Default policy: everything but link-local and unspecified.
        Case(list: nil, host: "203.0.113.9", port: 22, resolved: ["203.0.113.9"], allowed: true),
        Case(list: nil, host: "10.0.0.1", port: 22, resolved: ["10.0.0.1"], allowed: true),
        Case(list: nil, host: "127.0.0.1", port: 2222, resolved: ["127.0.0.1"], allowed: true),
        Case(list: nil, host: "169.254.169.254", port: 22, resolved: ["169.254.169.254"], allowed: false),
        Case(list: nil, host: "metadata.internal", port: 22, resolved: ["169.254.169.254"], allowed: false),
        Case(list: nil, host: "mixed.example", port: 22, resolved: ["203.0.113.9", "169.254.1.1"], allowed: false),
        Case(list: nil, host: "fe80::1", port: 22, resolved: ["fe80::1"], allowed: false),
        Case(list: nil, host: "0.0.0.0", port: 22, resolved: ["0.0.0.0"], allowed: false),
        Case(list: nil, host: "::", port: 22, resolved: ["::"], allowed: false),
        Case(list: nil, host: "mapped", port: 22, resolved: ["::ffff:169.254.169.254"], allowed: false),
        Case(list: nil, host: "x", port: 22, resolved: [], allowed: false),
        // CIDR lists.
        Case(list: "127.0.0.1/32", host: "127.0.0.1", port: 22, resolved: ["127.0.0.1"], allowed: true),
        Case(list: "127.0.0.1/32", host: "127.0.0.2", port: 22, resolved: ["127.0.0.2"], allowed: false),
        Case(list: "10.0.0.0/8", host: "app.internal", port: 22, resolved: ["10.1.2.3"], allowed: true),
        Case(
            list: "10.0.0.0/8", host: "app.internal", port: 22, resolved: ["10.1.2.3", "192.168.0.1"], allowed: false),
        Case(list: "10.0.0.0/8:22", host: "10.0.0.5", port: 22, resolved: ["10.0.0.5"], allowed: true),
        Case(list: "10.0.0.0/8:22", host: "10.0.0.5", port: 2222, resolved: ["10.0.0.5"], allowed: false),
        Case(list: "[fd00::/8]:2222", host: "fd00::5", port: 2222, resolved: ["fd00::5"], allowed: true),
        Case(list: "[fd00::/8]:2222", host: "fd00::5", port: 22, resolved: ["fd00::5"], allowed: false),
        Case(list: "169.254.0.0/16", host: "169.254.10.10", port: 22, resolved: ["169.254.10.10"], allowed: true),
        // Host names: the name as given, and never a link-local answer.
        Case(
            list: "deploy.example.com", host: "deploy.example.com", port: 22, resolved: ["203.0.113.9"], allowed: true),
        Case(
            list: "deploy.example.com", host: "DEPLOY.example.com", port: 22, resolved: ["203.0.113.9"], allowed: true),
        Case(
            list: "deploy.example.com", host: "other.example.com", port: 22, resolved: ["203.0.113.9"], allowed: false),
        Case(list: "deploy.example.com", host: "203.0.113.9", port: 22, resolved: ["203.0.113.9"], allowed: false),
        Case(
            list: "deploy.example.com", host: "deploy.example.com", port: 22, resolved: ["169.254.169.254"],
            allowed: false),
        Case(list: "deploy.example.com", host: "deploy.example.com", port: 22, resolved: ["fe80::1"], allowed: false),
        Case(
            list: "deploy.example.com:22", host: "deploy.example.com", port: 2200, resolved: ["203.0.113.9"],
            allowed: false),
        Case(list: "*.example.com", host: "a.b.example.com", port: 22, resolved: ["203.0.113.9"], allowed: true),
        Case(list: "*.example.com", host: "example.com", port: 22, resolved: ["203.0.113.9"], allowed: false),
        Case(list: "*.example.com", host: "evilexample.com", port: 22, resolved: ["203.0.113.9"], allowed: false),
        Case(
            list: "127.0.0.1/32, deploy.example.com", host: "deploy.example.com", port: 22, resolved: ["10.0.0.1"],
            allowed: true),
    ]

    @Test(arguments: cases)
    func decides(_ testCase: Case) throws {
        let list = try testCase.list.map { try SSHTargetAllowlist(parsing: $0) } ?? .unrestricted
        let decision = list.decide(
            host: testCase.host, port: testCase.port, addresses: Self.addresses(testCase.resolved))
        #expect((decision == .allowed) == testCase.allowed)
    }

    // MARK: - Resolution and the connect address

    @Test func systemResolverResolvesLiteralsAndLocalhost() async throws {
        #expect(try await SystemHostResolver().resolve("127.0.0.2") == [IPAddress("127.0.0.2")!])
        #expect(try await SystemHostResolver().resolve("[::1]") == [IPAddress("::1")!])
        let local = try await SystemHostResolver().resolve("localhost")
        #expect(local.contains(IPAddress("127.0.0.1")!) || local.contains(IPAddress("::1")!))
        await #expect(throws: HostResolutionError.self) { try await SystemHostResolver().resolve("nosuch.invalid") }
    }

    @Test func connectAddressIsValidated() throws {
        #expect(
            try SSHTarget(host: "Example.com", username: "u", connectAddress: "127.0.0.1").validated().connectAddress
                == "127.0.0.1")
        #expect(throws: SSHKeyError.self) {
            try SSHTarget(host: "example.com", username: "u", connectAddress: "-oX").validated()
        }
    }
}
