import Fluent
import Foundation
import PipewrightCore

/// A deployment definition for one repository (docs/API.md "Pipelines").
///
/// `@unchecked Sendable`: see `User`.
final class Pipeline: Model, @unchecked Sendable {
    static let schema = "pipelines"

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    // reference fields
    @Parent(key: "connection_id") var connection: Connection
    @Parent(key: "owner_id") var owner: User
    @Parent(key: "ssh_key_id") var sshKey: StoredKey

    // data fields
    @OptionalField(key: "app_port") var appPort: Int?
    @Field(key: "branch") var branch: String
    @OptionalField(key: "build_command") var buildCommand: String?
    @Field(key: "deploy_path") var deployPath: String
    @OptionalField(key: "domain") var domain: String?
    @Field(key: "name") var name: String
    @Field(key: "repo_slug") var repoSlug: String
    /// Base64 of the sealed webhook secret envelope (`pipelines:<id>:webhook_secret`).
    @OptionalField(key: "sealed_webhook_secret") var sealedWebhookSecret: String?
    /// JSON array of server ids.
    @Field(key: "server_ids") var serverIDs: [Int]
    /// Detected (or overridden) stack as JSON, once detection ran.
    @OptionalField(key: "stack_json") var stackJSON: String?
    /// User override applied on top of detection, as JSON.
    @OptionalField(key: "stack_override_json") var stackOverrideJSON: String?
    @OptionalField(key: "start_command") var startCommand: String?
    @Field(key: "workspace") var workspace: String

    init() {}

}
