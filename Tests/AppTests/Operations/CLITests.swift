import Foundation
import Testing

@testable import App

/// Issue 13 item 4: the command line on swift-argument-parser, run as the real binary.
@Suite(.serialized) struct CLITests {
    @Test func helpVersionAndUnknownCommands_touchNothingOnDisk() throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bare = try CLIProcess.run([], directory: directory)
        #expect(bare.status == 0)
        #expect(bare.stdout.contains("USAGE: pipewright"), "\(bare.stdout)")
        #expect(bare.stdout.contains("serve") && bare.stdout.contains("master-key"))
        for arguments in [["--help"], ["help"], ["help", "serve"], ["serve", "--help"], ["migrate", "--help"]] {
            let result = try CLIProcess.run(arguments, directory: directory)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout.contains("USAGE:"), "\(arguments)")
        }
        let version = try CLIProcess.run(["--version"], directory: directory)
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("pipewright \(BuildInfo.version) (commit "), "\(version.stdout)")
        #expect(
            !version.stdout.contains("unknown"), "a build from the git checkout knows its commit: \(version.stdout)")
        for arguments in [["frobnicate"], ["serve", "--bogus"], ["token", "create"], ["serve", "--port", "x"]] {
            let result = try CLIProcess.run(arguments, directory: directory)
            #expect(result.status == 64, "\(arguments): usage errors exit 64, got \(result.status)")
            #expect(result.errorLines.count == 1, "\(arguments): one line: \(result.stderr)")
            #expect(result.errorLines.first?.hasPrefix("error: ") == true, "\(arguments): \(result.stderr)")
        }
        let user = try CLIProcess.run(["user"], directory: directory)
        #expect(user.status == 0 && user.stdout.contains("create"), "a group alone prints its help: \(user.stdout)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty,
            "help, version and usage errors create nothing (no ./data)")
    }

    @Test func failures_printOneLine_once_andExit1() throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = ["PIPEWRIGHT_DATA_DIR": directory + "/data"]
        let badVariable = try CLIProcess.run(
            ["keys", "verify"], directory: directory, environment: data.merging(["PIPEWRIGHT_PORT": "http"]) { $1 })
        #expect(badVariable.status == 1)
        #expect(badVariable.errorLines.count == 1)
        #expect(badVariable.stderr.hasPrefix("configuration error: PIPEWRIGHT_PORT:"), "\(badVariable.stderr)")
        let created = try CLIProcess.run(
            ["user", "create", "alice", "--password-stdin"], directory: directory, environment: data,
            stdin: "alice-password-1\n")
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("Created user 'alice'"))
        let duplicate = try CLIProcess.run(
            ["user", "create", "alice", "--password-stdin"], directory: directory, environment: data,
            stdin: "alice-password-1\n")
        #expect(duplicate.status == 1)
        #expect(duplicate.errorLines.count == 1 && duplicate.stderr.hasPrefix("error: "), "\(duplicate.stderr)")
        let missing = try CLIProcess.run(["token", "create", "nobody"], directory: directory, environment: data)
        #expect(missing.status == 1)
        #expect(missing.errorLines == ["error: no user 'nobody'"], "\(missing.stderr)")
        let token = try CLIProcess.run(
            ["token", "create", "alice", "--name", "ci"], directory: directory, environment: data)
        #expect(token.status == 0 && token.stdout.hasPrefix("pw_"), "\(token.stderr)")
        let verify = try CLIProcess.run(["keys", "verify"], directory: directory, environment: data)
        #expect(verify.status == 0 && verify.stdout.contains("0 failure(s)"), "\(verify.stdout)\(verify.stderr)")
    }

    /// A mistyped `PIPEWRIGHT_DATA_DIR` is refused by every command that needs existing data, instead of
    /// being answered ("0 failures", "backed up") from a brand-new, empty installation made on the spot.
    @Test func commandsNeedingData_onAMissingInstallation_areRefused_andCreateNothing() throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let typo = directory + "/dtaa"
        let data = ["PIPEWRIGHT_DATA_DIR": typo]
        for arguments in [
            ["keys", "verify"], ["backup", "--to", directory + "/backup"], ["user", "list"],
            ["token", "create", "alice"], ["master-key", "rotate"], ["migrate", "--revert"],
            ["user", "disable", "alice"],
        ] {
            let refused = try CLIProcess.run(arguments, directory: directory, environment: data)
            #expect(refused.status == 1, "\(arguments)")
            #expect(
                refused.errorLines.count == 1
                    && refused.stderr.hasPrefix("error: no pipewright data in PIPEWRIGHT_DATA_DIR=\(typo)"),
                "\(arguments): \(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: typo), "\(arguments) created nothing")
            #expect(!FileManager.default.fileExists(atPath: directory + "/backup"), "\(arguments)")
        }
        // The commands that make an installation still do.
        let migrated = try CLIProcess.run(["migrate"], directory: directory, environment: data)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let verified = try CLIProcess.run(["keys", "verify"], directory: directory, environment: data)
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    /// Mistakes an operator makes with existing data: each gets one line naming the mistake, and nothing is
    /// written.
    @Test func operatorMistakes_areRefusedWithTheirReason_andWriteNothing() throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        let created = try CLIProcess.run(
            ["user", "create", "alice", "--password-stdin"], directory: directory, environment: environment,
            stdin: "alice-password-1\n")
        #expect(created.status == 0, "\(created.stderr)")

        // A backup into the data directory through a symbolic link, or into a separate log directory.
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: data + "/logs")
        let viaLink = try CLIProcess.run(
            ["backup", "--to", directory + "/link/backup"], directory: directory, environment: environment)
        #expect(viaLink.status == 1 && viaLink.stderr.contains("is inside the data directory"), "\(viaLink.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/logs/backup"))
        let logs = directory + "/shared-logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let intoLogs = try CLIProcess.run(
            ["backup", "--to", logs + "/backup"], directory: directory,
            environment: environment.merging(["PIPEWRIGHT_LOG_DIR": logs]) { $1 })
        #expect(intoLogs.status == 1 && intoLogs.stderr.contains("is inside the log directory"), "\(intoLogs.stderr)")
        #expect(!FileManager.default.fileExists(atPath: logs + "/backup"))
        // … or through a relative path that climbs out of and back into it.
        let relative = try CLIProcess.run(
            ["backup", "--to", "logs/../inside"], directory: data, environment: environment)
        #expect(relative.status == 1 && relative.stderr.contains("is inside the data directory"), "\(relative.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/inside"))
        // A mistyped log directory would make a backup without a single build log.
        let typoLogs = try CLIProcess.run(
            ["backup", "--to", directory + "/backup-typo"], directory: directory,
            environment: environment.merging(["PIPEWRIGHT_LOG_DIR": directory + "/sahred-logs"]) { $1 })
        #expect(
            typoLogs.status == 1
                && typoLogs.stderr.contains("PIPEWRIGHT_LOG_DIR=\(directory)/sahred-logs does not exist"),
            "\(typoLogs.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/sahred-logs"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/backup-typo"))
        // A file where a directory belongs; a backup that is not there.
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/a-file"))
        let onFile = try CLIProcess.run(
            ["backup", "--to", directory + "/a-file"], directory: directory, environment: environment)
        #expect(onFile.status == 1 && onFile.stderr.contains("is a file"), "\(onFile.stderr)")
        let noBackup = try CLIProcess.run(
            ["restore", "--from", directory + "/no-such-backup"], directory: directory,
            environment: ["PIPEWRIGHT_DATA_DIR": directory + "/restored"])
        #expect(
            noBackup.errorLines == ["error: --from \(directory)/no-such-backup does not exist"], "\(noBackup.stderr)")
        // A disabled user gets no token (it would be refused at every request).
        let disabled = try CLIProcess.run(["user", "disable", "alice"], directory: directory, environment: environment)
        #expect(disabled.status == 0, "\(disabled.stderr)")
        let token = try CLIProcess.run(["token", "create", "alice"], directory: directory, environment: environment)
        #expect(token.status == 1 && token.stdout.isEmpty && token.stderr.contains("is disabled"), "\(token.stderr)")
        // A user with a generated password gets a token and the warning that it works after the first sign-in.
        _ = try CLIProcess.run(["user", "create", "ivan"], directory: directory, environment: environment)
        let pending = try CLIProcess.run(["token", "create", "ivan"], directory: directory, environment: environment)
        #expect(pending.status == 0 && pending.stdout.hasPrefix("pw_"), "\(pending.stderr)")
        #expect(pending.stderr.contains("must choose their own password first"), "\(pending.stderr)")
        // Root on the service user's data directory would leave root-owned files it cannot read.
        let before = CLIProcess.snapshot(data)
        chown(data, 65534, 65534)
        let asRoot = try CLIProcess.run(["keys", "verify"], directory: directory, environment: environment)
        chown(data, 0, 0)
        #expect(
            asRoot.status == 1 && asRoot.stderr.contains("belongs to nobody (uid 65534): run pipewright as that user"),
            "\(asRoot.stderr)")
        #expect(CLIProcess.snapshot(data) == before)
    }

    @Test func userCreate_withConflictingRoleFlags_isAUsageError() throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let conflicting = try CLIProcess.run(
            ["user", "create", "dave", "--role", "viewer", "--admin"], directory: directory,
            environment: ["PIPEWRIGHT_DATA_DIR": directory + "/data"])
        #expect(conflicting.status == 64, "\(conflicting.stderr)")
        #expect(conflicting.stderr.contains("--admin and --role viewer"), "\(conflicting.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/data"))
    }

    @Test func migrateRevert_listsWhatItDrops_andNeedsTheFlagAndATerminal() throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = ["PIPEWRIGHT_DATA_DIR": directory + "/data"]
        let created = try CLIProcess.run(
            ["user", "create", "alice", "--password-stdin"], directory: directory, environment: data,
            stdin: "alice-password-1\n")
        #expect(created.status == 0, "\(created.stderr)")

        let yesOnly = try CLIProcess.run(["migrate", "--revert", "--yes"], directory: directory, environment: data)
        #expect(yesOnly.status == 64, "--yes is not enough: \(yesOnly.stderr)")

        let preview = try CLIProcess.run(["migrate", "--revert"], directory: directory, environment: data)
        #expect(preview.status == 1)
        #expect(preview.stdout.contains("would revert"), "\(preview.stdout)")
        #expect(preview.stdout.contains("users: 1"), "row counts listed: \(preview.stdout)")
        #expect(preview.stdout.contains("audit_entries"), "\(preview.stdout)")
        #expect(preview.errorLines.count == 1 && preview.stderr.contains("nothing was changed"), "\(preview.stderr)")

        let noTerminal = try CLIProcess.run(
            ["migrate", "--revert", "--yes-destroy-data"], directory: directory, environment: data, stdin: "destroy\n")
        #expect(noTerminal.status == 1)
        #expect(noTerminal.errorLines.count == 1, "one line, no backtrace: \(noTerminal.stderr)")
        #expect(noTerminal.stderr.contains("needs a terminal"), "\(noTerminal.stderr)")
        let still = try CLIProcess.run(["token", "create", "alice"], directory: directory, environment: data)
        #expect(still.status == 0, "the data is untouched: \(still.stderr)")

        // At a terminal (script(1) gives the command a pseudo-terminal), a wrong word changes nothing …
        let binary = try ServeProcess.binaryPath()
        let refused = try CLIProcess.run(
            ["-qec", "\(binary) migrate --revert --yes-destroy-data", "/dev/null"], directory: directory,
            environment: data, stdin: "yes\n", program: "/usr/bin/script")
        #expect(refused.status == 1, "\(refused.stdout)")
        #expect(try tables(directory + "/data/pipewright.sqlite").contains("users"))
        // … and `destroy` drops the tables, and the build logs with the executions table (listed first): a
        // new execution 1 must not inherit the old execution 1's log.
        let oldLog = directory + "/data/logs/1"
        try FileManager.default.createDirectory(atPath: oldLog, withIntermediateDirectories: true)
        try Data("old build output\n".utf8).write(to: URL(fileURLWithPath: oldLog + "/data.log"))
        let confirmed = try CLIProcess.run(
            ["-qec", "\(binary) migrate --revert --yes-destroy-data", "/dev/null"], directory: directory,
            environment: data, stdin: "destroy\n", program: "/usr/bin/script")
        #expect(confirmed.status == 0, "\(confirmed.stdout)")
        #expect(confirmed.stdout.contains("The build logs of 1 execution(s)"), "\(confirmed.stdout)")
        #expect(confirmed.stdout.contains("Reverted"), "\(confirmed.stdout)")
        #expect(confirmed.stdout.contains("Deleted the build logs of 1 execution(s)."), "\(confirmed.stdout)")
        #expect(try !tables(directory + "/data/pipewright.sqlite").contains("users"))
        #expect(!FileManager.default.fileExists(atPath: oldLog))
    }

    @Test func listening_movesTheDefaultPublicURL_notAnExplicitOne() throws {
        let defaults = try PipewrightConfiguration.fromEnvironment(["PIPEWRIGHT_DATA_DIR": "/tmp/x"])
        #expect(defaults.listening(host: nil, port: 9191).publicURL == "http://127.0.0.1:9191")
        #expect(defaults.listening(host: "0.0.0.0", port: 9191).publicURL == "http://0.0.0.0:9191")
        let explicit = try PipewrightConfiguration.fromEnvironment([
            "PIPEWRIGHT_DATA_DIR": "/tmp/x", "PIPEWRIGHT_PUBLIC_URL": "https://pw.example.com",
        ])
        #expect(explicit.listening(host: nil, port: 9191).publicURL == "https://pw.example.com")
        #expect(explicit.listening(host: nil, port: 9191).port == 9191)
    }

    @Test func serve_bannerNamesURLDataAndAdminPassword_portFlowsIntoPublicURL_healthHasVersion() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try freeTCPPort()
        let server = try await ServedBinary.start(
            arguments: ["serve", "--port", String(port)], dataDirectory: directory + "/data", port: port)
        defer { server.stop() }
        await server.waitForOutput("delete that file")
        let banner = server.output
        #expect(banner.contains("listening on   http://127.0.0.1:\(port)"), "\(banner)")
        #expect(banner.contains("public URL     http://127.0.0.1:\(port)"), "webhook URLs use --port: \(banner)")
        #expect(banner.contains("data directory \(directory)/data"), "\(banner)")
        #expect(banner.contains("database       SQLite \(directory)/data/pipewright.sqlite"), "\(banner)")
        let password = try String(contentsOfFile: directory + "/data/initial-admin-password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(banner.contains(password) && banner.contains("POST /api/auth/password"), "\(banner)")
        let health = try runProgram("/usr/bin/curl", ["-fsS", "http://127.0.0.1:\(port)/health"])
        #expect(health.stdout.contains("\"version\":\"\(BuildInfo.version)\""), "\(health.stdout)")
        #expect(health.stdout.contains("\"commit\":\"\(BuildInfo.commit)\""), "\(health.stdout)")
    }

    /// Table names of a SQLite file (Python's sqlite3, read-only).
    private func tables(_ path: String) throws -> [String] {
        let python = ProcessInfo.processInfo.environment["PIPEWRIGHT_TEST_PYTHON"] ?? "/usr/bin/python3"
        let result = try runProgram(
            python,
            [
                "-c",
                "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); "
                    + "print('\\n'.join(r[0] for r in c.execute(\"select name from sqlite_master where type='table'\")))",
                path,
            ])
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
