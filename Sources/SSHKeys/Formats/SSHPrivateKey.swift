import Crypto
import Foundation
import PipewrightCore
import _CryptoExtras

/// An SSH private key: Ed25519, RSA (≥ 2048 bits) or ECDSA over P-256/P-384/P-521.
///
/// Created by ``KeyGenerator/generate(type:bits:)`` or ``PrivateKeyImporter/parse(_:passphrase:)``, and
/// written out with ``openSSHPrivateKeyPEM(comment:passphrase:)``. The value holds key material:
/// `description` and `dump` never show it.
///
/// - Important: Holds plaintext private-key material in memory for as long as the value lives. Only the
///   SSHKeys module and the App's key service may hold one; persist it only sealed (``SealedSecret``).
public struct SSHPrivateKey: Sendable, CustomStringConvertible, CustomReflectable {
    /// The underlying key.
    enum Storage: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey, RSAKeyComponents)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
    }

    let storage: Storage

    /// The public half (comment empty); see ``publicKey(comment:)``.
    public let publicKey: SSHPublicKey

    /// Wraps an Ed25519 key.
    init(ed25519 key: Curve25519.Signing.PrivateKey) {
        storage = .ed25519(key)
        var writer = SSHWireWriter()
        writer.writeString("ssh-ed25519")
        writer.writeString(Array(key.publicKey.rawRepresentation))
        publicKey = SSHPublicKey(
            algorithm: "ssh-ed25519", blob: writer.bytes, comment: "", keyType: .ed25519, keySizeBits: 256)
    }

    /// Wraps an RSA key; reads its components from the PKCS#1 DER form.
    ///
    /// - Throws: ``SSHKeyError/invalidPrivateKey(reason:)`` if BoringSSL's DER cannot be read back.
    init(rsa key: _RSA.Signing.PrivateKey) throws(SSHKeyError) {
        let components: RSAKeyComponents
        do {
            components = try RSAKeyComponents(pkcs1DER: key.derRepresentation)
        } catch {
            throw .invalidPrivateKey(reason: "the RSA key structure is not PKCS#1")
        }
        storage = .rsa(key, components)
        var writer = SSHWireWriter()
        writer.writeString("ssh-rsa")
        writer.writeMPInt(unsigned: components.publicExponent)
        writer.writeMPInt(unsigned: components.modulus)
        publicKey = SSHPublicKey(
            algorithm: "ssh-rsa", blob: writer.bytes, comment: "", keyType: .rsa,
            keySizeBits: components.modulusBits)
    }

    /// Wraps an ECDSA key given as its raw private scalar.
    ///
    /// - Throws: ``SSHKeyError/invalidPrivateKey(reason:)`` if the scalar is not valid for `curve`.
    init(ecdsa curve: ECDSACurve, scalar: [UInt8]) throws(SSHKeyError) {
        let magnitude = Array(scalar.drop { $0 == 0 })
        guard magnitude.count <= curve.scalarByteCount else {
            throw .invalidPrivateKey(reason: "the ECDSA private scalar is too long for \(curve.identifier)")
        }
        let padded = [UInt8](repeating: 0, count: curve.scalarByteCount - magnitude.count) + magnitude
        let point: Data
        do {
            switch curve {
            case .p256:
                let key = try P256.Signing.PrivateKey(rawRepresentation: padded)
                storage = .p256(key)
                point = key.publicKey.x963Representation
            case .p384:
                let key = try P384.Signing.PrivateKey(rawRepresentation: padded)
                storage = .p384(key)
                point = key.publicKey.x963Representation
            case .p521:
                let key = try P521.Signing.PrivateKey(rawRepresentation: padded)
                storage = .p521(key)
                point = key.publicKey.x963Representation
            }
        } catch {
            throw .invalidPrivateKey(reason: "the ECDSA private scalar is not valid for \(curve.identifier)")
        }
        var writer = SSHWireWriter()
        writer.writeString(curve.algorithmName)
        writer.writeString(curve.identifier)
        writer.writeString(Array(point))
        publicKey = SSHPublicKey(
            algorithm: curve.algorithmName, blob: writer.bytes, comment: "", keyType: .ecdsa, keySizeBits: curve.bits)
    }

    /// The key family.
    public var keyType: KeyType { publicKey.keyType }

    /// Key size in bits: 256 for Ed25519, the modulus length for RSA (2048, 4096, …), 256/384/521 for ECDSA.
    public var keySizeBits: Int { publicKey.keySizeBits }

    /// The ECDSA curve, or `nil` for Ed25519 and RSA.
    public var ecdsaCurve: ECDSACurve? {
        switch storage {
        case .p256: .p256
        case .p384: .p384
        case .p521: .p521
        case .ed25519, .rsa: nil
        }
    }

    /// The public half with `comment` attached.
    public func publicKey(comment: String) -> SSHPublicKey {
        publicKey.withComment(comment)
    }

    /// Writes the key in OpenSSH's `openssh-key-v1` format, byte-compatible with `ssh-keygen`
    /// (OpenSSH `PROTOCOL.key`; `sshkey_private_to_blob2`).
    ///
    /// Shape: `-----BEGIN OPENSSH PRIVATE KEY-----`, base64 in 70-column lines, `-----END OPENSSH PRIVATE
    /// KEY-----` and a final newline. Two equal random check-ints, the key, the comment and padding
    /// `1, 2, 3, …` to the cipher block size. Without a passphrase (or with an empty one): cipher `none`,
    /// KDF `none`. With one: cipher `aes256-ctr`, KDF `bcrypt` (16-byte random salt, 16 rounds, as
    /// `ssh-keygen -a 16`).
    ///
    /// - Parameters:
    ///   - comment: Stored inside the encrypted section (ssh-keygen's `-C`); may be empty.
    ///   - passphrase: Encrypts the key when non-nil and non-empty.
    /// - Returns: The PEM text, wrapped in `Secret`.
    /// - Important: The result is the plaintext private key (unless a passphrase is given). Write it only
    ///   to a 0600 file, a private-key download response, or ``SealedSecret/seal(_:with:associatedData:)``.
    /// - Throws: ``SSHKeyError/invalidKeyParameters(reason:)`` if encryption fails.
    public func openSSHPrivateKeyPEM(comment: String, passphrase: Secret<String>?) throws -> Secret<String> {
        try OpenSSHPrivateKeyCodec.encode(self, comment: comment, passphrase: passphrase)
    }

    /// `SSHPrivateKey(<type>, <bits> bits, <SHA256 fingerprint>)`; never key material.
    public var description: String {
        "SSHPrivateKey(\(keyType.rawValue), \(keySizeBits) bits, \(publicKey.fingerprintSHA256))"
    }

    /// An empty mirror, so `dump` shows no key material.
    public var customMirror: Mirror { Mirror(self, children: []) }
}
