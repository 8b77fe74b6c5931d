import Crypto

/// OpenBSD's `bcrypt_pbkdf` key-derivation function, as used by OpenSSH to encrypt
/// openssh-key-v1 private keys (OpenSSH `PROTOCOL.key`, kdfname `"bcrypt"`).
///
/// Port of `lib/libutil/bcrypt_pbkdf.c` (Ted Unangst, 2013): PBKDF2-like, with SHA-512 to collapse
/// the password and salt and a Blowfish-based `bcrypt_hash` as the PRF, and output bytes spread
/// non-linearly across blocks.
public enum BcryptPBKDF {
    /// Derives `keyLength` bytes from `password` and `salt`.
    ///
    /// - Parameters:
    ///   - password: The passphrase bytes (UTF-8 for OpenSSH); must not be empty.
    ///   - salt: The salt (16 bytes for ssh-keygen); 1 byte to 1 MiB.
    ///   - rounds: Number of rounds (ssh-keygen's default is 16); at least 1.
    ///   - keyLength: Output length in bytes, 1 to 1024 (48 for aes256-ctr key + IV).
    /// - Returns: The derived key bytes.
    /// - Throws: ``SSHKeyError/invalidKeyParameters(reason:)`` when an argument is out of range.
    public static func deriveKey(
        password: [UInt8], salt: [UInt8], rounds: Int, keyLength: Int
    ) throws(SSHKeyError) -> [UInt8] {
        let blockSize = 32
        guard rounds >= 1 else { throw .invalidKeyParameters(reason: "bcrypt rounds must be at least 1") }
        guard !password.isEmpty else { throw .invalidKeyParameters(reason: "bcrypt passphrase is empty") }
        guard !salt.isEmpty, salt.count <= 1 << 20 else {
            throw .invalidKeyParameters(reason: "bcrypt salt length is out of range")
        }
        guard keyLength >= 1, keyLength <= blockSize * blockSize else {
            throw .invalidKeyParameters(reason: "bcrypt key length is out of range")
        }

        let stride = (keyLength + blockSize - 1) / blockSize
        var amount = (keyLength + stride - 1) / stride
        let sha2pass = Array(SHA512.hash(data: password))
        var key = [UInt8](repeating: 0, count: keyLength)
        var remaining = keyLength
        var count: UInt32 = 1

        while remaining > 0 {
            let countSalt: [UInt8] = [
                UInt8(truncatingIfNeeded: count >> 24), UInt8(truncatingIfNeeded: count >> 16),
                UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count),
            ]
            var sha2salt = Array(SHA512.hash(data: salt + countSalt))
            var tmpOut = bcryptHash(sha2pass: sha2pass, sha2salt: sha2salt)
            var out = tmpOut
            for _ in 1..<rounds {
                sha2salt = Array(SHA512.hash(data: tmpOut))
                tmpOut = bcryptHash(sha2pass: sha2pass, sha2salt: sha2salt)
                for index in 0..<out.count { out[index] ^= tmpOut[index] }
            }

            amount = min(amount, remaining)
            var written = 0
            while written < amount {
                let destination = written * stride + Int(count - 1)
                if destination >= keyLength { break }
                key[destination] = out[written]
                written += 1
            }
            remaining -= written
            count += 1
        }
        return key
    }

    /// `bcrypt_hash`: expensive Blowfish key setup keyed by the hashed password and salt, then 64
    /// encryptions of "OxychromaticBlowfishSwatDynamite"; words are emitted little-endian.
    static func bcryptHash(sha2pass: [UInt8], sha2salt: [UInt8]) -> [UInt8] {
        var state = Blowfish()
        state.expandState(data: sha2salt, key: sha2pass)
        for _ in 0..<64 {
            state.expand0State(key: sha2salt)
            state.expand0State(key: sha2pass)
        }
        let magic = Array("OxychromaticBlowfishSwatDynamite".utf8)
        var words = (0..<8).map { index in
            magic[(index * 4)..<(index * 4 + 4)].reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        }
        state.encrypt(words: &words, times: 64)
        var output: [UInt8] = []
        output.reserveCapacity(32)
        for word in words {
            output.append(UInt8(truncatingIfNeeded: word))
            output.append(UInt8(truncatingIfNeeded: word >> 8))
            output.append(UInt8(truncatingIfNeeded: word >> 16))
            output.append(UInt8(truncatingIfNeeded: word >> 24))
        }
        return output
    }
}
