import ArgumentParser
import Foundation
import Vapor

extension PipewrightCommand {
    /// `pipewright db …`: moving an installation between databases.
    struct DB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db", abstract: "Move an installation to another database.", subcommands: [Copy.self])
    }
}

extension PipewrightCommand.DB {
    /// `pipewright db copy --to postgres://…`: copies the SQLite installation into an empty PostgreSQL database
    /// (``DatabaseCopy``), with the server stopped.
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite installation into an empty PostgreSQL database (server stopped).",
            discussion: """
                Reads the installation serve would use (PIPEWRIGHT_DATA_DIR, DATABASE_URL=sqlite://…) with its \
                master key, migrates the target, copies every table keeping ids, then checks row counts and \
                opens every secret on the target. All or nothing; refused for a target that holds rows \
                (docs/operations.md "Moving to PostgreSQL").
                """)

        @Option(help: "The target database, postgres://user:password@host:port/database (must exist, empty).")
        var to: String

        func run() async throws {
            let configuration = try ServiceBoot.loadConfiguration()
            guard case .sqlite(let path) = configuration.database else {
                throw CommandFailure("db copy copies a SQLite installation; DATABASE_URL does not name a SQLite file")
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure("db copy: no SQLite database at \(path) (check PIPEWRIGHT_DATA_DIR)")
            }
            guard to.hasPrefix("postgres://") || to.hasPrefix("postgresql://") else {
                throw CommandFailure("db copy: --to must be a postgres:// URL")
            }
            try await ServiceBoot.withApplication(configuration, access: .rewrite(purpose: "db copy")) { app in
                let report = try await DatabaseCopy.copy(app: app, to: to, osUser: ConsoleActor.current)
                let width = report.tables.map(\.table.count).max() ?? 0
                for table in report.tables {
                    print(
                        "  \(table.table.padding(toLength: width, withPad: " ", startingAt: 0))  \(table.rows) row(s)")
                }
                print(
                    "Copied \(report.rows) row(s) in \(report.tables.count) table(s) to \(Self.redacted(to)); "
                        + "row counts match; \(report.secrets) secret(s) open on the target, 0 failure(s).")
                print("Point DATABASE_URL at it and start 'pipewright serve' with the same master key.")
            }
        }

        /// `url` without its password, for the summary.
        static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url) else { return "the target" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "the target"
        }
    }
}
