import ArgumentParser
import Fluent
import Foundation
import LogStore
import SQLKit
import Vapor

#if canImport(Glibc)
    import Glibc
#endif

extension PipewrightCommand {
    /// `pipewright migrate [--revert --yes-destroy-data]`.
    ///
    /// Without `--revert`: applies pending migrations (`serve` does too). With `--revert`: lists the
    /// migrations of the last batch, the rows the database holds and, when the executions table goes, the
    /// build logs that go with it, and drops them only with
    /// `--yes-destroy-data` *and* the word `destroy` typed at a terminal; refused without a terminal and
    /// while a server holds the data.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply database migrations, or revert the last batch (destroys data).",
            discussion: """
                'migrate --revert' drops the tables of the last batch of migrations with every row (for a \
                database created in one go: all of them, audit log included). It first lists what it would \
                drop, and needs --yes-destroy-data plus typing 'destroy' at a terminal. Back up first \
                ('pipewright backup --to DIR').
                """)

        @Flag(name: .shortAndLong, help: "Apply without asking (applying never asks; kept for scripts).")
        var yes = false

        @Flag(help: "Revert the last batch of migrations: drops tables and their rows.")
        var revert = false

        @Flag(help: "Required with --revert: the listed tables and rows are destroyed.")
        var yesDestroyData = false

        func validate() throws {
            if yesDestroyData && !revert { throw ValidationError("--yes-destroy-data only goes with --revert") }
            if revert && yes && !yesDestroyData {
                throw ValidationError("--revert destroys data: --yes is not enough, use --yes-destroy-data")
            }
        }

        func run() async throws {
            let configuration = try ServiceBoot.loadConfiguration()
            guard revert else {
                try await ServiceBoot.withApplication(configuration, access: .shared, installation: .createsIfMissing) {
                    app in
                    let applied = try await app.db.query(MigrationLog.self).count()
                    print("Database is at the latest schema (\(applied) migration(s) applied).")
                }
                return
            }
            try await ServiceBoot.withApplication(configuration, access: .rewrite(purpose: "migrate --revert")) { app in
                let batch = try await app.migrator.previewRevertLastBatch().get()
                print("migrate --revert would revert \(batch.count) migration(s):")
                for (migration, _) in batch { print("  \(migration.name)") }
                print("The database holds (table: rows):")
                for (table, rows) in try await tableRowCounts(app.db) { print("  \(table): \(rows)") }
                // Without the executions table the build logs belong to nothing, and a new execution would
                // take the id (and the log) of an old one: they go with it, and the listing says so.
                let dropsExecutions = batch.contains { $0.0 is CreateExecution }
                let logs = dropsExecutions ? try app.services.logStore.storedExecutions() : []
                if dropsExecutions {
                    print(
                        "The build logs of \(logs.count) execution(s) in \(configuration.logDirectory) (deleted with "
                            + "the executions table).")
                }
                guard yesDestroyData else {
                    throw CommandFailure("nothing was changed: add --yes-destroy-data and confirm at a terminal")
                }
                guard isatty(STDIN_FILENO) == 1 else {
                    throw CommandFailure(
                        "migrate --revert needs a terminal to confirm (standard input is not one); nothing was changed")
                }
                print("Type 'destroy' to drop them: ", terminator: "")
                fflush(nil)
                guard readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces) == "destroy" else {
                    throw CommandFailure("not confirmed; nothing was changed")
                }
                try await app.migrator.revertLastBatch().get()
                print("Reverted \(batch.count) migration(s).")
                for execution in logs { try app.services.logStore.delete(execution: execution) }
                if dropsExecutions { print("Deleted the build logs of \(logs.count) execution(s).") }
            }
        }

        /// Every table of the database with its row count, by name.
        private func tableRowCounts(_ database: any Database) async throws -> [(String, Int)] {
            guard let sql = database as? any SQLDatabase else { return [] }
            let listing =
                sql.dialect.name == "sqlite"
                ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                : "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            var counts: [(String, Int)] = []
            for row in try await sql.raw(SQLQueryString(listing)).all() {
                let name = try row.decode(column: "name", as: String.self)
                let count =
                    try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
                    .from(name).first(decodingColumn: "n", as: Int.self) ?? 0
                counts.append((name, count))
            }
            return counts
        }
    }
}
