import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `GET /api/audit` (docs/API.md "Audit log"): the audit log, newest first. Admins see every entry, members only the
/// entries where they are the actor. There is deliberately no route that changes or deletes entries.
///
/// Query parameters (all optional, each validated, 400 `invalid_field` naming the field):
/// - `actor`: a username or a numeric user id;
/// - `action`: one of `AuditAction` (e.g. `ssh_key.deploy`);
/// - `resource`: `TYPE` or `TYPE:ID` (e.g. `ssh_key:7`);
/// - `outcome`: `success`, `failure` or `denied`;
/// - `from_date`, `to_date`: RFC 3339 timestamps or `YYYY-MM-DD` dates (inclusive; a date-only `to_date`
///   covers that whole day, UTC);
/// - `page`, `per_page`: pagination as on every list (docs/API.md "Lists").
struct AuditController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        routes.get("audit", use: index)
    }

    @Sendable func index(req: Request) async throws -> PageResponse<AuditEntryResponse> {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        let filter = try AuditFilter.parse(req)
        let query = AuditEntry.query(on: req.db)
        if !user.isAdmin { query.filter(\.$actorID == user.id) }
        switch filter.actor {
        case .id(let id): query.filter(\.$actorID == id)
        case .username(let name): query.filter(\.$actorUsername == name)
        case nil: break
        }
        if let action = filter.action { query.filter(\.$action == action.rawValue) }
        if let type = filter.resourceType { query.filter(\.$resourceType == type) }
        if let id = filter.resourceID { query.filter(\.$resourceID == id) }
        if let outcome = filter.outcome { query.filter(\.$outcome == outcome) }
        if let from = filter.from { query.filter(\.$at >= from) }
        if let to = filter.to { query.filter(\.$at <= to) }
        let total = try await query.count()
        let entries = try await query.sort(\.$at, .descending).sort(\.$id, .descending)
            .range(page.offset..<(page.offset + page.perPage)).all()
        return PageResponse(items: try entries.map(AuditEntryResponse.init), request: page, total: total)
    }
}

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

    static let resourceTypes = ["ssh_key", "server", "pipeline", "execution", "token", "user"]

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
        filter.from = try text("from_date").map { try date($0, field: "from_date", endOfDay: false) }
        filter.to = try text("to_date").map { try date($0, field: "to_date", endOfDay: true) }
        if let from = filter.from, let to = filter.to, from > to {
            throw AppError.invalidField("to_date", reason: "must not be before from_date")
        }
        return filter
    }

    /// RFC 3339 (`2026-11-29T12:00:00Z`, fractional seconds allowed) or `YYYY-MM-DD` (UTC).
    static func date(_ text: String, field: String, endOfDay: Bool) throws -> Date {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = ISO8601DateFormatter().date(from: text) ?? withFraction.date(from: text) { return date }
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if text.count == 10, let day = dateOnly.date(from: text) {
            return endOfDay ? day.addingTimeInterval(86_399.999) : day
        }
        throw AppError.invalidField(field, reason: "must be an RFC 3339 timestamp or a YYYY-MM-DD date")
    }
}

/// One audit entry as JSON:
/// `{"id", "at", "actor": {"id", "username"} | null, "action", "resource": {"type", "id"} | null, "ip",
/// "outcome": "success" | "failure" | "denied", "details": {string: string}}`.
struct AuditEntryResponse: Content {
    struct Actor: Content {
        var id: Int
        var username: String
    }

    struct Resource: Content {
        var type: String
        var id: Int?
    }

    var id: Int
    var at: Date
    var actor: Actor?
    var action: String
    var resource: Resource?
    var ip: String
    var outcome: String
    var details: [String: String]

    init(_ entry: AuditEntry) throws {
        id = try entry.requireID()
        at = entry.at
        if let actorID = entry.actorID {
            actor = Actor(id: actorID, username: entry.actorUsername ?? "")
        }
        action = entry.action
        resource = entry.resourceType.map { Resource(type: $0, id: entry.resourceID) }
        ip = entry.ip
        outcome = entry.outcome.rawValue
        details = entry.details
    }

    /// Encodes `actor` and `resource` as explicit `null` when absent (the documented shape).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(actor, forKey: .actor)
        try container.encode(action, forKey: .action)
        try container.encode(resource, forKey: .resource)
        try container.encode(ip, forKey: .ip)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(details, forKey: .details)
    }
}
