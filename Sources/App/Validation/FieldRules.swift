import Fluent
import Foundation
import PipewrightCore
import Vapor

/// Field checks shared by the use-case services and controllers; each failure names the field (400 `invalid_field`).
enum FieldRules {
    /// A display name: trimmed, 1...200 characters, no control characters, no private-key material.
    static func name(_ value: String, field: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw AppError.invalidField(field, reason: "must not be empty") }
        guard trimmed.count <= 200 else { throw AppError.invalidField(field, reason: "must be at most 200 characters") }
        try noControlCharacters(trimmed, field: field)
        try noPrivateKeyMaterial(trimmed, field: field)
        return trimmed
    }

    /// Free text shown to every signed-in user (names, comments, notes) must not carry a private key: a PEM
    /// armour line (`-----BEGIN`, `PRIVATE KEY-----`) or an OpenSSH key body (`openssh-key-v1`, also base64).
    static func noPrivateKeyMaterial(_ value: String, field: String) throws {
        let markers = ["-----BEGIN", "PRIVATE KEY-----", "openssh-key-v1", "b3BlbnNzaC1rZXktdjE"]
        if markers.contains(where: { value.contains($0) }) {
            throw AppError.invalidField(field, reason: "must not contain private-key material")
        }
    }

    /// Rejects C0/C1 control characters (newlines included), invisible format characters (bidi
    /// overrides such as U+202E, zero-width joiners) and line/paragraph separators (U+2028/U+2029).
    static func noControlCharacters(_ value: String, field: String) throws {
        let refused: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator]
        if value.unicodeScalars.contains(where: { refused.contains($0.properties.generalCategory) }) {
            throw AppError.invalidField(field, reason: "must not contain control, format or line-separator characters")
        }
    }

    /// A Bitbucket workspace or repository slug: 1–100 of letters, digits, `.`, `_`, `-`.
    static func slug(_ value: String, field: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !trimmed.isEmpty, trimmed.count <= 100, trimmed.unicodeScalars.allSatisfy(allowed.contains),
            trimmed != ".", trimmed != ".."
        else {
            throw AppError.invalidField(field, reason: "use 1-100 letters, digits, '.', '_' or '-'")
        }
        return trimmed
    }

    /// A git branch name (git-check-ref-format rules): `/` allowed between components; no spaces, control
    /// characters, `..`, `~^:?*[\\`, `@{`, leading `-` or `/`, trailing `/`, `.` or `.lock`; at most 200.
    static func branch(_ value: String, field: String) throws -> String {
        let name = value.trimmingCharacters(in: .whitespaces)
        let forbidden = CharacterSet(charactersIn: " ~^:?*[\\").union(.controlCharacters).union(.whitespacesAndNewlines)
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.count <= 200, !name.hasPrefix("-"), !name.hasPrefix("/"), !name.hasSuffix("/"),
            !name.hasSuffix("."), !name.hasSuffix(".lock"), !name.contains(".."), !name.contains("@{"), name != "@",
            name.unicodeScalars.allSatisfy({ !forbidden.contains($0) }),
            components.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") })
        else {
            throw AppError.invalidField(field, reason: "is not a valid git branch name")
        }
        return name
    }

    /// An integer path parameter; anything else is a 404 (an id that cannot exist).
    static func pathID(_ req: Request, _ name: String) throws -> Int {
        guard let raw = req.parameters.get(name), let id = Int(raw), id > 0 else {
            throw AppError.notFound("Resource")
        }
        return id
    }

    /// The query parameter `name` as text; `nil` when absent. A parameter that is present but does not
    /// decode (invalid percent-encoded UTF-8 such as `%FF`) is a 400 naming it, never silently ignored.
    static func queryText(_ req: Request, _ name: String) throws -> String? {
        if let value = req.query[String.self, at: name] { return value }
        let present = (req.url.query ?? "").split(separator: "&").contains { part in
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return pair.count == 2 && !pair[1].isEmpty && (pair[0].removingPercentEncoding ?? String(pair[0])) == name
        }
        if present { throw AppError.invalidField(name, reason: "must be valid UTF-8 text") }
        return nil
    }

    /// A boolean query flag: absent = `false`; `true/false/1/0` accepted; anything else 400.
    static func flag(_ req: Request, _ name: String) throws -> Bool {
        try parseFlag(try queryText(req, name), name: name)
    }
}
