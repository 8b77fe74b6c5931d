import Fluent
import Foundation
import PipewrightCore
import Vapor

/// One audit entry as JSON:
/// `{"id", "at", "actor": {"id", "username"} | null, "action", "resource": {"type", "id"} | null, "ip",
/// "outcome": "success" | "failure" | "denied", "details": {string: string}}`. A CLI action has
/// `"actor": {"id": null, "username": "cli:<OS user>"}`.
struct AuditEntryResponse: Content {
    struct Actor: Content {
        var id: Int?
        var username: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(username, forKey: .username)
        }
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
        if entry.actorID != nil || entry.actorUsername != nil {
            actor = Actor(id: entry.actorID, username: entry.actorUsername ?? "")
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
