import SwiftASN1

/// The integers of an RSA private key, as unsigned big-endian magnitudes without leading zeros.
///
/// Read from a PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2) so the OpenSSH encoder can write
/// `n, e, d, iqmp, p, q` (OpenSSH `PROTOCOL.key`, `sshkey_private_serialize`). Holds key material:
/// `description` is redacted.
struct RSAKeyComponents: Sendable, CustomStringConvertible {
    /// Thrown when the DER is not a two-prime PKCS#1 `RSAPrivateKey`.
    struct Malformed: Error {}

    var modulus: [UInt8]
    var publicExponent: [UInt8]
    var privateExponent: [UInt8]
    var prime1: [UInt8]
    var prime2: [UInt8]
    /// `q⁻¹ mod p` (PKCS#1 `coefficient`, OpenSSH `iqmp`).
    var coefficient: [UInt8]

    /// Parses a PKCS#1 `RSAPrivateKey` (version 0, two primes).
    ///
    /// - Throws: ``Malformed`` when the structure does not match.
    init(pkcs1DER: some Collection<UInt8>) throws(Malformed) {
        do {
            let root = try DER.parse(Array(pkcs1DER))
            self = try DER.sequence(root, identifier: .sequence) { nodes in
                let version = try Int(derEncoded: &nodes)
                guard version == 0 else { throw Malformed() }
                func next() throws -> [UInt8] {
                    Array(try ArraySlice<UInt8>(derEncoded: &nodes).drop { $0 == 0 })
                }
                let n = try next()
                let e = try next()
                let d = try next()
                let p = try next()
                let q = try next()
                _ = try next()  // d mod (p-1)
                _ = try next()  // d mod (q-1)
                let qInv = try next()
                return RSAKeyComponents(
                    modulus: n, publicExponent: e, privateExponent: d, prime1: p, prime2: q, coefficient: qInv)
            }
        } catch {
            throw Malformed()
        }
    }

    private init(
        modulus: [UInt8], publicExponent: [UInt8], privateExponent: [UInt8],
        prime1: [UInt8], prime2: [UInt8], coefficient: [UInt8]
    ) {
        self.modulus = modulus
        self.publicExponent = publicExponent
        self.privateExponent = privateExponent
        self.prime1 = prime1
        self.prime2 = prime2
        self.coefficient = coefficient
    }

    /// The modulus length in bits.
    var modulusBits: Int { SSHPublicKey.bitLength(ofMagnitude: modulus) }

    var description: String { "RSAKeyComponents(<redacted>)" }
}
