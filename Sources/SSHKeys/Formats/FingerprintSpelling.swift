import Foundation

/// A key fingerprint typed by a person, read in any of its common spellings and brought to the one form
/// Pipewright stores (``SSHPublicKey/fingerprintSHA256`` and ``SSHPublicKey/fingerprintMD5``).
///
/// Accepted spellings (surrounding whitespace ignored):
///
/// | typed | canonical |
/// |---|---|
/// | `SHA256:uNiVz…Q4` (43 base64 characters) | `SHA256:uNiVz…Q4` |
/// | `sha256:uNiVz…Q4=` (prefix in any case, `=` padding) | `SHA256:uNiVz…Q4` |
/// | `uNiVz…Q4` or `uNiVz…Q4=` (bare base64) | `SHA256:uNiVz…Q4` |
/// | `MD5:9a:7c:…:0f` | `MD5:9a:7c:…:0f` |
/// | `md5:9A7C…0F`, `9A:7C:…:0F`, `9a7c…0f` (any case, colons or not) | `MD5:9a:7c:…:0f` |
///
/// Base64 is case-sensitive, so a SHA-256 fingerprint is never case-folded; MD5 hex is.
public enum FingerprintSpelling: Sendable, Hashable {
    /// `SHA256:` + 43 unpadded base64 characters.
    case sha256(String)
    /// `MD5:` + 16 lowercase hex pairs joined by `:`.
    case md5(String)

    /// The canonical fingerprint `text` spells, or nil when it spells none (then callers search names).
    ///
    /// - Parameter text: What the user typed, e.g. `"MD5:9A7C…"` or `"uNiVz…Q4="`.
    public init?(_ text: String) {
        var body = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        var prefix: String?
        if let colon = body.firstIndex(of: ":") {
            let head = body[..<colon].uppercased()
            if head == "SHA256" || head == "MD5" {
                prefix = head
                body = body[body.index(after: colon)...]
            }
        }
        if prefix != "SHA256", let md5 = Self.md5(body) {
            self = .md5(md5)
        } else if prefix != "MD5", let sha256 = Self.sha256(body) {
            self = .sha256(sha256)
        } else {
            return nil
        }
    }

    /// The canonical text, as stored.
    public var canonical: String {
        switch self {
        case .sha256(let value), .md5(let value): value
        }
    }

    /// 32 hex digits, with or without `:` between pairs → `MD5:aa:bb:…`.
    private static func md5(_ body: Substring) -> String? {
        let hex: Substring
        if body.contains(":") {
            let pairs = body.split(separator: ":", omittingEmptySubsequences: false)
            guard pairs.count == 16, pairs.allSatisfy({ $0.count == 2 }) else { return nil }
            hex = Substring(pairs.joined())
        } else {
            hex = body
        }
        guard hex.count == 32, hex.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        var pairs: [String] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            pairs.append(hex[index..<next].lowercased())
            index = next
        }
        return "MD5:" + pairs.joined(separator: ":")
    }

    /// 43 base64 characters (a SHA-256 digest), optionally followed by one `=` → `SHA256:…`.
    private static func sha256(_ body: Substring) -> String? {
        var digest = body
        if digest.hasSuffix("=") { digest = digest.dropLast() }
        let alphabet = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "+" || c == "/") }
        guard digest.count == 43, digest.allSatisfy(alphabet),
            let decoded = Data(base64Encoded: String(digest) + "="), decoded.count == 32
        else { return nil }
        return "SHA256:" + digest
    }
}
