import Crypto
import Foundation
import PipewrightCore
import _CryptoExtras

/// Encoder and decoder for OpenSSH's `openssh-key-v1` private-key container
/// (OpenSSH `PROTOCOL.key`; `sshkey.c`: `sshkey_private_to_blob2`, `sshkey_parse_private2`).
///
/// ```
/// "openssh-key-v1\0"
/// string ciphername        "none" | "aes256-ctr" | …
/// string kdfname           "none" | "bcrypt"
/// string kdfoptions        "" | string salt, uint32 rounds
/// uint32 number of keys    1
/// string public key blob
/// string private section   (encrypted unless cipher is "none")
///     uint32 checkint, uint32 checkint (equal)
///     key-type-specific fields, string comment, padding 1, 2, 3, … to the block size
/// ```
enum OpenSSHPrivateKeyCodec {
    /// The PEM label.
    static let label = "OPENSSH PRIVATE KEY"
    /// The binary magic that starts the container.
    static let magic: [UInt8] = Array("openssh-key-v1".utf8) + [0]
    /// bcrypt rounds used when writing (ssh-keygen's default `-a 16`).
    static let defaultRounds = 16
    /// Upper bound on bcrypt rounds accepted when reading, so that a pasted key cannot tie up a CPU.
    static let maximumRounds = 1024
    /// Line width of the base64 body written by ssh-keygen.
    static let lineWidth = 70

    /// A symmetric cipher usable for the private section.
    struct Cipher {
        enum Mode { case none, ctr, cbc }
        var name: String
        var mode: Mode
        var keyLength: Int
        var blockSize: Int { mode == .none ? 8 : 16 }
        var ivLength: Int { mode == .none ? 0 : 16 }

        static func named(_ name: String) -> Cipher? {
            switch name {
            case "none": Cipher(name: name, mode: .none, keyLength: 0)
            case "aes128-ctr": Cipher(name: name, mode: .ctr, keyLength: 16)
            case "aes192-ctr": Cipher(name: name, mode: .ctr, keyLength: 24)
            case "aes256-ctr": Cipher(name: name, mode: .ctr, keyLength: 32)
            case "aes128-cbc": Cipher(name: name, mode: .cbc, keyLength: 16)
            case "aes192-cbc": Cipher(name: name, mode: .cbc, keyLength: 24)
            case "aes256-cbc", "rijndael-cbc@lysator.liu.se": Cipher(name: name, mode: .cbc, keyLength: 32)
            default: nil
            }
        }

        /// Applies the cipher (both directions for CTR; `encrypt` selects the CBC direction).
        func apply(_ data: [UInt8], key: [UInt8], iv: [UInt8], encrypt: Bool) throws -> [UInt8] {
            let symmetricKey = SymmetricKey(data: key)
            switch mode {
            case .none:
                return data
            case .ctr:
                return Array(try AES._CTR.encrypt(data, using: symmetricKey, nonce: AES._CTR.Nonce(nonceBytes: iv)))
            case .cbc:
                let cbcIV = try AES._CBC.IV(ivBytes: iv)
                if encrypt {
                    return Array(try AES._CBC.encrypt(data, using: symmetricKey, iv: cbcIV, noPadding: true))
                }
                return Array(try AES._CBC.decrypt(data, using: symmetricKey, iv: cbcIV, noPadding: true))
            }
        }
    }

    // MARK: - Encoding

    /// Writes `key` as ssh-keygen does; see ``SSHPrivateKey/openSSHPrivateKeyPEM(comment:passphrase:)``.
    static func encode(_ key: SSHPrivateKey, comment: String, passphrase: Secret<String>?) throws -> Secret<String> {
        let password = passphrase.map { Array($0.value.utf8) } ?? []
        let cipher = Cipher(
            name: password.isEmpty ? "none" : "aes256-ctr", mode: password.isEmpty ? .none : .ctr,
            keyLength: password.isEmpty ? 0 : 32)

        var kdfOptions = SSHWireWriter()
        var derived: [UInt8] = []
        if !password.isEmpty {
            var salt = [UInt8](repeating: 0, count: 16)
            var generator = SystemRandomNumberGenerator()
            for index in salt.indices { salt[index] = generator.next() }
            kdfOptions.writeString(salt)
            kdfOptions.writeUInt32(UInt32(defaultRounds))
            derived = try BcryptPBKDF.deriveKey(
                password: password, salt: salt, rounds: defaultRounds, keyLength: cipher.keyLength + cipher.ivLength)
        }

        var section = SSHWireWriter()
        var generator = SystemRandomNumberGenerator()
        let checkInt = UInt32.random(in: UInt32.min...UInt32.max, using: &generator)
        section.writeUInt32(checkInt)
        section.writeUInt32(checkInt)
        writePrivateFields(of: key, to: &section)
        section.writeString(SSHPublicKey.sanitizedComment(comment))
        var padding: UInt8 = 1
        while section.bytes.count % cipher.blockSize != 0 {
            section.writeRaw([padding])
            padding += 1
        }

        let encrypted: [UInt8]
        do {
            encrypted = try cipher.apply(
                section.bytes, key: Array(derived.prefix(cipher.keyLength)),
                iv: Array(derived.dropFirst(cipher.keyLength)),
                encrypt: true)
        } catch {
            throw SSHKeyError.invalidKeyParameters(reason: "encrypting the private key failed")
        }

        var container = SSHWireWriter()
        container.writeRaw(magic)
        container.writeString(cipher.name)
        container.writeString(password.isEmpty ? "none" : "bcrypt")
        container.writeString(kdfOptions.bytes)
        container.writeUInt32(1)
        container.writeString(key.publicKey.blob)
        container.writeString(encrypted)
        return Secret(PEMBlock.armor(label: label, body: container.bytes, lineWidth: lineWidth))
    }

    /// The key-type-specific private fields (`sshkey_private_serialize`).
    private static func writePrivateFields(of key: SSHPrivateKey, to writer: inout SSHWireWriter) {
        switch key.storage {
        case .ed25519(let privateKey):
            let publicBytes = Array(privateKey.publicKey.rawRepresentation)
            writer.writeString("ssh-ed25519")
            writer.writeString(publicBytes)
            writer.writeString(Array(privateKey.rawRepresentation) + publicBytes)
        case .rsa(_, let components):
            writer.writeString("ssh-rsa")
            writer.writeMPInt(unsigned: components.modulus)
            writer.writeMPInt(unsigned: components.publicExponent)
            writer.writeMPInt(unsigned: components.privateExponent)
            writer.writeMPInt(unsigned: components.coefficient)
            writer.writeMPInt(unsigned: components.prime1)
            writer.writeMPInt(unsigned: components.prime2)
        case .p256(let privateKey):
            writeECDSA(
                .p256, point: privateKey.publicKey.x963Representation, scalar: privateKey.rawRepresentation, to: &writer
            )
        case .p384(let privateKey):
            writeECDSA(
                .p384, point: privateKey.publicKey.x963Representation, scalar: privateKey.rawRepresentation, to: &writer
            )
        case .p521(let privateKey):
            writeECDSA(
                .p521, point: privateKey.publicKey.x963Representation, scalar: privateKey.rawRepresentation, to: &writer
            )
        }
    }

    private static func writeECDSA(_ curve: ECDSACurve, point: Data, scalar: Data, to writer: inout SSHWireWriter) {
        writer.writeString(curve.algorithmName)
        writer.writeString(curve.identifier)
        writer.writeString(Array(point))
        writer.writeMPInt(unsigned: Array(scalar))
    }

    // MARK: - Decoding

    /// The result of decoding a container.
    struct Decoded {
        var key: SSHPrivateKey
        var comment: String
        var wasEncrypted: Bool
    }

    /// Decodes the binary container (the PEM body).
    ///
    /// - Throws: ``SSHKeyError/wrongPassphrase`` (missing passphrase, or check-ints differ after
    ///   decryption), ``SSHKeyError/unsupportedKeyType(_:)`` (`ssh-dss` → `"dsa"`, other algorithms),
    ///   ``SSHKeyError/invalidPrivateKey(reason:)`` for anything malformed.
    static func decode(_ body: [UInt8], passphrase: Secret<String>?) throws(SSHKeyError) -> Decoded {
        guard body.starts(with: magic) else { throw .invalidPrivateKey(reason: "missing openssh-key-v1 magic") }
        var reader = SSHWireReader(body.dropFirst(magic.count))
        do {
            let cipherName = try reader.readText()
            let kdfName = try reader.readText()
            let kdfOptions = try reader.readString()
            let keyCount = try reader.readUInt32()
            guard keyCount == 1 else { throw SSHKeyError.invalidPrivateKey(reason: "expected exactly one key") }
            let publicBlob = try reader.readString()
            let encrypted = try reader.readString()

            var publicReader = SSHWireReader(publicBlob)
            let publicAlgorithm = try publicReader.readText()
            if publicAlgorithm == "ssh-dss" { throw SSHKeyError.unsupportedKeyType("dsa") }

            guard let cipher = Cipher.named(cipherName) else {
                throw SSHKeyError.invalidPrivateKey(reason: "cipher \(cipherName.prefix(40)) is not supported")
            }
            let isEncrypted = cipher.mode != .none
            var plaintext = encrypted
            if isEncrypted {
                guard kdfName == "bcrypt" else {
                    throw SSHKeyError.invalidPrivateKey(reason: "kdf \(kdfName.prefix(40)) is not supported")
                }
                guard let password = passphrase.map({ Array($0.value.utf8) }), !password.isEmpty else {
                    throw SSHKeyError.wrongPassphrase
                }
                var options = SSHWireReader(kdfOptions)
                let salt = try options.readString()
                let rounds = Int(try options.readUInt32())
                guard rounds >= 1, rounds <= maximumRounds else {
                    throw SSHKeyError.invalidPrivateKey(reason: "bcrypt rounds must be between 1 and \(maximumRounds)")
                }
                guard encrypted.count % cipher.blockSize == 0 else {
                    throw SSHKeyError.invalidPrivateKey(reason: "encrypted section is not a whole number of blocks")
                }
                let derived = try BcryptPBKDF.deriveKey(
                    password: password, salt: salt, rounds: rounds, keyLength: cipher.keyLength + cipher.ivLength)
                do {
                    plaintext = try cipher.apply(
                        encrypted, key: Array(derived.prefix(cipher.keyLength)),
                        iv: Array(derived.dropFirst(cipher.keyLength)), encrypt: false)
                } catch {
                    throw SSHKeyError.invalidPrivateKey(reason: "decrypting the private section failed")
                }
            } else {
                guard kdfName == "none" else {
                    throw SSHKeyError.invalidPrivateKey(reason: "kdf is set but cipher is none")
                }
            }

            var section = SSHWireReader(plaintext)
            let check1 = try section.readUInt32()
            let check2 = try section.readUInt32()
            guard check1 == check2 else {
                if isEncrypted { throw SSHKeyError.wrongPassphrase }
                throw SSHKeyError.invalidPrivateKey(reason: "check-ints differ")
            }
            let key = try readPrivateFields(&section)
            let comment = try section.readText()
            let padding = Array(section.remaining)
            guard padding.enumerated().allSatisfy({ UInt8(truncatingIfNeeded: $0.offset + 1) == $0.element }) else {
                throw SSHKeyError.invalidPrivateKey(reason: "bad padding")
            }
            guard key.publicKey.blob == publicBlob else {
                throw SSHKeyError.invalidPrivateKey(reason: "the public key does not match the private key")
            }
            return Decoded(key: key, comment: comment, wasEncrypted: isEncrypted)
        } catch let error as SSHKeyError {
            throw error
        } catch {
            throw .invalidPrivateKey(reason: "the openssh-key-v1 data is truncated")
        }
    }

    /// Reads the key-type-specific private fields (`sshkey_private_deserialize`).
    private static func readPrivateFields(_ reader: inout SSHWireReader) throws -> SSHPrivateKey {
        let algorithm = try reader.readText()
        switch algorithm {
        case "ssh-ed25519":
            let publicBytes = try reader.readString()
            let secret = try reader.readString()
            guard publicBytes.count == 32, secret.count == 64 else {
                throw SSHKeyError.invalidPrivateKey(reason: "ed25519 key has wrong lengths")
            }
            let key: Curve25519.Signing.PrivateKey
            do {
                key = try Curve25519.Signing.PrivateKey(rawRepresentation: secret.prefix(32))
            } catch {
                throw SSHKeyError.invalidPrivateKey(reason: "ed25519 seed is invalid")
            }
            guard Array(key.publicKey.rawRepresentation) == publicBytes, Array(secret.suffix(32)) == publicBytes else {
                throw SSHKeyError.invalidPrivateKey(reason: "ed25519 public key does not match the seed")
            }
            return SSHPrivateKey(ed25519: key)
        case "ssh-rsa":
            let n = try reader.readMPIntMagnitude()
            let e = try reader.readMPIntMagnitude()
            let d = try reader.readMPIntMagnitude()
            _ = try reader.readMPIntMagnitude()  // iqmp: recomputed by BoringSSL
            let p = try reader.readMPIntMagnitude()
            let q = try reader.readMPIntMagnitude()
            return try makeRSA(n: n, e: e, d: d, p: p, q: q)
        case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
            let identifier = try reader.readText()
            guard let curve = ECDSACurve(identifier: identifier), curve.algorithmName == algorithm else {
                throw SSHKeyError.invalidPrivateKey(reason: "ecdsa curve does not match the algorithm")
            }
            _ = try reader.readString()  // public point, checked against the outer public blob
            let scalar = try reader.readMPIntMagnitude()
            return try SSHPrivateKey(ecdsa: curve, scalar: scalar)
        case "ssh-dss":
            throw SSHKeyError.unsupportedKeyType("dsa")
        default:
            throw SSHKeyError.unsupportedKeyType(String(algorithm.prefix(64)))
        }
    }

    /// Builds an RSA key from its integers, refusing moduli under 2048 bits.
    ///
    /// - Throws: ``SSHKeyError/unsupportedKeyType(_:)`` (`"rsa-1024"`) for small keys,
    ///   ``SSHKeyError/invalidPrivateKey(reason:)`` when the integers are inconsistent.
    static func makeRSA(n: [UInt8], e: [UInt8], d: [UInt8], p: [UInt8], q: [UInt8]) throws(SSHKeyError) -> SSHPrivateKey
    {
        let bits = SSHPublicKey.bitLength(ofMagnitude: n)
        guard bits >= 2048 else { throw .unsupportedKeyType("rsa-\(bits)") }
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: p, q: q)
        } catch {
            throw .invalidPrivateKey(reason: "the RSA key parameters are inconsistent")
        }
        return try SSHPrivateKey(rsa: key)
    }
}
