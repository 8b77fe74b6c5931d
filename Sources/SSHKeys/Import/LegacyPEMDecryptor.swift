import Crypto
import Foundation
import _CryptoExtras

/// Decrypts OpenSSL's legacy ("traditional") encrypted PEM bodies: headers `Proc-Type: 4,ENCRYPTED` and
/// `DEK-Info: AES-128-CBC,<hex IV>` (RFC 1421 §4.6.1.1 header syntax; key from OpenSSL's
/// `EVP_BytesToKey` with MD5, one iteration, salt = first 8 IV bytes). Written by `ssh-keygen -m PEM -N …`
/// and `openssl genrsa -aes256`.
enum LegacyPEMDecryptor {
    /// Decrypts `block`'s body.
    ///
    /// - Returns: The plaintext DER.
    /// - Throws: ``SSHKeyError/wrongPassphrase`` when the passphrase is missing or the padding is wrong;
    ///   ``SSHKeyError/invalidPrivateKey(reason:)`` for a malformed or unsupported `DEK-Info`.
    static func decrypt(_ block: PEMBlock, passphrase: [UInt8]?) throws(SSHKeyError) -> [UInt8] {
        guard let dekInfo = block.header("DEK-Info") else {
            throw .invalidPrivateKey(reason: "encrypted PEM without DEK-Info header")
        }
        let parts = dekInfo.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let iv = hexBytes(parts[1]) else {
            throw .invalidPrivateKey(reason: "malformed DEK-Info header")
        }
        let keyLength: Int
        switch parts[0].uppercased() {
        case "AES-128-CBC": keyLength = 16
        case "AES-192-CBC": keyLength = 24
        case "AES-256-CBC": keyLength = 32
        default: throw .invalidPrivateKey(reason: "PEM encryption \(parts[0].prefix(32)) is not supported")
        }
        guard iv.count == 16 else { throw .invalidPrivateKey(reason: "malformed DEK-Info IV") }
        guard let passphrase, !passphrase.isEmpty else { throw .wrongPassphrase }
        let key = bytesToKey(passphrase: passphrase, salt: Array(iv.prefix(8)), length: keyLength)
        do {
            return Array(
                try AES._CBC.decrypt(block.body, using: SymmetricKey(data: key), iv: AES._CBC.IV(ivBytes: iv)))
        } catch {
            throw .wrongPassphrase
        }
    }

    /// Whether the block carries `Proc-Type: 4,ENCRYPTED`.
    static func isEncrypted(_ block: PEMBlock) -> Bool {
        block.header("Proc-Type")?.uppercased().contains("ENCRYPTED") ?? false
    }

    /// OpenSSL `EVP_BytesToKey(cipher, EVP_md5(), salt, passphrase, count: 1)`:
    /// `D₁ = MD5(pass ‖ salt)`, `Dᵢ = MD5(Dᵢ₋₁ ‖ pass ‖ salt)`, concatenated and truncated.
    static func bytesToKey(passphrase: [UInt8], salt: [UInt8], length: Int) -> [UInt8] {
        var output: [UInt8] = []
        var previous: [UInt8] = []
        while output.count < length {
            previous = Array(Insecure.MD5.hash(data: previous + passphrase + salt))
            output += previous
        }
        return Array(output.prefix(length))
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let characters = Array(text)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < characters.count {
            guard let byte = UInt8(String(characters[index...index + 1]), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}
