import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PipewrightCore
import Testing

@testable import App

/// Issue 13 item 3: `pipewright backup` while the service ingests logs and takes writes, `pipewright
/// restore` into an empty data directory; every row and every log byte comes back. Real binary, SQLite.
@Suite(.serialized) struct BackupRestoreTests {
    struct Failure: Error, CustomStringConvertible { var description: String }

    @Test func backupDuringIngestion_restores_everyRowAndLogByte() async throws {
        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let keyCopy = root + "/master.key"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        let (server, token) = try await ServedBinary.startWithAdmin(
            "ops", root: root, dataDirectory: data, environment: ["BITBUCKET_API_URL": "http://127.0.0.1:9/2.0"])
        defer { server.stop() }

        try await withHTTPClient { client in
            @Sendable func call(_ method: HTTPMethod, _ path: String, _ body: String?) async throws -> (
                UInt, [String: Any]
            ) {
                var request = HTTPClientRequest(url: "\(server.baseURL)/\(path)")
                request.method = method
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                if let body {
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: body))
                }
                let response = try await client.execute(request, timeout: .seconds(60))
                let bytes = try await response.body.collect(upTo: 16 << 20)
                let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
                return (response.status.code, json)
            }
            @Sendable func create(_ path: String, _ body: String) async throws -> Int {
                let reply = try await call(.POST, path, body)
                guard let id = reply.1["id"] as? Int else { throw Failure(description: "\(path): \(reply)") }
                return id
            }
            let connection = try await create(
                "api/connections",
                #"{"name": "acme", "workspace": "acme", "auth": {"type": "access_token", "token": "t0k3n-secret"}}"#)
            let key = try await create("api/ssh-keys", #"{"name": "deploy", "key_type": "ed25519"}"#)
            let host = try await create("api/servers", #"{"host": "203.0.113.10", "username": "deploy"}"#)
            let pipeline = try await create(
                "api/pipelines",
                #"{"name": "web", "connection_id": \#(connection), "repo_slug": "web", "deploy": {"server_ids": [\#(host)], "ssh_key_id": \#(key), "deploy_path": "/srv/web"}}"#
            )
            var executions: [Int] = []
            for _ in 0..<3 {
                executions.append(try await create("api/pipelines/\(pipeline)/trigger", #"{"max_retries": 0}"#))
            }
            let ids = executions
            // Ingestion and writes run while the first backup is taken.
            let stop = LockedFlag()
            let writer = Task {
                var round = 0
                while !stop.value {
                    round += 1
                    for execution in ids {
                        let lines = (0..<50).map { "round \(round) line \($0) of execution \(execution)\n" }.joined()
                        var request = HTTPClientRequest(
                            url: "\(server.baseURL)/api/executions/\(execution)/logs?step=Build")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.body = .bytes(ByteBuffer(string: lines))
                        _ = try? await client.execute(request, timeout: .seconds(60))
                    }
                    if round % 5 == 0 {
                        _ = try? await create("api/ssh-keys", #"{"name": "k\#(round)", "key_type": "ed25519"}"#)
                    }
                }
                return round
            }
            try await Task.sleep(for: .milliseconds(500))
            let during = try await Task.detached {
                try CLIProcess.run(["backup", "--to", root + "/during"], directory: root, environment: environment)
            }.value
            #expect(during.status == 0, "\(during.stderr)")
            #expect(during.stdout.contains("The master key is not in the backup"), "\(during.stdout)")
            try await Task.sleep(for: .milliseconds(300))
            stop.set()
            let rounds = await writer.value
            #expect(rounds > 2, "ingestion ran during the backup")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/during/master.key"), "no key without the flag")

        // A quiet second backup (with the key), then the server stops: the original is final.
        let quiet = try CLIProcess.run(
            ["backup", "--to", root + "/quiet", "--include-master-key"], directory: root, environment: environment)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.hasPrefix("warning: "), "a warning about the included key: \(quiet.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/quiet/master.key"))
        server.stop()
        try FileManager.default.copyItem(atPath: data + "/master.key", toPath: keyCopy)

        // The backup taken during ingestion restores, its secrets open and its logs read; every log file is
        // a prefix of the original (nothing invented), every append-only row is the original's.
        let restoredDuring = root + "/restored-during"
        let first = try CLIProcess.run(
            ["restore", "--from", root + "/during"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": restoredDuring, "PIPEWRIGHT_MASTER_KEY_FILE": keyCopy])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(
            first.stdout.contains("0 failure(s)") && first.stdout.contains("execution(s) read"), "\(first.stdout)")
        // `stats.json` is a derived snapshot the store rewrites when it opens a log; the lines are in
        // `data.log` (bytes) and `index.bin` (one entry per line), both append-only.
        let lineFiles = { (root: String) in
            BackupManifest.files(under: root).filter { $0.hasSuffix("/data.log") || $0.hasSuffix("/index.bin") }
        }
        #expect(!lineFiles(restoredDuring + "/logs").isEmpty, "the backup holds logs ingested before it")
        for file in lineFiles(restoredDuring + "/logs") {
            let restored = try Data(contentsOf: URL(fileURLWithPath: restoredDuring + "/logs/" + file))
            let original = try Data(contentsOf: URL(fileURLWithPath: data + "/logs/" + file))
            #expect(original.prefix(restored.count) == restored, "logs/\(file) is a prefix of the original")
        }
        let original = try tableRows(data + "/pipewright.sqlite")
        let snapshot = try tableRows(restoredDuring + "/pipewright.sqlite")
        for table in ["users", "ssh_keys", "connections", "pipelines", "audit_entries"] {
            let rows = try #require(snapshot[table], "table \(table) in the snapshot")
            #expect(Set(rows).isSubset(of: Set(original[table] ?? [])), "\(table): rows as in the original")
            #expect(!rows.isEmpty, "\(table) has rows")
        }

        // The quiet backup restores to exactly the original: every row of every table, every log byte.
        let restoredQuiet = root + "/restored-quiet"
        let second = try CLIProcess.run(
            ["restore", "--from", root + "/quiet"], directory: root, environment: ["PIPEWRIGHT_DATA_DIR": restoredQuiet]
        )
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(try tableRows(restoredQuiet + "/pipewright.sqlite") == original, "every row")
        let originalLogs = lineFiles(data + "/logs")
        #expect(!originalLogs.isEmpty)
        #expect(second.stdout.contains("logs of \(originalLogs.count / 2) execution(s) read"), "\(second.stdout)")
        #expect(lineFiles(restoredQuiet + "/logs") == originalLogs)
        for file in originalLogs {
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: restoredQuiet + "/logs/" + file))
                    == Data(contentsOf: URL(fileURLWithPath: data + "/logs/" + file)), "logs/\(file) byte for byte")
        }
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: restoredQuiet + "/master.key"))
                == Data(contentsOf: URL(fileURLWithPath: keyCopy)))

        // Without the key the restore is refused before it writes anything; with the key file put in the new
        // data directory (the one file it may hold) it restores.
        let keyless = try CLIProcess.run(
            ["restore", "--from", root + "/during"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": root + "/restored-keyless"])
        #expect(keyless.status == 1 && keyless.stderr.contains("has no master key"), "\(keyless.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/restored-keyless")) ?? []).isEmpty)
        try FileManager.default.createDirectory(atPath: root + "/restored-keyed", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: keyCopy, toPath: root + "/restored-keyed/master.key")
        let keyed = try CLIProcess.run(
            ["restore", "--from", root + "/during"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": root + "/restored-keyed"])
        #expect(keyed.status == 0 && keyed.stdout.contains("0 failure(s)"), "\(keyed.stdout)\(keyed.stderr)")

        // With PIPEWRIGHT_LOG_DIR (a log volume shared by instances) the logs go there, not to <data>/logs, and
        // the check reads them there; a log directory that holds anything is refused before anything is written.
        let sharedLogs = root + "/shared-logs"
        let elsewhere = try CLIProcess.run(
            ["restore", "--from", root + "/quiet"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": root + "/restored-elsewhere", "PIPEWRIGHT_LOG_DIR": sharedLogs])
        #expect(elsewhere.status == 0, "\(elsewhere.stdout)\(elsewhere.stderr)")
        #expect(
            elsewhere.stdout.contains("logs of \(originalLogs.count / 2) execution(s) read"), "\(elsewhere.stdout)")
        #expect(lineFiles(sharedLogs) == originalLogs)
        #expect(!FileManager.default.fileExists(atPath: root + "/restored-elsewhere/logs"))
        let sharedNotEmpty = try CLIProcess.run(
            ["restore", "--from", root + "/quiet"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": root + "/restored-elsewhere-2", "PIPEWRIGHT_LOG_DIR": sharedLogs])
        #expect(
            sharedNotEmpty.status == 1
                && sharedNotEmpty.stderr.contains("PIPEWRIGHT_LOG_DIR=\(sharedLogs) is not empty"),
            "\(sharedNotEmpty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/restored-elsewhere-2/pipewright.sqlite"))

        // A backup into the data directory would copy itself: refused, nothing written.
        let inside = try CLIProcess.run(
            ["backup", "--to", data + "/logs/inside"], directory: root, environment: environment)
        #expect(inside.status == 1 && inside.stderr.contains("inside the data directory"), "\(inside.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/logs/inside"))

        // Refusals: a non-empty data directory, a changed file, a running server.
        let notEmpty = try CLIProcess.run(
            ["restore", "--from", root + "/quiet"], directory: root, environment: ["PIPEWRIGHT_DATA_DIR": restoredQuiet]
        )
        #expect(notEmpty.status == 1 && notEmpty.stderr.contains("is not empty"), "\(notEmpty.stderr)")
        let victim = try #require(lineFiles(root + "/during/logs").first)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: root + "/during/logs/" + victim))
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data("X".utf8))
        try handle.close()
        let tampered = try CLIProcess.run(
            ["restore", "--from", root + "/during"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": root + "/restored-tampered", "PIPEWRIGHT_MASTER_KEY_FILE": keyCopy])
        #expect(tampered.status == 1)
        #expect(tampered.stderr == "error: backup damaged: logs/\(victim) does not match its SHA-256 in the manifest\n")
        #expect(!FileManager.default.fileExists(atPath: root + "/restored-tampered/pipewright.sqlite"))
    }

    /// A backup taken while the master key is rotated online holds the key its own snapshot opens with
    /// (`--include-master-key`) and restores; its manifest names that key's id.
    @Test func backupDuringAnOnlineRotation_includesTheKeyItsSnapshotOpensWith() async throws {
        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        let (server, token) = try await ServedBinary.startWithAdmin("ops", root: root, dataDirectory: data)
        defer { server.stop() }
        try await withHTTPClient { client in
            for round in 0..<5 {
                // The rotation starts while the backup process boots with the key it read at start.
                let rotation = Task {
                    try await Task.sleep(for: .milliseconds(20 * round))
                    var request = HTTPClientRequest(url: "\(server.baseURL)/api/admin/master-key/rotate")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    return try await client.execute(request, timeout: .seconds(60)).status
                }
                let backup = root + "/backup-\(round)"
                let made = try await Task.detached {
                    try CLIProcess.run(
                        ["backup", "--to", backup, "--include-master-key"], directory: root, environment: environment)
                }.value
                #expect(try await rotation.value == .ok)
                #expect(made.status == 0, "\(made.stderr)")
                let manifest = try JSONDecoder().decode(
                    BackupManifest.self, from: Data(contentsOf: URL(fileURLWithPath: backup + "/manifest.json")))
                let included = try String(contentsOfFile: backup + "/master.key", encoding: .utf8)
                #expect(
                    try MasterKey(base64: included.trimmingCharacters(in: .whitespacesAndNewlines)).id
                        == manifest.masterKeyID)
                #expect(made.stdout.contains("master key whose id is \(manifest.masterKeyID ?? "?")"), "\(made.stdout)")
                let restored = try CLIProcess.run(
                    ["restore", "--from", backup], directory: root,
                    environment: ["PIPEWRIGHT_DATA_DIR": root + "/restored-\(round)"])
                #expect(restored.status == 0, "round \(round): \(restored.stdout)\(restored.stderr)")
            }
        }
    }

    /// A restore killed half-way leaves `RESTORE-INCOMPLETE` in the data directory: `serve`, the other
    /// commands and another restore refuse it until it is emptied. A key file identical to the backup's may
    /// be in place; another key is refused before anything is written.
    @Test func interruptedRestore_isRefusedEverywhere_untilEmptied_andOnlyTheSameKeyFileMayBeThere() throws {
        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let created = try CLIProcess.run(
            ["user", "create", "ops", "--admin", "--password-stdin"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": data], stdin: "ops-password-1234\n")
        #expect(created.status == 0, "\(created.stderr)")
        let backup = try CLIProcess.run(
            ["backup", "--to", root + "/backup", "--include-master-key"], directory: root,
            environment: ["PIPEWRIGHT_DATA_DIR": data])
        #expect(backup.status == 0, "\(backup.stderr)")

        // Killed (SIGKILL) as soon as its marker appears, before the check of the restored data.
        let target = root + "/restored"
        let marker = target + "/" + RestoreMarker.fileName
        let restore = Process()
        restore.executableURL = URL(fileURLWithPath: try ServeProcess.binaryPath())
        restore.arguments = ["restore", "--from", root + "/backup"]
        restore.environment = ["PIPEWRIGHT_DATA_DIR": target, "PATH": "/usr/bin:/bin"]
        restore.standardOutput = FileHandle.nullDevice
        restore.standardError = FileHandle.nullDevice
        try restore.run()
        let deadline = Date().addingTimeInterval(30)
        while restore.isRunning, !FileManager.default.fileExists(atPath: marker), Date() < deadline { usleep(1_000) }
        #expect(restore.isRunning, "the restore was still running when its marker appeared")
        kill(restore.processIdentifier, SIGKILL)
        restore.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: marker))

        let environment = ["PIPEWRIGHT_DATA_DIR": target]
        let unfinished = "holds an unfinished restore"
        // `timeout` stops a serve that would (wrongly) start: exit 124 instead of a hung test.
        let serve = try CLIProcess.run(
            ["20", try ServeProcess.binaryPath(), "serve", "--port", "\(try freeTCPPort())"], directory: root,
            environment: environment, program: "/usr/bin/timeout")
        #expect(serve.status == 1 && serve.stderr.contains(unfinished), "\(serve.status) \(serve.stderr)")
        for arguments in [["keys", "verify"], ["user", "list"], ["restore", "--from", root + "/backup"]] {
            let refused = try CLIProcess.run(arguments, directory: root, environment: environment)
            #expect(refused.status == 1 && refused.stderr.contains(unfinished), "\(arguments): \(refused.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: marker), "the refusals left the marker")

        // Emptied, the directory takes the restore, and the finished restore removes its marker.
        try FileManager.default.removeItem(atPath: target)
        let again = try CLIProcess.run(
            ["restore", "--from", root + "/backup"], directory: root, environment: environment)
        #expect(again.status == 0 && again.stdout.contains("0 failure(s)"), "\(again.stdout)\(again.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))

        // Another key given in the environment: refused by the check, and the new directory is gone again.
        let wrongKey = try CLIProcess.run(
            ["restore", "--from", root + "/backup"], directory: root,
            environment: [
                "PIPEWRIGHT_DATA_DIR": root + "/wrong-key",
                "PIPEWRIGHT_MASTER_KEY": MasterKey.generate().base64Representation.value,
            ])
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("does not open"), "\(wrongKey.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/wrong-key"))

        // The backup's own key already in place is accepted; another key is refused, nothing written.
        let sameKey = root + "/same-key"
        try FileManager.default.createDirectory(atPath: sameKey, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: data + "/master.key", toPath: sameKey + "/master.key")
        let same = try CLIProcess.run(
            ["restore", "--from", root + "/backup"], directory: root, environment: ["PIPEWRIGHT_DATA_DIR": sameKey])
        #expect(same.status == 0 && same.stdout.contains("0 failure(s)"), "\(same.stdout)\(same.stderr)")
        let otherKey = root + "/other-key"
        try FileManager.default.createDirectory(atPath: otherKey, withIntermediateDirectories: true)
        try Data((MasterKey.generate().base64Representation.value + "\n").utf8)
            .write(to: URL(fileURLWithPath: otherKey + "/master.key"))
        let other = try CLIProcess.run(
            ["restore", "--from", root + "/backup"], directory: root, environment: ["PIPEWRIGHT_DATA_DIR": otherKey])
        #expect(other.status == 1 && other.stderr.contains("holds another key"), "\(other.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: otherKey) == ["master.key"])
    }

    /// Backup and restore on PostgreSQL with a role that must give its password (SCRAM: scripts/test-postgres
    /// names `pw_password_login` in pg_hba.conf). `pg_dump` and `pg_restore` get the password, which has the
    /// characters the URL and the passfile escape, and every row and secret comes back.
    @Test func postgres_backupAndRestore_withAPasswordRole_bringsBackEveryRowAndSecret() async throws {
        let role = "pw_password_login"
        // `%41` stays `%41`: a password is percent-decoded once, from the URL, and never again.
        let password = #"p@ss:w\rd%41 'x"#
        let admin = try TestPostgres.adminURL()
        try TestPostgres.psql(
            admin, "DO $$ BEGIN CREATE ROLE \(role) LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        try TestPostgres.psql(
            admin, "ALTER ROLE \(role) PASSWORD '\(password.replacingOccurrences(of: "'", with: "''"))'")
        let source = try TestPostgres.createDatabase()
        let target = try TestPostgres.createDatabase()
        defer {
            try? TestPostgres.dropDatabase(source.name)
            try? TestPostgres.dropDatabase(target.name)
        }
        for database in [source.name, target.name] {
            try TestPostgres.psql(admin, "ALTER DATABASE \(database) OWNER TO \(role)")
        }
        let server = try #require(URLComponents(string: admin))
        let encoded = try #require(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let address = "127.0.0.1:\(try #require(server.port))"
        let sourceURL = "postgres://\(role):\(encoded)@\(address)/\(source.name)"
        let targetURL = "postgres://\(role):\(encoded)@\(address)/\(target.name)"

        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        // The role really must give its password: a wrong one is refused.
        let wrong = try CLIProcess.run(
            ["keys", "verify"], directory: root,
            environment: [
                "PIPEWRIGHT_DATA_DIR": data, "DATABASE_URL": "postgres://\(role):wrong@\(address)/\(source.name)",
            ])
        #expect(wrong.status != 0, "\(wrong.stdout)\(wrong.stderr)")

        let port = try freeTCPPort()
        let served = try await ServedBinary.start(
            arguments: ["serve", "--port", "\(port)"], dataDirectory: data, port: port,
            environment: ["DATABASE_URL": sourceURL, "BITBUCKET_API_URL": "http://127.0.0.1:9/2.0"])
        defer { served.stop() }
        let environment = ["PIPEWRIGHT_DATA_DIR": data, "DATABASE_URL": sourceURL]
        let created = try CLIProcess.run(
            ["user", "create", "ops", "--admin", "--password-stdin"], directory: root, environment: environment,
            stdin: "ops-password-1234\n")
        #expect(created.status == 0, "\(created.stderr)")
        let token = try CLIProcess.run(["token", "create", "ops"], directory: root, environment: environment)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try await withHTTPClient { client in
            for (path, body) in [
                ("api/ssh-keys", #"{"name": "deploy", "key_type": "ed25519", "passphrase": "pp-1"}"#),
                (
                    "api/connections",
                    #"{"name": "acme", "workspace": "acme", "auth": {"type": "access_token", "token": "t0k3n"}}"#
                ),
            ] {
                var request = HTTPClientRequest(url: "\(served.baseURL)/\(path)")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
                let response = try await client.execute(request, timeout: .seconds(30))
                #expect(response.status == .created, "\(path)")
            }
        }
        let backup = try CLIProcess.run(
            ["backup", "--to", root + "/backup"], directory: root, environment: environment)
        #expect(backup.status == 0, "\(backup.stdout)\(backup.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/backup/database/pipewright.pgdump"))
        served.stop()

        let restored = try CLIProcess.run(
            ["restore", "--from", root + "/backup"], directory: root,
            environment: [
                "PIPEWRIGHT_DATA_DIR": root + "/restored", "DATABASE_URL": targetURL,
                "PIPEWRIGHT_MASTER_KEY_FILE": data + "/master.key",
            ])
        #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
        #expect(restored.stdout.contains("0 failure(s)"), "\(restored.stdout)")
        let base = String(admin.dropLast("/postgres".count))
        for query in [
            "SELECT string_agg(username || ':' || role, ',' ORDER BY id) FROM users",
            "SELECT string_agg(name || ':' || sealed_private_key, ',' ORDER BY id) FROM ssh_keys",
            "SELECT count(*) FROM connections", "SELECT count(*) FROM audit_entries",
        ] {
            let before = try TestPostgres.psql("\(base)/\(source.name)", query)
            #expect(!before.isEmpty && before != "0", "\(query)")
            #expect(try TestPostgres.psql("\(base)/\(target.name)", query) == before, "\(query)")
        }
    }

    /// Every row of every table of a SQLite file, as sorted JSON strings per table (Python's sqlite3).
    func tableRows(_ path: String) throws -> [String: [String]] {
        let python = ProcessInfo.processInfo.environment["PIPEWRIGHT_TEST_PYTHON"] ?? "/usr/bin/python3"
        let script = """
            import json, sqlite3, sys
            c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
            out = {}
            for (t,) in c.execute("select name from sqlite_master where type='table' and name not like 'sqlite_%'"):
                rows = [json.dumps([x if not isinstance(x, bytes) else x.hex() for x in r]) for r in c.execute('select * from "%s"' % t)]
                out[t] = sorted(rows)
            print(json.dumps(out))
            """
        let result = try runProgram(python, ["-c", script, path])
        guard result.status == 0 else { throw Failure(description: result.stderr) }
        return try JSONDecoder().decode([String: [String]].self, from: Data(result.stdout.utf8))
    }
}

/// A flag set once from another task.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}
