import Fluent
import Foundation
import PipewrightCore
import Vapor

/// Field checks shared by controllers; each failure names the field (400 `invalid_field`).
enum Validation {
    /// A display name: trimmed, 1...200 characters, no control characters.
    static func name(_ value: String, field: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw AppError.invalidField(field, reason: "must not be empty") }
        guard trimmed.count <= 200 else { throw AppError.invalidField(field, reason: "must be at most 200 characters") }
        try noControlCharacters(trimmed, field: field)
        return trimmed
    }

    /// Rejects C0/C1 control characters (newlines included).
    static func noControlCharacters(_ value: String, field: String) throws {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw AppError.invalidField(field, reason: "must not contain control characters")
        }
    }

    /// An integer path parameter; anything else is a 404 (an id that cannot exist).
    static func pathID(_ req: Request, _ name: String) throws -> Int {
        guard let raw = req.parameters.get(name), let id = Int(raw), id > 0 else {
            throw AppError.notFound("Resource")
        }
        return id
    }

    /// A boolean query flag: absent = `false`; `true/false/1/0` accepted; anything else 400.
    static func flag(_ req: Request, _ name: String) throws -> Bool {
        guard let raw = req.query[String.self, at: name] else { return false }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no", "": return false
        default: throw AppError.invalidField(name, reason: "must be true or false")
        }
    }
}
