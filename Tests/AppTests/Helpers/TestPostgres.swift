import Foundation
import Synchronization

/// The PostgreSQL cluster tests run against (scripts/test-postgres): the one `scripts/test` started
/// (`PIPEWRIGHT_TEST_POSTGRES_URL`, an admin URL ending in `/postgres`), or else one this process starts
/// in `/tmp/pipewright-test-postgres` (kept for later runs; `scripts/test-postgres stop DIR` removes it).
///
/// Every caller gets a database of its own (`createDatabase()`), dropped by `dropDatabase(_:)`.
enum TestPostgres {
    /// Where a cluster started by a test process lives.
    static let fallbackDirectory = "/tmp/pipewright-test-postgres"

    /// The cluster's admin URL, e.g. `postgres://postgres@127.0.0.1:54321/postgres`.
    ///
    /// - Throws: `TestPostgresError` when no cluster is configured and none can be started.
    static func adminURL() throws -> String {
        try resolved.withLock { cached in
            if let cached { return cached }
            let url: String
            if let configured = ProcessInfo.processInfo.environment["PIPEWRIGHT_TEST_POSTGRES_URL"], !configured.isEmpty
            {
                url = configured
            } else {
                let result = try runProgram(
                    "/bin/bash", [repositoryRoot + "/scripts/test-postgres", "start", fallbackDirectory])
                guard result.status == 0 else {
                    throw TestPostgresError(message: "scripts/test-postgres start failed: \(result.stderr)")
                }
                url = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            cached = url
            return url
        }
    }

    /// Creates an empty database `pw_<random>` and returns its URL.
    static func createDatabase() throws -> (name: String, url: String) {
        let admin = try adminURL()
        let name = "pw_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try psql(admin, "CREATE DATABASE \(name)")
        let base = admin.hasSuffix("/postgres") ? String(admin.dropLast("/postgres".count)) : admin
        return (String(name), "\(base)/\(name)")
    }

    /// Drops a database made by `createDatabase()`, closing its remaining connections first.
    static func dropDatabase(_ name: String) throws {
        try psql(try adminURL(), "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs one SQL statement with `psql` against `url`; returns its unaligned output.
    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> String {
        let result = try runProgram("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-tAq", "-c", sql])
        guard result.status == 0 else { throw TestPostgresError(message: "psql: \(sql): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The repository root (two levels above this file's folder).
    static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    private static let resolved = Mutex<String?>(nil)
}

struct TestPostgresError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
