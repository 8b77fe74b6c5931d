import Foundation
import PipewrightCore

/// Reads a pasted or uploaded private key in any of the common text formats.
///
/// Accepted (input may use CRLF, carry surrounding whitespace, lack a final newline):
/// - OpenSSH `-----BEGIN OPENSSH PRIVATE KEY-----` (openssh-key-v1, OpenSSH `PROTOCOL.key`) for
///   Ed25519, RSA and ECDSA; unencrypted or encrypted with `bcrypt` KDF and aes{128,192,256}-{ctr,cbc}.
/// - PKCS#1 `-----BEGIN RSA PRIVATE KEY-----` (RFC 8017), plain or legacy-encrypted
///   (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-{128,192,256}-CBC`).
/// - SEC1 `-----BEGIN EC PRIVATE KEY-----` (RFC 5915), plain or legacy-encrypted as above.
/// - PKCS#8 `-----BEGIN PRIVATE KEY-----` (RFC 5208/5958; RSA, Ed25519 per RFC 8410, ECDSA).
/// - PKCS#8 `-----BEGIN ENCRYPTED PRIVATE KEY-----` (PBES2 / PBKDF2-HMAC-SHA1|SHA2 / AES-CBC, RFC 8018).
///
/// Policy: RSA keys under 2048 bits are refused with ``SSHKeyError/unsupportedKeyType(_:)``
/// (`"rsa-1024"`), matching swift-crypto's 2048-bit floor; DSA keys are refused with
/// `unsupportedKeyType("dsa")`. Legacy PEM encrypted with DES/3DES is not supported.
public enum PrivateKeyImporter {
    /// Parses `text` into a private key.
    ///
    /// - Parameters:
    ///   - text: The key file's contents.
    ///   - passphrase: The passphrase for encrypted keys; ignored for unencrypted ones.
    /// - Returns: The key, the openssh-key-v1 comment (if any) and whether it was encrypted.
    /// - Important: `text` and `passphrase` are secrets; neither appears in any thrown error.
    /// - Throws:
    ///   - ``SSHKeyError/unsupportedKeyType(_:)``: DSA (`"dsa"`), RSA < 2048 bits, other algorithms/curves.
    ///   - ``SSHKeyError/notAPrivateKey``: a public key (`ssh-…` line, `BEGIN PUBLIC KEY`,
    ///     `BEGIN SSH2 PUBLIC KEY`, `BEGIN RSA PUBLIC KEY`).
    ///   - ``SSHKeyError/wrongPassphrase``: encrypted and the passphrase is missing or wrong.
    ///   - ``SSHKeyError/invalidPrivateKey(reason:)``: anything else, including text other than whitespace
    ///     before or after the key block (the reason quotes up to 40 characters of it); the reason never
    ///     contains key material.
    public static func parse(_ text: String, passphrase: Secret<String>?) throws(SSHKeyError) -> ImportedPrivateKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidPrivateKey(reason: "the text is empty") }
        let password = passphrase.map { Array($0.value.utf8) }

        if trimmed.contains("BEGIN SSH2 PUBLIC KEY") { throw .notAPrivateKey }
        if trimmed.hasPrefix("PuTTY-User-Key-File-") {
            throw .invalidPrivateKey(reason: "PuTTY .ppk keys are not supported; export as OpenSSH with puttygen")
        }

        // Before parsing: junk glued to a BEGIN or END line would otherwise read as "no block"/"no END line".
        if let stray = strayText(in: trimmed) {
            throw .invalidPrivateKey(
                reason:
                    "unexpected text \(stray.position) the key block: \"\(stray.excerpt)\"; only whitespace may surround it"
            )
        }

        let blocks: [PEMBlock]
        do {
            blocks = try PEMBlock.parseAll(trimmed)
        } catch {
            switch error {
            case .noBlock:
                if looksLikePublicKeyLine(trimmed) { throw .notAPrivateKey }
                throw .invalidPrivateKey(reason: "no PEM or OpenSSH private key block found")
            case .unterminated:
                throw .invalidPrivateKey(reason: "the key block has no END line")
            case .invalidBase64:
                throw .invalidPrivateKey(reason: "the key block is not valid base64")
            }
        }

        let privateLabels: Set<String> = [
            OpenSSHPrivateKeyCodec.label, "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY",
        ]
        guard let block = blocks.first(where: { privateLabels.contains($0.label) }) else {
            let publicLabels: Set<String> = ["PUBLIC KEY", "RSA PUBLIC KEY", "OPENSSH PUBLIC KEY", "EC PUBLIC KEY"]
            if blocks.contains(where: { publicLabels.contains($0.label) }) { throw .notAPrivateKey }
            throw .invalidPrivateKey(reason: "unexpected PEM block '\(blocks[0].label.prefix(40))'")
        }

        switch block.label {
        case OpenSSHPrivateKeyCodec.label:
            let decoded = try OpenSSHPrivateKeyCodec.decode(block.body, passphrase: passphrase)
            return ImportedPrivateKey(
                key: decoded.key, comment: decoded.comment, wasPassphraseProtected: decoded.wasEncrypted)
        case "DSA PRIVATE KEY":
            throw .unsupportedKeyType("dsa")
        case "RSA PRIVATE KEY", "EC PRIVATE KEY":
            let isEC = block.label == "EC PRIVATE KEY"
            if LegacyPEMDecryptor.isEncrypted(block) {
                let der = try LegacyPEMDecryptor.decrypt(block, passphrase: password)
                let key = try PKCSKeyDecoder.decodeDecrypted { () throws(SSHKeyError) in
                    isEC ? try PKCSKeyDecoder.decodeSEC1(der) : try PKCSKeyDecoder.decodePKCS1(der)
                }
                return ImportedPrivateKey(key: key, comment: nil, wasPassphraseProtected: true)
            }
            let key = isEC ? try PKCSKeyDecoder.decodeSEC1(block.body) : try PKCSKeyDecoder.decodePKCS1(block.body)
            return ImportedPrivateKey(key: key, comment: nil, wasPassphraseProtected: false)
        case "PRIVATE KEY":
            return ImportedPrivateKey(
                key: try PKCSKeyDecoder.decodePKCS8(block.body), comment: nil, wasPassphraseProtected: false)
        default:  // "ENCRYPTED PRIVATE KEY"
            let key = try PKCSKeyDecoder.decodeEncryptedPKCS8(block.body, passphrase: password)
            return ImportedPrivateKey(key: key, comment: nil, wasPassphraseProtected: true)
        }
    }

    /// Text other than whitespace before the first `-----BEGIN ` line or after the last `-----END …-----`
    /// line (e.g. `<html>404</html>` from a failed download pasted with the key), with where it was and up
    /// to 40 of its characters (control characters shown as spaces). Nil when only whitespace surrounds
    /// the block(s).
    ///
    /// Text between blocks is the caller's concern (more than one key is refused before parsing).
    static func strayText(in text: String) -> (position: String, excerpt: String)? {
        func excerpt(_ slice: Substring) -> String {
            let shown = slice.trimmingCharacters(in: .whitespacesAndNewlines).prefix(40)
            return String(
                String.UnicodeScalarView(
                    shown.unicodeScalars.map {
                        $0.properties.generalCategory == .control ? " " : $0
                    }))
        }
        guard let begin = text.range(of: "-----BEGIN ") else { return nil }
        let before = text[..<begin.lowerBound]
        if !before.allSatisfy(\.isWhitespace) { return ("before", excerpt(before)) }
        guard let end = text.range(of: "-----END ", options: .backwards),
            let close = text.range(of: "-----", range: end.upperBound..<text.endIndex)
        else { return nil }
        let after = text[close.upperBound...]
        if !after.allSatisfy(\.isWhitespace) { return ("after", excerpt(after)) }
        return nil
    }

    /// Whether `text` starts like an OpenSSH public-key line (possibly with options).
    private static func looksLikePublicKeyLine(_ text: String) -> Bool {
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r" }
        if SSHPublicKey.looksLikeAlgorithm(SSHPublicKey.firstToken(firstLine)) { return true }
        return (try? SSHPublicKey(openSSHLine: String(firstLine))) != nil
    }
}
