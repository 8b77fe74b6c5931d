import Crypto
import Foundation

/// An AES-256-GCM envelope for a secret stored at rest (e.g. a private key column).
///
/// Serialized layout (``serialized()``), all lengths in bytes:
/// ```
/// version        1   0x01
/// keyIDLength    1   n (8 for MasterKey ids)
/// keyID          n   ASCII, the MasterKey.id that sealed it
/// nonce         12   random (NIST SP 800-38D §8.2.2)
/// ciphertext     *   same length as the plaintext
/// tag           16   GCM authentication tag
/// ```
/// The GCM additional authenticated data is the header (`version ‖ keyIDLength ‖ keyID`) followed by the
/// caller's associated data, so a sealed value cannot be moved to another record (callers pass the record
/// id, e.g. `"ssh_keys:42:private_key"`) and its header cannot be edited.
public struct SealedSecret: Sendable, Hashable, CustomStringConvertible {
    /// The current envelope version.
    public static let currentVersion: UInt8 = 1
    static let nonceByteCount = 12
    static let tagByteCount = 16

    /// Envelope version (currently 1).
    public let version: UInt8
    /// ``MasterKey/id`` of the key that sealed this value.
    public let keyID: String
    let nonce: [UInt8]
    let ciphertext: [UInt8]
    let tag: [UInt8]

    /// Encrypts `plaintext` under `masterKey`, binding it to `associatedData`.
    ///
    /// - Parameters:
    ///   - plaintext: The secret bytes.
    ///   - masterKey: The current master key.
    ///   - associatedData: Context the value belongs to (record id); must be given again to ``open(with:associatedData:)``.
    /// - Returns: The envelope, with a fresh random nonce.
    /// - Throws: ``SecretError/invalidMasterKey(reason:)`` if AES-GCM fails (not expected in practice).
    public static func seal(_ plaintext: [UInt8], with masterKey: MasterKey, associatedData: [UInt8]) throws
        -> SealedSecret
    {
        let header = SealedSecret.header(version: currentVersion, keyID: masterKey.id)
        do {
            let box = try AES.GCM.seal(
                plaintext, using: masterKey.symmetricKey, nonce: AES.GCM.Nonce(),
                authenticating: header + associatedData)
            return SealedSecret(
                version: currentVersion, keyID: masterKey.id, nonce: Array(box.nonce),
                ciphertext: Array(box.ciphertext),
                tag: Array(box.tag))
        } catch {
            throw SecretError.invalidMasterKey(reason: "AES-GCM sealing failed")
        }
    }

    /// Decrypts and authenticates the envelope.
    ///
    /// - Parameters:
    ///   - masterKey: The key whose ``MasterKey/id`` equals ``keyID``.
    ///   - associatedData: The same associated data given to ``seal(_:with:associatedData:)``.
    /// - Returns: The plaintext, wrapped in `Secret`.
    /// - Important: The plaintext is a secret: read `.value` only where it is used (writing a 0600 key file,
    ///   a private-key export), never to log or build a message.
    /// - Throws: ``SecretError/sealedSecretCorrupt`` for a different master key, different associated data
    ///   or any modified byte.
    public func open(with masterKey: MasterKey, associatedData: [UInt8]) throws(SecretError) -> Secret<[UInt8]> {
        guard masterKey.id == keyID else { throw .sealedSecretCorrupt }
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
            let plaintext = try AES.GCM.open(
                box, using: masterKey.symmetricKey,
                authenticating: SealedSecret.header(version: version, keyID: keyID) + associatedData)
            return Secret(Array(plaintext))
        } catch {
            throw .sealedSecretCorrupt
        }
    }

    /// The envelope bytes (layout in the type documentation).
    public func serialized() -> [UInt8] {
        SealedSecret.header(version: version, keyID: keyID) + nonce + ciphertext + tag
    }

    /// The envelope as standard base64 of ``serialized()`` (for text columns).
    public var base64: String { Data(serialized()).base64EncodedString() }

    /// Parses envelope bytes.
    ///
    /// - Throws: ``SecretError/sealedSecretCorrupt`` for an unknown version or a truncated envelope.
    public init(serialized bytes: [UInt8]) throws(SecretError) {
        guard bytes.count >= 2, bytes[0] == SealedSecret.currentVersion else { throw .sealedSecretCorrupt }
        let keyIDLength = Int(bytes[1])
        let bodyStart = 2 + keyIDLength
        guard keyIDLength > 0, bytes.count >= bodyStart + SealedSecret.nonceByteCount + SealedSecret.tagByteCount,
            let keyID = String(validating: bytes[2..<bodyStart], as: UTF8.self)
        else { throw .sealedSecretCorrupt }
        let nonceEnd = bodyStart + SealedSecret.nonceByteCount
        let tagStart = bytes.count - SealedSecret.tagByteCount
        self.init(
            version: bytes[0], keyID: keyID, nonce: Array(bytes[bodyStart..<nonceEnd]),
            ciphertext: Array(bytes[nonceEnd..<tagStart]), tag: Array(bytes[tagStart...]))
    }

    /// Parses the base64 form produced by ``base64``.
    ///
    /// - Throws: ``SecretError/sealedSecretCorrupt`` when the text is not base64 or not an envelope.
    public init(base64: String) throws(SecretError) {
        guard let data = Data(base64Encoded: base64) else { throw .sealedSecretCorrupt }
        try self.init(serialized: Array(data))
    }

    private init(version: UInt8, keyID: String, nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
        self.version = version
        self.keyID = keyID
        self.nonce = nonce
        self.ciphertext = ciphertext
        self.tag = tag
    }

    private static func header(version: UInt8, keyID: String) -> [UInt8] {
        let id = Array(keyID.utf8.prefix(255))
        return [version, UInt8(id.count)] + id
    }

    /// `SealedSecret(v1, key <id>, <n> bytes)`; ciphertext is not shown.
    public var description: String { "SealedSecret(v\(version), key \(keyID), \(ciphertext.count) bytes)" }
}
