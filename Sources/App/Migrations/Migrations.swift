import Fluent

/// The ordered, append-only list of schema migrations. Never edit or reorder a shipped entry.
enum Migrations {
    /// - Parameter sqlite: whether the database is SQLite (ids then use `AUTOINCREMENT`, so a deleted
    ///   row's id is never handed out again; PostgreSQL identity columns never reuse ids anyway).
    static func all(sqlite: Bool) -> [any Migration] {
        [
            CreateInitialSchema(sqlite: sqlite),
            CreateConnectionAndPipeline(sqlite: sqlite),
            CreateExecution(sqlite: sqlite),
            CreateAuditLog(sqlite: sqlite),
            KeepHostKeyHistory(sqlite: sqlite),
            UpdateServerAddLegacyRSASHA1(),
            CreatePipelineProvisioning(sqlite: sqlite),
            UpdateUserAddTeamRoles(),
            CreateExecutionLease(sqlite: sqlite),
            CreateRateLimitBucket(),
            UpdateExecutionAddCommitMessage(),
        ]
    }
}

extension SchemaBuilder {
    /// The integer primary key `id`, never reused (the API's ids are integers, docs/API.md intro).
    func autoIncrementID(sqlite: Bool) -> Self {
        sqlite
            ? field(.id, .int, .custom("PRIMARY KEY AUTOINCREMENT"))
            : field(.id, .int, .identifier(auto: true))
    }
}
