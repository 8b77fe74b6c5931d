import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// Decoders for the DER private-key structures found in PEM files:
/// PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2), SEC1 `ECPrivateKey` (RFC 5915), PKCS#8
/// `PrivateKeyInfo`/`OneAsymmetricKey` (RFC 5208, RFC 5958; Ed25519 per RFC 8410) and PKCS#8
/// `EncryptedPrivateKeyInfo` with PBES2 (RFC 8018 §6.2: PBKDF2 + AES-CBC).
enum PKCSKeyDecoder {
    /// Object identifiers, dotted.
    enum OID {
        static let rsaEncryption = "1.2.840.113549.1.1.1"
        static let ecPublicKey = "1.2.840.10045.2.1"
        static let ed25519 = "1.3.101.112"
        static let dsa = "1.2.840.10040.4.1"
        static let pbes2 = "1.2.840.113549.1.5.13"
        static let pbkdf2 = "1.2.840.113549.1.5.12"
        static let hmacWithSHA1 = "1.2.840.113549.2.7"
        static let hmacWithSHA224 = "1.2.840.113549.2.8"
        static let hmacWithSHA256 = "1.2.840.113549.2.9"
        static let hmacWithSHA384 = "1.2.840.113549.2.10"
        static let hmacWithSHA512 = "1.2.840.113549.2.11"
        static let aes128CBC = "2.16.840.1.101.3.4.1.2"
        static let aes192CBC = "2.16.840.1.101.3.4.1.22"
        static let aes256CBC = "2.16.840.1.101.3.4.1.42"
    }

    /// Upper bound on PBKDF2 iterations accepted, so that a pasted key cannot tie up a CPU.
    static let maximumPBKDF2Iterations = 10_000_000

    // MARK: - PKCS#1

    /// Decodes a PKCS#1 `RSAPrivateKey`; refuses moduli under 2048 bits.
    ///
    /// - Throws: ``SSHKeyError/unsupportedKeyType(_:)`` (`"rsa-<bits>"`) for small keys,
    ///   ``SSHKeyError/invalidPrivateKey(reason:)`` otherwise.
    static func decodePKCS1(_ der: [UInt8]) throws(SSHKeyError) -> SSHPrivateKey {
        let components: RSAKeyComponents
        do {
            components = try RSAKeyComponents(pkcs1DER: der)
        } catch {
            throw .invalidPrivateKey(reason: "the RSA key is not a valid PKCS#1 structure")
        }
        guard components.modulusBits >= 2048 else { throw .unsupportedKeyType("rsa-\(components.modulusBits)") }
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(derRepresentation: der)
        } catch {
            throw .invalidPrivateKey(reason: "the RSA key parameters are inconsistent")
        }
        return try SSHPrivateKey(rsa: key)
    }

    // MARK: - SEC1

    /// Decodes a SEC1 `ECPrivateKey`. The curve comes from the `[0]` parameters, else from `curveHint`
    /// (PKCS#8 algorithm parameters), else from the scalar length.
    ///
    /// - Throws: ``SSHKeyError/unsupportedKeyType(_:)`` for other curves,
    ///   ``SSHKeyError/invalidPrivateKey(reason:)`` otherwise.
    static func decodeSEC1(_ der: [UInt8], curveHint: ECDSACurve? = nil) throws(SSHKeyError) -> SSHPrivateKey {
        let parsed: (scalar: [UInt8], curveOID: String?)
        do {
            let root = try DER.parse(der)
            parsed = try DER.sequence(root, identifier: .sequence) { nodes in
                let version = try Int(derEncoded: &nodes)
                guard version == 1 else { throw ASN1Error.invalidASN1Object(reason: "version") }
                let scalar = Array(try ASN1OctetString(derEncoded: &nodes).bytes)
                let curveOID = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                    try ASN1ObjectIdentifier(derEncoded: $0).description
                }
                while nodes.next() != nil {}
                return (scalar, curveOID)
            }
        } catch {
            throw .invalidPrivateKey(reason: "the EC key is not a valid SEC1 structure")
        }
        let curve: ECDSACurve
        if let oid = parsed.curveOID {
            guard let named = ECDSACurve(objectIdentifier: oid) else { throw .unsupportedKeyType("ecdsa curve \(oid)") }
            curve = named
        } else if let curveHint {
            curve = curveHint
        } else if let bySize = ECDSACurve(scalarByteCount: parsed.scalar.count) {
            curve = bySize
        } else {
            throw .invalidPrivateKey(reason: "the EC curve cannot be determined")
        }
        return try SSHPrivateKey(ecdsa: curve, scalar: parsed.scalar)
    }

    // MARK: - PKCS#8

    /// Decodes a PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` holding RSA, Ed25519 or ECDSA.
    ///
    /// - Throws: ``SSHKeyError/unsupportedKeyType(_:)`` for DSA (`"dsa"`) and other algorithms,
    ///   ``SSHKeyError/invalidPrivateKey(reason:)`` otherwise.
    static func decodePKCS8(_ der: [UInt8]) throws(SSHKeyError) -> SSHPrivateKey {
        let parsed: (algorithm: String, parameters: ASN1Node?, privateKey: [UInt8])
        do {
            let root = try DER.parse(der)
            parsed = try DER.sequence(root, identifier: .sequence) { nodes in
                let version = try Int(derEncoded: &nodes)
                guard version == 0 || version == 1 else { throw ASN1Error.invalidASN1Object(reason: "version") }
                let (algorithm, parameters) = try algorithmIdentifier(&nodes)
                let privateKey = Array(try ASN1OctetString(derEncoded: &nodes).bytes)
                while nodes.next() != nil {}
                return (algorithm, parameters, privateKey)
            }
        } catch {
            throw .invalidPrivateKey(reason: "the key is not a valid PKCS#8 structure")
        }
        switch parsed.algorithm {
        case OID.rsaEncryption:
            return try decodePKCS1(parsed.privateKey)
        case OID.ed25519:
            let seed: [UInt8]
            do {
                seed = Array(try ASN1OctetString(derEncoded: DER.parse(parsed.privateKey)).bytes)
            } catch {
                throw .invalidPrivateKey(reason: "the Ed25519 key is malformed")
            }
            guard seed.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
                throw .invalidPrivateKey(reason: "the Ed25519 seed is not 32 bytes")
            }
            return SSHPrivateKey(ed25519: key)
        case OID.ecPublicKey:
            var hint: ECDSACurve?
            if let parameters = parsed.parameters {
                guard let oid = try? ASN1ObjectIdentifier(derEncoded: parameters) else {
                    throw .unsupportedKeyType("ecdsa with explicit curve parameters")
                }
                guard let curve = ECDSACurve(objectIdentifier: oid.description) else {
                    throw .unsupportedKeyType("ecdsa curve \(oid.description)")
                }
                hint = curve
            }
            return try decodeSEC1(parsed.privateKey, curveHint: hint)
        case OID.dsa:
            throw .unsupportedKeyType("dsa")
        default:
            throw .unsupportedKeyType("algorithm \(parsed.algorithm)")
        }
    }

    /// Decrypts a PKCS#8 `EncryptedPrivateKeyInfo` (PBES2 with PBKDF2-HMAC-SHA1/SHA2 and AES-CBC) and
    /// decodes the inner key.
    ///
    /// - Throws: ``SSHKeyError/wrongPassphrase`` when the passphrase is missing or decryption/decoding
    ///   fails, ``SSHKeyError/invalidPrivateKey(reason:)`` for unsupported or malformed parameters.
    static func decodeEncryptedPKCS8(_ der: [UInt8], passphrase: [UInt8]?) throws(SSHKeyError) -> SSHPrivateKey {
        struct Parameters {
            var salt: [UInt8]
            var iterations: Int
            var keyLength: Int?
            var prf: String
            var cipher: String
            var iv: [UInt8]
            var ciphertext: [UInt8]
        }
        let parameters: Parameters
        do {
            let root = try DER.parse(der)
            parameters = try DER.sequence(root, identifier: .sequence) { nodes in
                let (scheme, schemeParameters) = try algorithmIdentifier(&nodes)
                let ciphertext = Array(try ASN1OctetString(derEncoded: &nodes).bytes)
                guard scheme == OID.pbes2, let schemeParameters else {
                    throw UnsupportedScheme(name: "encryption scheme \(scheme)")
                }
                return try DER.sequence(schemeParameters, identifier: .sequence) { pbes2 in
                    let (kdf, kdfParameters) = try algorithmIdentifier(&pbes2)
                    guard kdf == OID.pbkdf2, let kdfParameters else { throw UnsupportedScheme(name: "kdf \(kdf)") }
                    let (cipher, cipherParameters) = try algorithmIdentifier(&pbes2)
                    guard let cipherParameters else { throw UnsupportedScheme(name: "cipher \(cipher) without IV") }
                    let iv = Array(try ASN1OctetString(derEncoded: cipherParameters).bytes)
                    return try DER.sequence(kdfParameters, identifier: .sequence) { pbkdf2 in
                        let salt = Array(try ASN1OctetString(derEncoded: &pbkdf2).bytes)
                        let iterations = try Int(derEncoded: &pbkdf2)
                        var keyLength: Int?
                        var prf = OID.hmacWithSHA1
                        while let node = pbkdf2.next() {
                            if node.identifier == .integer {
                                keyLength = try Int(derEncoded: node)
                            } else {
                                prf = try DER.sequence(node, identifier: .sequence) { prfNodes in
                                    let oid = try ASN1ObjectIdentifier(derEncoded: &prfNodes).description
                                    while prfNodes.next() != nil {}
                                    return oid
                                }
                            }
                        }
                        return Parameters(
                            salt: salt, iterations: iterations, keyLength: keyLength, prf: prf, cipher: cipher, iv: iv,
                            ciphertext: ciphertext)
                    }
                }
            }
        } catch let unsupported as UnsupportedScheme {
            throw .invalidPrivateKey(reason: "unsupported PKCS#8 \(unsupported.name)")
        } catch {
            throw .invalidPrivateKey(reason: "the encrypted PKCS#8 structure is malformed")
        }

        let keyLength: Int
        switch parameters.cipher {
        case OID.aes128CBC: keyLength = 16
        case OID.aes192CBC: keyLength = 24
        case OID.aes256CBC: keyLength = 32
        default: throw .invalidPrivateKey(reason: "unsupported PKCS#8 cipher \(parameters.cipher)")
        }
        let hash: KDF.Insecure.PBKDF2.HashFunction
        switch parameters.prf {
        case OID.hmacWithSHA1: hash = .insecureSHA1
        case OID.hmacWithSHA224: hash = .insecureSHA224
        case OID.hmacWithSHA256: hash = .sha256
        case OID.hmacWithSHA384: hash = .sha384
        case OID.hmacWithSHA512: hash = .sha512
        default: throw .invalidPrivateKey(reason: "unsupported PKCS#8 PRF \(parameters.prf)")
        }
        guard parameters.keyLength == nil || parameters.keyLength == keyLength else {
            throw .invalidPrivateKey(reason: "PKCS#8 key length does not match the cipher")
        }
        guard parameters.iterations >= 1, parameters.iterations <= maximumPBKDF2Iterations else {
            throw .invalidPrivateKey(reason: "PKCS#8 iteration count is out of range")
        }
        guard let passphrase, !passphrase.isEmpty else { throw .wrongPassphrase }

        let plaintext: [UInt8]
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: passphrase, salt: parameters.salt, using: hash, outputByteCount: keyLength,
                unsafeUncheckedRounds: parameters.iterations)
            plaintext = Array(
                try AES._CBC.decrypt(parameters.ciphertext, using: key, iv: AES._CBC.IV(ivBytes: parameters.iv)))
        } catch {
            throw .wrongPassphrase
        }
        return try decodeDecrypted { () throws(SSHKeyError) in try decodePKCS8(plaintext) }
    }

    /// Runs `decode` on freshly decrypted bytes: a structural failure there means the passphrase was
    /// wrong (garbage that happened to have valid padding), so it becomes ``SSHKeyError/wrongPassphrase``.
    static func decodeDecrypted(_ decode: () throws(SSHKeyError) -> SSHPrivateKey) throws(SSHKeyError) -> SSHPrivateKey
    {
        do {
            return try decode()
        } catch .invalidPrivateKey {
            throw .wrongPassphrase
        }
    }

    // MARK: - Helpers

    private struct UnsupportedScheme: Error {
        var name: String
    }

    /// Reads an `AlgorithmIdentifier` (OID + optional parameters) from a sequence iterator.
    static func algorithmIdentifier(
        _ nodes: inout ASN1NodeCollection.Iterator
    ) throws -> (oid: String, parameters: ASN1Node?) {
        guard let node = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "missing algorithm") }
        return try DER.sequence(node, identifier: .sequence) { inner in
            let oid = try ASN1ObjectIdentifier(derEncoded: &inner).description
            var parameters = inner.next()
            if let node = parameters, node.identifier == .null { parameters = nil }
            while inner.next() != nil {}
            return (oid, parameters)
        }
    }
}
