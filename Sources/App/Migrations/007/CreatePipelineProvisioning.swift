import Fluent

/// Schema version 7: what Pipewright last provisioned in each pipeline's Bitbucket repository
/// (docs/provisioning.md). One row per pipeline, deleted with it.
///
/// `key_pair_fingerprint` is the `SHA256:` fingerprint of the key pair Pipewright wrote (how a later plan
/// tells its own key pair from a foreign one); `status` is `in_sync` or `drifted` (no row: `never`).
struct CreatePipelineProvisioning: AsyncMigration {
    /// Whether the database is SQLite (see `SchemaBuilder.autoIncrementID`).
    let sqlite: Bool

    func prepare(on database: any Database) async throws {
        try await database.schema("pipeline_provisionings")
            .autoIncrementID(sqlite: sqlite)
            .field("pipeline_id", .int, .required, .references("pipelines", .id, onDelete: .cascade))
            .field("workspace", .string, .required)
            .field("repo_slug", .string, .required)
            .field("key_pair_fingerprint", .string)
            .field("status", .string, .required)
            .field("provisioned_at", .datetime, .required)
            .field("checked_at", .datetime)
            .unique(on: "pipeline_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("pipeline_provisionings").delete()
    }
}
