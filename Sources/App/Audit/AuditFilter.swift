import Fluent
import Foundation
import PipewrightCore
import Vapor

/// Parsed `GET /api/audit` filters.
struct AuditFilter {
    enum Actor: Equatable {
        case id(Int)
        case username(String)
    }

    var actor: Actor?
    var action: AuditAction?
    var resourceType: String?
    var resourceID: Int?
    var outcome: AuditEntry.Outcome?
    var from: Date?
    var to: Date?

    static let resourceTypes = ["ssh_key", "server", "connection", "pipeline", "execution", "token", "user"]

    static func parse(_ req: Request) throws -> AuditFilter {
        var filter = AuditFilter()
        func text(_ name: String) throws -> String? {
            guard let raw = try FieldRules.queryText(req, name) else { return nil }
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw AppError.invalidField(name, reason: "must not be empty") }
            guard value.count <= 100 else {
                throw AppError.invalidField(name, reason: "must be at most 100 characters")
            }
            try FieldRules.noControlCharacters(value, field: name)
            return value
        }
        if let actor = try text("actor") {
            if let id = Int(actor) {
                guard id > 0 else {
                    throw AppError.invalidField("actor", reason: "must be a username or a positive user id")
                }
                filter.actor = .id(id)
            } else {
                filter.actor = .username(actor)
            }
        }
        if let action = try text("action") {
            guard let parsed = AuditAction(rawValue: action) else {
                throw AppError.invalidField(
                    "action", reason: "must be one of \(AuditAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.action = parsed
        }
        if let resource = try text("resource") {
            let parts = resource.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard resourceTypes.contains(String(parts[0])) else {
                throw AppError.invalidField(
                    "resource",
                    reason: "must be TYPE or TYPE:ID with TYPE one of \(resourceTypes.joined(separator: ", "))")
            }
            filter.resourceType = String(parts[0])
            if parts.count == 2 {
                guard let id = Int(parts[1]), id > 0 else {
                    throw AppError.invalidField("resource", reason: "the id after ':' must be a positive integer")
                }
                filter.resourceID = id
            }
        }
        if let outcome = try text("outcome") {
            guard let parsed = AuditEntry.Outcome(rawValue: outcome) else {
                throw AppError.invalidField("outcome", reason: "must be success, failure or denied")
            }
            filter.outcome = parsed
        }
        (filter.from, filter.to) = try DateRangeParameters(fromDate: try text("from_date"), toDate: try text("to_date"))
            .range()
        return filter
    }
}
