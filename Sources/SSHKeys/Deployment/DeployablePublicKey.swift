/// A public-key line checked to be safe to write into `authorized_keys`:
/// `<algorithm> <base64 blob> [comment]`, one line, no control characters other than tab.
struct DeployablePublicKey: Sendable, Equatable {
    /// The line as it will be written (surrounding whitespace and line breaks removed).
    let line: String
    /// The base64 blob (second field), the key's identity in `authorized_keys`.
    let blobBase64: String

    /// Maximum accepted line length in bytes (an RSA-16384 key line is about 2.8 KB).
    static let maximumLength = 16_384

    /// Validates `publicKeyLine`.
    ///
    /// - Parameter publicKeyLine: An OpenSSH public-key line (e.g. a `.pub` file's content).
    /// - Throws: ``SSHKeyError/invalidPublicKey(reason:)``.
    init(_ publicKeyLine: String) throws(SSHKeyError) {
        let trimmed = String(
            publicKeyLine.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
        guard !trimmed.isEmpty else { throw .invalidPublicKey(reason: "the line is empty") }
        guard trimmed.utf8.count <= Self.maximumLength else {
            throw .invalidPublicKey(reason: "the line is longer than \(Self.maximumLength) bytes")
        }
        guard
            !trimmed.unicodeScalars.contains(where: { $0 != "\t" && $0.properties.generalCategory == .control })
        else { throw .invalidPublicKey(reason: "the line contains a line break or control character") }
        let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(2).map(String.init)
        guard fields.count == 2 else {
            throw .invalidPublicKey(reason: "expected '<algorithm> <base64 key> [comment]'")
        }
        do {
            _ = try HostKey(algorithm: fields[0], blobBase64: fields[1])
        } catch {
            throw .invalidPublicKey(reason: "the key field is not a valid \(fields[0]) key")
        }
        line = trimmed
        blobBase64 = fields[1]
    }

    /// Validates a bare blob (used to remove or look for a key).
    ///
    /// - Parameter blobBase64: The second field of a public-key line.
    /// - Returns: `blobBase64` unchanged.
    /// - Throws: ``SSHKeyError/invalidPublicKey(reason:)`` unless it is non-empty base64 of a key blob.
    static func validatedBlob(_ blobBase64: String) throws(SSHKeyError) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".unicodeScalars)
        guard !blobBase64.isEmpty, blobBase64.utf8.count <= maximumLength,
            blobBase64.unicodeScalars.allSatisfy({ allowed.contains($0) })
        else { throw .invalidPublicKey(reason: "the key blob is not base64") }
        return blobBase64
    }
}
