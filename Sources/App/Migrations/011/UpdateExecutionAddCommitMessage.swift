import Fluent

/// Schema version 11: `executions.commit_message`, the message of the commit a run built (Bitbucket's
/// `target.commit.message`, read by the monitor with `fields=+target.commit.message`; at most 2,000
/// characters kept), shown on the execution page. `NULL` until known, and for older executions.
struct UpdateExecutionAddCommitMessage: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("executions").field("commit_message", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("executions").deleteField("commit_message").update()
    }
}
