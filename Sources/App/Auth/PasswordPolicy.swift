import Foundation

/// The one password rule (docs/API.md "Users and roles"), applied wherever a password is set: `POST
/// /api/users`, `POST /api/auth/password`, admin resets, `pipewright user create` and the generated
/// initial admin password.
///
/// A password must have at least 12 characters (at most 1,024 bytes, the sign-in limit), must not be one of
/// the 10,000 most common passwords (`Resources/common-passwords.txt`, compared lowercased; source and
/// licence in `Resources/README.md`) and must not be the username (ignoring case) nor
/// the username repeated or with fewer than 8 other characters.
enum PasswordPolicy {
    static let minimumCharacters = 12
    static let maximumBytes = 1024

    /// The common-password list, loaded once from the target's resource bundle.
    static let commonPasswords: Set<String> = {
        guard let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        return Set(text.split(separator: "\n").map { String($0) })
    }()

    /// Whether the list was found (checked at start-up: a missing list must not weaken the policy silently).
    static var isListLoaded: Bool { commonPasswords.count >= 10_000 }

    /// - Parameters:
    ///   - password: the candidate (never logged or echoed).
    ///   - username: the account's name.
    ///   - field: the request field the error names (`password`, `new_password`).
    /// - Throws: `AppError.invalidField(field, …)` (400 `invalid_field`) naming the rule that failed.
    static func check(_ password: String, username: String, field: String = "password") throws {
        guard password.count >= minimumCharacters else {
            throw AppError.invalidField(field, reason: "must have at least \(minimumCharacters) characters")
        }
        guard password.utf8.count <= maximumBytes else {
            throw AppError.invalidField(field, reason: "must be at most \(maximumBytes) bytes")
        }
        guard !password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AppError.invalidField(field, reason: "must not contain control characters")
        }
        guard password.lowercased() != username.lowercased() else {
            throw AppError.invalidField(field, reason: "must not be the username")
        }
        // The username repeated or with a few characters around it (`probeprobeprobe`, `Probe2026!`).
        if username.count >= 3,
            password.lowercased().replacingOccurrences(of: username.lowercased(), with: "").count < 8
        {
            throw AppError.invalidField(field, reason: "is too close to the username")
        }
        guard !commonPasswords.contains(password.lowercased()) else {
            throw AppError.invalidField(field, reason: "is one of the 10,000 most common passwords")
        }
    }

    /// A random password that satisfies the policy: 24 characters of base64url (144 bits).
    static func generate() -> String {
        String(TokenHasher.randomToken().prefix(24))
    }
}
