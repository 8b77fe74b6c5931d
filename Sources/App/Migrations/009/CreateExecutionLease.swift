import Fluent

/// Schema version 9: which instance works on each active execution (docs/scaling.md "Leases").
///
/// One row per execution whose trigger attempts or monitor run somewhere: `holder` is that instance's
/// `PIPEWRIGHT_INSTANCE_ID`, `lease_expires_at` when the lease lapses without a heartbeat. PostgreSQL keeps
/// it as `timestamptz` compared with the server's `now()` (no clock skew between instances); SQLite, one
/// instance only, as Unix seconds (`double`). Deleted with the execution.
struct CreateExecutionLease: AsyncMigration {
    /// Whether the database is SQLite.
    let sqlite: Bool

    func prepare(on database: any Database) async throws {
        try await database.schema("execution_leases")
            .field("execution_id", .int, .required, .references("executions", .id, onDelete: .cascade))
            .field("holder", .string, .required)
            .field("lease_expires_at", sqlite ? .double : .datetime, .required)
            .unique(on: "execution_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("execution_leases").delete()
    }
}
