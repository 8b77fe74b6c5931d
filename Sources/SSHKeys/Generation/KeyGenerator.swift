import Crypto
import _CryptoExtras

/// Generates new SSH key pairs in-process with swift-crypto (BoringSSL), without `ssh-keygen`.
public enum KeyGenerator {
    /// RSA modulus sizes Pipewright generates, in bits.
    public static let allowedRSABits: Set<Int> = [2048, 4096]

    /// Generates a new private key.
    ///
    /// - Parameters:
    ///   - type: ``KeyType/ed25519`` or ``KeyType/rsa``. ECDSA is import-only.
    ///   - bits: Ed25519: `nil` or `256`. RSA: `2048` or `4096`; `nil` means 4096.
    ///     RSA-4096 generation takes about 1–7 s on one core (random prime search).
    /// - Returns: The new key; its public half has an empty comment.
    /// - Throws: ``SSHKeyError/invalidKeyParameters(reason:)`` for another size or for ECDSA;
    ///   ``SSHKeyError/invalidPrivateKey(reason:)`` if BoringSSL fails to produce a key.
    public static func generate(type: KeyType, bits: Int? = nil) throws -> SSHPrivateKey {
        switch type {
        case .ed25519:
            guard bits == nil || bits == 256 else {
                throw SSHKeyError.invalidKeyParameters(reason: "ed25519 keys are always 256 bits")
            }
            return SSHPrivateKey(ed25519: Curve25519.Signing.PrivateKey())
        case .rsa:
            let size = bits ?? 4096
            guard allowedRSABits.contains(size) else {
                throw SSHKeyError.invalidKeyParameters(reason: "rsa keys must be 2048 or 4096 bits, not \(size)")
            }
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: size))
            } catch {
                throw SSHKeyError.invalidPrivateKey(reason: "RSA key generation failed")
            }
            return try SSHPrivateKey(rsa: key)
        case .ecdsa:
            throw SSHKeyError.invalidKeyParameters(reason: "ecdsa keys can be imported but not generated")
        }
    }
}
