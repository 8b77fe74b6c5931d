import Crypto
import Foundation

/// The 256-bit key that seals private keys at rest (AES-256-GCM, see ``SealedSecret``).
///
/// Loaded from configuration as base64 (32 bytes), or generated with ``generate()``. ``id`` names the
/// key for rotation bookkeeping without revealing it. The key itself is never printable:
/// `description`, `debugDescription` and `dump` show only the id.
///
/// - Important: Whoever holds the master key can open every sealed private key. It lives only in the
///   process configuration (`PIPEWRIGHT_MASTER_KEY` or the 0600 `PIPEWRIGHT_MASTER_KEY_FILE`) and in memory,
///   never in the database.
public struct MasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Key length in bytes.
    public static let byteCount = 32

    let symmetricKey: SymmetricKey

    /// First 8 lowercase hex characters of SHA-256 of the raw key, e.g. `"3f9a01bc"`.
    /// Stored beside each ``SealedSecret`` so rotation can tell which key sealed it.
    public let id: String

    /// Creates a key from its raw bytes.
    ///
    /// - Throws: ``SecretError/invalidMasterKey(reason:)`` unless `rawBytes` is exactly 32 bytes.
    public init(rawBytes: [UInt8]) throws(SecretError) {
        guard rawBytes.count == MasterKey.byteCount else {
            throw .invalidMasterKey(reason: "expected 32 bytes, got \(rawBytes.count)")
        }
        symmetricKey = SymmetricKey(data: rawBytes)
        id = SHA256.hash(data: rawBytes).prefix(4).map(Self.hexByte).joined()
    }

    /// Creates a key from standard base64 (44 characters with padding; surrounding whitespace ignored).
    ///
    /// - Throws: ``SecretError/invalidMasterKey(reason:)`` when the text is not base64 or does not
    ///   decode to exactly 32 bytes. The message never contains the text.
    public init(base64: String) throws(SecretError) {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .invalidMasterKey(reason: "not valid base64")
        }
        try self.init(rawBytes: Array(data))
    }

    /// Generates a new random key from the system CSPRNG.
    public static func generate() -> MasterKey {
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Array($0) }
        // 32 bytes by construction, so the throwing initializer cannot fail.
        return MasterKey(validatedRawBytes: bytes)
    }

    private init(validatedRawBytes bytes: [UInt8]) {
        symmetricKey = SymmetricKey(data: bytes)
        id = SHA256.hash(data: bytes).prefix(4).map(Self.hexByte).joined()
    }

    /// The key as standard base64 (for `pipewright master-key generate` output), wrapped in `Secret`.
    ///
    /// - Important: Print it only once, to the operator who generates it.
    public var base64Representation: Secret<String> {
        Secret(symmetricKey.withUnsafeBytes { Data($0).base64EncodedString() })
    }

    /// `MasterKey(id: <id>)`; never the key.
    public var description: String { "MasterKey(id: \(id))" }
    /// Same as ``description``.
    public var debugDescription: String { description }
    /// An empty mirror, so `dump` shows no key material.
    public var customMirror: Mirror { Mirror(self, children: []) }

    /// Two lowercase hex digits.
    static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}
