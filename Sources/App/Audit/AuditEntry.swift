import Fluent
import Foundation
import PipewrightCore

/// One row of the append-only audit log: who did what to which resource, when, from where, and how
/// it ended. There is no update or delete path in the code or the API.
///
/// `@unchecked Sendable`: see `User`.
final class AuditEntry: Model, @unchecked Sendable {
    static let schema = "audit_entries"

    /// How the request ended.
    enum Outcome: String, Codable, Sendable, CaseIterable {
        /// The action happened (for multi-server operations: on every server).
        case success
        /// The action was attempted and failed (bad input, wrong password, a server failed, …).
        case failure
        /// Refused by policy before anything happened (rate limit, target allowlist, permissions).
        case denied
    }

    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Field(key: "at") var at: Date
    @OptionalField(key: "actor_id") var actorID: Int?
    @OptionalField(key: "actor_username") var actorUsername: String?
    @Field(key: "action") var action: String
    @OptionalField(key: "resource_type") var resourceType: String?
    @OptionalField(key: "resource_id") var resourceID: Int?
    @Field(key: "ip") var ip: String
    @Field(key: "outcome") var outcome: Outcome
    /// `details` as a JSON object of strings.
    @Field(key: "details_json") var detailsJSON: String

    init() {}

    init(
        at: Date, actorID: Int?, actorUsername: String?, action: String, resourceType: String?, resourceID: Int?,
        ip: String, outcome: Outcome, details: [String: String]
    ) {
        self.at = at
        self.actorID = actorID
        self.actorUsername = actorUsername
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.ip = ip
        self.outcome = outcome
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        detailsJSON = (try? encoder.encode(details)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    var details: [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(detailsJSON.utf8))) ?? [:]
    }
}
