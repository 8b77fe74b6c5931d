import Fluent
import FluentSQLiteDriver
import Foundation
import PipewrightCore
import SQLKit
import Testing
import Vapor

@testable import App

/// Issue 16 item 6: `pipewright db copy --to postgres://…` moves a SQLite installation (made by the real
/// binary) to PostgreSQL (a database of its own on the test cluster, `TestPostgres`). SQLite on purpose:
/// the source of a copy is a SQLite installation.
@Suite(.serialized) struct DatabaseCopyTests {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// `curl` against the running binary; the decoded JSON object (or `[:]`) and the status.
    private func call(
        _ server: ServedBinary, _ method: String, _ path: String, token: String, body: String? = nil
    ) throws -> (status: Int, json: [String: Any]) {
        var arguments = [
            "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H", "Authorization: Bearer \(token)",
            "\(server.baseURL)/\(path)",
        ]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let result = try runProgram("/usr/bin/curl", arguments)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let text = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (status, json)
    }

    private func create(_ server: ServedBinary, _ path: String, token: String, _ body: String) throws -> Int {
        let reply = try call(server, "POST", path, token: token, body: body)
        guard let id = reply.json["id"] as? Int else { throw Failure(description: "\(path): \(reply)") }
        return id
    }

    /// Row count of every table of a SQLite file (Fluent's bookkeeping table left out).
    private func sqliteCounts(_ file: String) async throws -> [String: Int] {
        let app = try await Application.make(.testing)
        do {
            app.databases.use(.sqlite(.file(file)), as: .sqlite)
            let sql = try #require(app.db as? any SQLDatabase)
            let tables = try await sql.raw(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).all(decodingColumn: "name", as: String.self).filter { $0 != "_fluent_migrations" }
            var counts: [String: Int] = [:]
            for table in tables {
                counts[table] = try await sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)")
                    .first(decodingColumn: "n", as: Int.self)
            }
            try await app.asyncShutdown()
            return counts
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Row count of every table of the target (Fluent's bookkeeping table left out).
    private func postgresCounts(_ url: String) throws -> [String: Int] {
        let tables = try TestPostgres.psql(
            url,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                + "AND table_type = 'BASE TABLE' AND table_name <> '_fluent_migrations'"
        ).split(separator: "\n").map(String.init)
        var counts: [String: Int] = [:]
        for table in tables { counts[table] = Int(try TestPostgres.psql(url, "SELECT count(*) FROM \"\(table)\"")) }
        return counts
    }

    @Test func copy_roundTrip_everyRowAndSecret_thenServesOnPostgreSQL() async throws {
        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        let target = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(target.name) }

        // An installation with keys (one with a passphrase), a server, a connection (sealed token), a
        // pipeline (sealed webhook secret), executions (sealed variables), users, tokens and audit rows.
        let port = try freeTCPPort()
        var server = try await ServedBinary.start(
            arguments: ["serve", "--port", "\(port)"], dataDirectory: data, port: port,
            environment: ["BITBUCKET_API_URL": "http://127.0.0.1:9/2.0"])
        defer { server.stop() }
        _ = try CLIProcess.run(
            ["user", "create", "ops", "--admin", "--password-stdin"], directory: root, environment: environment,
            stdin: "ops-password-1234\n")
        _ = try CLIProcess.run(
            ["user", "create", "dana", "--role", "viewer"], directory: root, environment: environment)
        let token = try CLIProcess.run(["token", "create", "ops"], directory: root, environment: environment)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let connection = try create(
            server, "api/connections", token: token,
            #"{"name": "acme", "workspace": "acme", "auth": {"type": "access_token", "token": "t0k3n-secret"}}"#)
        let key = try create(server, "api/ssh-keys", token: token, #"{"name": "deploy", "key_type": "ed25519"}"#)
        _ = try create(
            server, "api/ssh-keys", token: token, #"{"name": "locked", "key_type": "ed25519", "passphrase": "pp-1"}"#)
        let host = try create(server, "api/servers", token: token, #"{"host": "203.0.113.10", "username": "deploy"}"#)
        let pipeline = try create(
            server, "api/pipelines", token: token,
            #"{"name": "web", "connection_id": \#(connection), "repo_slug": "web", "deploy": {"server_ids": [\#(host)], "ssh_key_id": \#(key), "deploy_path": "/srv/web"}}"#
        )
        // Two branches: an identical trigger in quick succession would reuse the first execution.
        for branch in ["main", "release"] {
            _ = try create(
                server, "api/pipelines/\(pipeline)/trigger", token: token,
                #"{"branch": "\#(branch)", "max_retries": 0, "variables": [{"key": "SECRET", "value": "v-1", "secured": true}]}"#
            )
        }

        // While serve owns the data directory, the copy is refused and writes nothing.
        let whileServing = try CLIProcess.run(
            ["db", "copy", "--to", target.url], directory: root, environment: environment)
        #expect(whileServing.status == 1 && whileServing.errorLines.count == 1, "\(whileServing)")
        #expect(whileServing.stderr.contains("refused"), "\(whileServing.stderr)")
        #expect(try TestPostgres.psql(target.url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0")
        server.stop()

        let copied = try CLIProcess.run(["db", "copy", "--to", target.url], directory: root, environment: environment)
        #expect(copied.status == 0, "\(copied)")
        #expect(copied.stdout.contains("row counts match"), "\(copied.stdout)")
        #expect(copied.stdout.contains(" secret(s) open on the target, 0 failure(s)"), "\(copied.stdout)")
        for table in ["users", "api_tokens", "ssh_keys", "servers", "connections", "pipelines", "executions"] {
            #expect(copied.stdout.contains("  \(table) "), "summary names \(table): \(copied.stdout)")
        }

        // Every table has the source's rows (plus the copy's own audit entry), with the same ids and the
        // same sealed values.
        let source = try await sqliteCounts(data + "/pipewright.sqlite")
        var onTarget = try postgresCounts(target.url)
        #expect(onTarget["audit_entries"] == (source["audit_entries"] ?? 0) + 1)
        onTarget["audit_entries"] = source["audit_entries"]
        #expect(onTarget == source)
        #expect(source["executions"] == 2 && source["ssh_keys"] == 2 && (source["users"] ?? 0) >= 3, "\(source)")
        let copyEntry = try TestPostgres.psql(
            target.url, "SELECT actor_username || ' ' || outcome FROM audit_entries WHERE action = 'database.copy'")
        #expect(copyEntry == "cli:\(ConsoleActor.current) success")

        // The copied database serves: keys verify is clean, the old token works, ids continue after the
        // copied ones (sequences were reset).
        let postgresEnvironment = ["PIPEWRIGHT_DATA_DIR": data, "DATABASE_URL": target.url]
        let verify = try CLIProcess.run(["keys", "verify"], directory: root, environment: postgresEnvironment)
        #expect(verify.status == 0 && verify.stdout.contains(" 0 failure(s)"), "\(verify)")
        #expect(!verify.stdout.contains("Checked 0 secret(s)"), "\(verify.stdout)")
        let pgPort = try freeTCPPort()
        server = try await ServedBinary.start(
            arguments: ["serve", "--port", "\(pgPort)"], dataDirectory: data, port: pgPort,
            environment: ["DATABASE_URL": target.url, "BITBUCKET_API_URL": "http://127.0.0.1:9/2.0"])
        let shown = try call(server, "GET", "api/pipelines/\(pipeline)", token: token)
        #expect(shown.status == 200 && shown.json["name"] as? String == "web", "\(shown)")
        let exported = try call(server, "GET", "api/ssh-keys/\(key)/private", token: token)
        #expect(exported.status == 200, "the sealed private key opens on PostgreSQL: \(exported)")
        let next = try create(server, "api/ssh-keys", token: token, #"{"name": "after", "key_type": "ed25519"}"#)
        #expect(next > key + 1, "a new id follows the copied ones")
        server.stop()
    }

    @Test func copy_intoATargetWithRows_isRefused_andChangesNothing() async throws {
        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let environment = ["PIPEWRIGHT_DATA_DIR": root + "/data"]
        let created = try CLIProcess.run(
            ["user", "create", "ops", "--admin", "--password-stdin"], directory: root, environment: environment,
            stdin: "ops-password-1234\n")
        #expect(created.status == 0, "\(created)")
        let target = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(target.name) }

        let first = try CLIProcess.run(["db", "copy", "--to", target.url], directory: root, environment: environment)
        #expect(first.status == 0, "\(first)")
        let before = try postgresCounts(target.url)
        let again = try CLIProcess.run(["db", "copy", "--to", target.url], directory: root, environment: environment)
        #expect(again.status == 1, "\(again)")
        #expect(again.errorLines.count == 1 && again.stderr.contains("already holds data"), "\(again.stderr)")
        #expect(try postgresCounts(target.url) == before)

        // A database of another application is refused the same way.
        let foreign = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(foreign.name) }
        try TestPostgres.psql(foreign.url, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('keep me')")
        let other = try CLIProcess.run(["db", "copy", "--to", foreign.url], directory: root, environment: environment)
        #expect(other.status == 1 && other.stderr.contains("table notes"), "\(other)")
        #expect(try TestPostgres.psql(foreign.url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1")
    }

    @Test func copy_withAnotherMasterKey_isRefused_beforeTheTargetIsTouched() async throws {
        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let environment = ["PIPEWRIGHT_DATA_DIR": root + "/data"]
        let created = try CLIProcess.run(
            ["user", "create", "ops", "--admin", "--password-stdin"], directory: root, environment: environment,
            stdin: "ops-password-1234\n")
        #expect(created.status == 0, "\(created)")
        let target = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(target.name) }

        var wrongKey = environment
        wrongKey["PIPEWRIGHT_MASTER_KEY"] = MasterKey.generate().base64Representation.value
        let refused = try CLIProcess.run(["db", "copy", "--to", target.url], directory: root, environment: wrongKey)
        #expect(refused.status == 1 && refused.errorLines.count == 1, "\(refused)")
        #expect(refused.stderr.contains("PIPEWRIGHT_MASTER_KEY"), "\(refused.stderr)")
        #expect(try TestPostgres.psql(target.url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0")
    }

    /// A secret that does not open is found after every row was inserted: the transaction rolls back and
    /// the target keeps no row (in process, on a SQLite file made by the app).
    @Test func copy_failingVerification_leavesTheTargetEmpty() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-copy-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(target.name) }
        try await withTestApp(configure: {
            $0.dataDirectory = directory
            $0.database = .sqlite(path: directory + "/pipewright.sqlite")
        }) { ctx in
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "k", "key_type": "ed25519"])
            ) { res async throws in #expect(res.status == .created) }
            let sql = try #require(ctx.app.db as? any SQLDatabase)
            try await sql.raw("UPDATE ssh_keys SET sealed_private_key = 'not-a-sealed-value'").run()

            await #expect {
                try await DatabaseCopy.copy(app: ctx.app, to: target.url, osUser: "tester")
            } throws: { error in
                "\(error)".contains("do not open on the target")
            }
        }
        let counts = try postgresCounts(target.url)
        #expect(!counts.isEmpty, "the schema was migrated")
        #expect(counts.values.allSatisfy { $0 == 0 }, "no row stays behind: \(counts)")
    }
}
