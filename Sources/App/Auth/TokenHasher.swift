import Crypto
import Fluent
import Foundation
import PipewrightCore

/// Random tokens and their stored form.
///
/// Bearer tokens are `pw_` + 32 random bytes (base64url, no padding); session cookies and CSRF tokens
/// are 32 random bytes. Only the lowercase hex SHA-256 of a token is stored.
enum TokenHasher {
    /// A new random token with `prefix` (e.g. `pw_`).
    static func randomToken(prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let encoded = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + encoded
    }

    /// Lowercase hex SHA-256 of the token's UTF-8 bytes.
    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Constant-time comparison of two strings' bytes.
    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
