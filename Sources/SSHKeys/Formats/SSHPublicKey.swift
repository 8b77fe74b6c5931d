import Crypto
import Foundation

/// An SSH public key: algorithm name, wire blob and comment, with the OpenSSH text forms and
/// fingerprints derived from them.
///
/// The blob is the SSH wire encoding of the key (RFC 4253 §6.6 for `ssh-rsa`, RFC 5656 §3.1 for
/// `ecdsa-sha2-*`, RFC 8709 §4 for `ssh-ed25519`). The text form is one line of OpenSSH's
/// `authorized_keys` format (`sshd(8)` "AUTHORIZED_KEYS FILE FORMAT"): `<algorithm> <base64 blob> [comment]`.
public struct SSHPublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The SSH algorithm name: `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384`
    /// or `ecdsa-sha2-nistp521`.
    public let algorithm: String
    /// The key's SSH wire-format blob (the bytes inside the base64 field).
    public let blob: [UInt8]
    /// The free-text comment (may be empty; never contains a newline).
    public let comment: String
    /// The key family.
    public let keyType: KeyType
    /// Key size in bits: 256 for Ed25519, the modulus length for RSA, 256/384/521 for ECDSA.
    public let keySizeBits: Int

    /// Creates a public key from an already-validated blob.
    init(algorithm: String, blob: [UInt8], comment: String, keyType: KeyType, keySizeBits: Int) {
        self.algorithm = algorithm
        self.blob = blob
        self.comment = SSHPublicKey.sanitizedComment(comment)
        self.keyType = keyType
        self.keySizeBits = keySizeBits
    }

    /// Parses one line of an `authorized_keys` file or a `.pub` file.
    ///
    /// Accepted shape: `[options ]<algorithm> <base64 blob>[ comment]`. An options prefix (e.g.
    /// `from="10.0.0.1",no-pty`, quotes may contain spaces) is skipped and ignored; surrounding
    /// whitespace and a trailing CR/LF are ignored. The blob's embedded algorithm name must match the
    /// line's and its structure is validated (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4).
    ///
    /// - Parameter openSSHLine: One public-key line.
    /// - Throws: ``SSHKeyError/unsupportedKeyType(_:)`` for `ssh-dss` (`"dsa"`) and other algorithms,
    ///   ``SSHKeyError/invalidPublicKey(reason:)`` when the line or the blob is malformed.
    public init(openSSHLine: String) throws(SSHKeyError) {
        let line = openSSHLine.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !line.isEmpty else { throw .invalidPublicKey(reason: "the line is empty") }
        guard !line.contains("\n") else { throw .invalidPublicKey(reason: "expected exactly one line") }

        var rest = Substring(line)
        if !SSHPublicKey.looksLikeAlgorithm(SSHPublicKey.firstToken(rest)) {
            rest = SSHPublicKey.droppingOptions(rest)
        }
        let algorithm = SSHPublicKey.firstToken(rest)
        try SSHPublicKey.checkAlgorithmName(algorithm)
        rest = rest.dropFirst(algorithm.count).drop(while: { $0 == " " || $0 == "\t" })
        let encoded = SSHPublicKey.firstToken(rest)
        guard !encoded.isEmpty else { throw .invalidPublicKey(reason: "the base64 key field is missing") }
        let comment = rest.dropFirst(encoded.count).trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: String(encoded)) else {
            throw .invalidPublicKey(reason: "the key field is not valid base64")
        }
        let parsed = try SSHPublicKey(blob: Array(data), comment: comment)
        guard parsed.algorithm == algorithm else {
            throw .invalidPublicKey(reason: "the algorithm name does not match the key data")
        }
        self = parsed
    }

    /// Creates a public key from its SSH wire blob, validating the structure.
    ///
    /// - Parameters:
    ///   - blob: The wire-format key (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4).
    ///   - comment: The comment to attach (newlines are replaced by spaces).
    /// - Throws: ``SSHKeyError/unsupportedKeyType(_:)`` for DSA or unknown algorithms,
    ///   ``SSHKeyError/invalidPublicKey(reason:)`` for a malformed blob.
    public init(blob: [UInt8], comment: String = "") throws(SSHKeyError) {
        var reader = SSHWireReader(blob)
        do {
            let algorithm = try reader.readText()
            try SSHPublicKey.checkAlgorithmName(algorithm)
            switch algorithm {
            case "ssh-ed25519":
                let key = try reader.readString()
                guard key.count == 32 else { throw SSHKeyError.invalidPublicKey(reason: "ed25519 key is not 32 bytes") }
                self.init(algorithm: algorithm, blob: blob, comment: comment, keyType: .ed25519, keySizeBits: 256)
            case "ssh-rsa":
                let exponent = try reader.readMPIntMagnitude()
                let modulus = try reader.readMPIntMagnitude()
                guard !exponent.isEmpty, !modulus.isEmpty else {
                    throw SSHKeyError.invalidPublicKey(reason: "rsa key has an empty exponent or modulus")
                }
                self.init(
                    algorithm: algorithm, blob: blob, comment: comment, keyType: .rsa,
                    keySizeBits: SSHPublicKey.bitLength(ofMagnitude: modulus))
            default:
                // checkAlgorithmName admitted only the ECDSA names here.
                let identifier = try reader.readText()
                guard let curve = ECDSACurve(identifier: identifier), curve.algorithmName == algorithm else {
                    throw SSHKeyError.invalidPublicKey(reason: "ecdsa curve name does not match the algorithm")
                }
                let point = try reader.readString()
                guard point.count == 1 + 2 * curve.scalarByteCount, point.first == 0x04 else {
                    throw SSHKeyError.invalidPublicKey(reason: "ecdsa point is not an uncompressed point")
                }
                self.init(algorithm: algorithm, blob: blob, comment: comment, keyType: .ecdsa, keySizeBits: curve.bits)
            }
            guard reader.isAtEnd else { throw SSHKeyError.invalidPublicKey(reason: "trailing bytes after the key") }
        } catch let error as SSHKeyError {
            throw error
        } catch {
            throw .invalidPublicKey(reason: "the key data is truncated")
        }
    }

    /// The blob, base64-encoded with padding (the second field of an `authorized_keys` line).
    public var blobBase64: String { Data(blob).base64EncodedString() }

    /// The `authorized_keys` / `.pub` line: `"<algorithm> <base64>"` plus `" <comment>"` when the comment
    /// is not empty. No trailing newline.
    public var authorizedKeysLine: String {
        comment.isEmpty ? "\(algorithm) \(blobBase64)" : "\(algorithm) \(blobBase64) \(comment)"
    }

    /// The SHA-256 fingerprint exactly as `ssh-keygen -l -E sha256` prints it:
    /// `"SHA256:"` + base64 of SHA-256(blob) without `=` padding (43 characters).
    public var fingerprintSHA256: String {
        let digest = Data(SHA256.hash(data: blob)).base64EncodedString()
        return "SHA256:" + digest.replacingOccurrences(of: "=", with: "")
    }

    /// The legacy MD5 fingerprint exactly as `ssh-keygen -l -E md5` prints it:
    /// `"MD5:"` + 16 lowercase hex pairs joined by `:`.
    public var fingerprintMD5: String {
        let digest = Insecure.MD5.hash(data: blob)
        return "MD5:" + digest.map { SSHPublicKey.hexByte($0) }.joined(separator: ":")
    }

    /// A copy with a different comment.
    public func withComment(_ comment: String) -> SSHPublicKey {
        SSHPublicKey(algorithm: algorithm, blob: blob, comment: comment, keyType: keyType, keySizeBits: keySizeBits)
    }

    /// `"<algorithm> <fingerprintSHA256>"`; public data only.
    public var description: String { "\(algorithm) \(fingerprintSHA256)" }

    // MARK: - Helpers

    /// Algorithm names accepted in a public-key line.
    static let supportedAlgorithms: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    ]

    /// Throws unless `name` is a supported algorithm; maps `ssh-dss` to `"dsa"`.
    static func checkAlgorithmName(_ name: some StringProtocol) throws(SSHKeyError) {
        if name == "ssh-dss" { throw .unsupportedKeyType("dsa") }
        guard supportedAlgorithms.contains(String(name)) else {
            if looksLikeAlgorithm(name) { throw .unsupportedKeyType(String(name.prefix(64))) }
            throw .invalidPublicKey(reason: "no key algorithm name found")
        }
    }

    /// Whether a token looks like an SSH key algorithm name (`ssh-…`, `ecdsa-…`, `sk-…`).
    static func looksLikeAlgorithm(_ token: some StringProtocol) -> Bool {
        token.hasPrefix("ssh-") || token.hasPrefix("ecdsa-") || token.hasPrefix("sk-")
    }

    /// The leading run of non-whitespace characters.
    static func firstToken(_ text: Substring) -> Substring {
        text.prefix(while: { $0 != " " && $0 != "\t" })
    }

    /// Skips an `authorized_keys` options field (quoted strings may contain spaces) and the
    /// whitespace after it.
    static func droppingOptions(_ text: Substring) -> Substring {
        var inQuotes = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\\", inQuotes {
                index = text.index(after: index)
                if index < text.endIndex { index = text.index(after: index) }
                continue
            }
            if character == "\"" { inQuotes.toggle() }
            if !inQuotes, character == " " || character == "\t" { break }
            index = text.index(after: index)
        }
        return text[index...].drop(while: { $0 == " " || $0 == "\t" })
    }

    /// Number of significant bits in an unsigned big-endian magnitude.
    static func bitLength(ofMagnitude magnitude: [UInt8]) -> Int {
        guard let first = magnitude.firstIndex(where: { $0 != 0 }) else { return 0 }
        let leading = magnitude[first]
        return (magnitude.count - first - 1) * 8 + (8 - leading.leadingZeroBitCount)
    }

    static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    static func sanitizedComment(_ comment: String) -> String {
        comment.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}
