import Fluent

/// Schema version 5: the per-server `legacy_rsa_sha1` opt-in (docs/ssh-keys.md "Servers that accept only
/// ssh-rsa"). Existing servers default to `false`: SHA-1 signatures stay off unless someone turns them on.
struct UpdateServerAddLegacyRSASHA1: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("servers")
            .field("legacy_rsa_sha1", .bool, .required, .custom("DEFAULT FALSE"))
            .update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("servers").deleteField("legacy_rsa_sha1").update()
    }
}
