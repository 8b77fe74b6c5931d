import Crypto
import Foundation

/// An SSH server's public host key, as pinned in Pipewright and written to a `known_hosts` file.
///
/// The text form follows `sshd(8)` "SSH_KNOWN_HOSTS FILE FORMAT": `<host pattern> <algorithm> <base64 blob>`.
/// Example: `[127.0.0.1]:22022 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH+1I349…`.
public struct HostKey: Sendable, Hashable, CustomStringConvertible {
    /// The SSH algorithm name as in `known_hosts`, e.g. `ssh-ed25519`, `ssh-rsa`,
    /// `ecdsa-sha2-nistp256`.
    public let algorithm: String
    /// The key's SSH wire blob, base64 with padding (the second field of a `known_hosts` entry
    /// after the host pattern).
    public let blobBase64: String

    /// Creates a host key, validating both fields.
    ///
    /// - Parameters:
    ///   - algorithm: Algorithm name: 1–64 characters from `a-z0-9@.-`.
    ///   - blobBase64: Standard base64 of the wire blob; the blob must start with the SSH string
    ///     `algorithm` (RFC 4253 §6.6).
    /// - Throws: ``SSHKeyError/invalidHostKey(reason:)``.
    public init(algorithm: String, blobBase64: String) throws(SSHKeyError) {
        guard !algorithm.isEmpty, algorithm.utf8.count <= 64,
            algorithm.unicodeScalars.allSatisfy({ HostKey.algorithmCharacters.contains($0) })
        else { throw .invalidHostKey(reason: "the algorithm name is not valid") }
        guard let blob = HostKey.decodeBase64(blobBase64) else {
            throw .invalidHostKey(reason: "the key is not valid base64")
        }
        guard let embedded = HostKey.leadingSSHString(blob), embedded == algorithm else {
            throw .invalidHostKey(reason: "the key data does not match the algorithm \(algorithm)")
        }
        self.algorithm = algorithm
        self.blobBase64 = blobBase64
    }

    /// Parses the key fields of one `known_hosts` line (`[marker] <hosts> <algorithm> <blob> [comment]`).
    ///
    /// - Parameter knownHostsLine: One line of a `known_hosts` file or of `ssh-keyscan` output.
    /// - Returns: The key, or `nil` for blank lines, comments, `@revoked`/`@cert-authority`
    ///   entries and lines that do not parse.
    public init?(knownHostsLine: some StringProtocol) {
        let fields = knownHostsLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard fields.count >= 3, let first = fields.first, !first.hasPrefix("#"), !first.hasPrefix("@") else {
            return nil
        }
        guard let key = try? HostKey(algorithm: String(fields[1]), blobBase64: String(fields[2])) else {
            return nil
        }
        self = key
    }

    /// The OpenSSH SHA-256 fingerprint: `SHA256:` followed by unpadded base64 of the SHA-256 of the
    /// blob, 43 characters, exactly as `ssh-keygen -l -E sha256` prints it.
    public var fingerprintSHA256: String {
        let digest = SHA256.hash(data: HostKey.decodeBase64(blobBase64) ?? [])
        var encoded = Data(digest).base64EncodedString()
        while encoded.hasSuffix("=") { encoded.removeLast() }
        return "SHA256:" + encoded
    }

    /// The `known_hosts` line for this key at `host`:`port`, without a trailing newline.
    ///
    /// - Parameters:
    ///   - host: A validated host name or address (see ``SSHTarget/validated()``).
    ///   - port: The SSH port; 22 gives a bare host pattern, anything else `[host]:port`.
    /// - Returns: e.g. `[127.0.0.1]:22022 ssh-ed25519 AAAA…` or `example.com ssh-rsa AAAA…`.
    public func knownHostsLine(host: String, port: Int) -> String {
        "\(HostKey.knownHostsPattern(host: host, port: port)) \(algorithm) \(blobBase64)"
    }

    /// The host pattern OpenSSH looks up in `known_hosts`: the lowercased host for port 22,
    /// `[host]:port` otherwise (`sshd(8)` SSH_KNOWN_HOSTS FILE FORMAT).
    ///
    /// - Parameters:
    ///   - host: Host name or address, without brackets.
    ///   - port: The SSH port (1…65535).
    /// - Returns: e.g. `example.com` or `[127.0.0.1]:22022`.
    public static func knownHostsPattern(host: String, port: Int) -> String {
        let lowered = host.lowercased()
        return port == 22 ? lowered : "[\(lowered)]:\(port)"
    }

    /// Parses every key in the text of a `known_hosts` file, in order, skipping comments, markers
    /// and malformed lines.
    ///
    /// - Parameter knownHostsText: The whole file.
    /// - Returns: The keys found, duplicates removed.
    public static func parseKnownHosts(_ knownHostsText: String) -> [HostKey] {
        var keys: [HostKey] = []
        for line in knownHostsText.split(whereSeparator: \.isNewline) {
            if let key = HostKey(knownHostsLine: line), !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    /// `"<algorithm> <fingerprintSHA256>"`.
    public var description: String { "\(algorithm) \(fingerprintSHA256)" }

    // MARK: - Helpers

    private static let algorithmCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789@.-".unicodeScalars)

    private static func decodeBase64(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 16_384, let data = Data(base64Encoded: text) else { return nil }
        return Array(data)
    }

    /// The first SSH `string` of a wire blob (uint32 length + bytes), as UTF-8.
    private static func leadingSSHString(_ blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let length = blob[0..<4].reduce(0) { ($0 << 8) | Int($1) }
        guard length > 0, length <= 64, blob.count >= 4 + length else { return nil }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }
}
