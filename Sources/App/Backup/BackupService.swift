import Fluent
import Foundation
import LogStore
import PipewrightCore
import SQLKit
import Vapor

/// `pipewright backup` and `pipewright restore` (docs/operations.md "Backup and restore").
///
/// A backup directory holds `database/` (a consistent SQLite snapshot made with `VACUUM INTO`, or a
/// `pg_dump` custom-format dump), `logs/` (the log store, copied after the database snapshot so every line
/// the database refers to is there; a line being appended at that moment is completed or dropped by the
/// log store's crash repair on open), `master.key` only with `--include-master-key`, and `manifest.json`
/// with the SHA-256 of every file.
enum BackupService {
    /// Writes a backup of the running (or stopped) service's data into `target`.
    ///
    /// - Throws: `CommandFailure` when `target` exists and is not empty, or a copy fails.
    static func backup(app: Application, to target: String, includeMasterKey: Bool) async throws -> BackupManifest {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: target, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CommandFailure("--to \(target) is a file: back up into a new or empty directory")
        }
        if manager.fileExists(atPath: target), !((try? manager.contentsOfDirectory(atPath: target)) ?? []).isEmpty {
            throw CommandFailure("--to \(target) is not empty: back up into a new or empty directory")
        }
        // Compared as real paths (symbolic links resolved, also in the part that does not exist yet's parents):
        // a backup inside the data or log directory would copy itself into every later backup.
        let configuration = app.services.configuration
        let resolvedTarget = realPath(target)
        for (kind, directory) in [("data", configuration.dataDirectory), ("log", configuration.logDirectory)] {
            let resolved = realPath(directory)
            if target.isEmpty || resolvedTarget == resolved || resolvedTarget.hasPrefix(resolved + "/") {
                throw CommandFailure(
                    "--to \(target.isEmpty ? "\"\"" : target) is inside the \(kind) directory \(resolved): back up "
                        + "somewhere else (a backup there would copy itself)")
            }
        }
        do {
            try manager.createDirectory(
                atPath: target + "/database", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: target)
        } catch {
            throw CommandFailure("--to \(target): cannot create the directory (\(fileSystemReason(error)))")
        }
        // A backup that fails part-way leaves nothing behind: the directory was new or empty.
        do {
            return try await writeBackup(app: app, to: target, includeMasterKey: includeMasterKey)
        } catch {
            for entry in (try? manager.contentsOfDirectory(atPath: target)) ?? [] {
                try? manager.removeItem(atPath: target + "/" + entry)
            }
            throw error
        }
    }

    /// Writes the database snapshot, the logs, the key (when asked) and the manifest into `target`.
    private static func writeBackup(app: Application, to target: String, includeMasterKey: Bool) async throws
        -> BackupManifest
    {
        let manager = FileManager.default
        let configuration = app.services.configuration
        let kind: String
        // The master-key check value as the snapshot holds it: it tells which key the snapshot's secrets
        // open with, even when a rotation committed while the backup ran.
        let snapshotCheck: String?
        switch configuration.database {
        case .sqlite, .sqliteInMemory:
            kind = "sqlite"
            let file = target + "/database/pipewright.sqlite"
            snapshotCheck = try await app.db.withConnection { connection in
                guard let sql = connection as? any SQLDatabase else {
                    throw CommandFailure("the database does not speak SQL")
                }
                // VACUUM INTO writes a consistent, compacted copy from one read transaction (SQLite ≥ 3.27);
                // the copy is then read through ATTACH on the same connection.
                try await sql.raw("VACUUM INTO \(bind: file)").run()
                try await sql.raw("ATTACH DATABASE \(bind: file) AS backup_snapshot").run()
                let check = try? await sql.raw(
                    "SELECT value FROM backup_snapshot.settings WHERE name = \(bind: Setting.masterKeyCheck)"
                ).first(decodingColumn: "value", as: String.self)
                try await sql.raw("DETACH DATABASE backup_snapshot").run()
                return check
            }
        case .postgres(let url):
            kind = "postgres"
            // pg_dump reads the snapshot this transaction exports (--snapshot), so the check value read here
            // is the dump's.
            snapshotCheck = try await app.db.transaction { transaction in
                guard let sql = transaction as? any SQLDatabase else {
                    throw CommandFailure("the database does not speak SQL")
                }
                try await sql.raw("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").run()
                guard
                    let snapshot = try await sql.raw("SELECT pg_export_snapshot() AS snapshot")
                        .first(decodingColumn: "snapshot", as: String.self)
                else { throw CommandFailure("PostgreSQL exported no snapshot") }
                let check = try await sql.raw(
                    "SELECT value FROM settings WHERE name = \(bind: Setting.masterKeyCheck)"
                ).first(decodingColumn: "value", as: String.self)
                try await PostgresTools.run(
                    "pg_dump",
                    [
                        "--format=custom", "--no-owner", "--snapshot", snapshot, "--file",
                        target + "/database/pipewright.pgdump",
                    ], url: url)
                return check
            }
        }
        let key = try await keyOpening(snapshotCheck, app: app)
        let logs = configuration.logDirectory
        if manager.fileExists(atPath: logs) {
            try copyTree(from: logs, to: target + "/logs")
        }
        if includeMasterKey {
            manager.createFile(
                atPath: target + "/master.key", contents: Data((key.base64Representation.value + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        }
        var files: [BackupManifest.File] = []
        for relative in BackupManifest.files(under: target) where relative != BackupManifest.fileName {
            let (hex, size) = try BackupManifest.sha256(ofFile: target + "/" + relative)
            files.append(.init(path: relative, sizeBytes: size, sha256: hex))
        }
        let manifest = BackupManifest(
            format: BackupManifest.currentFormat, createdAt: ISO8601DateFormatter().string(from: app.services.now()),
            version: BuildInfo.version, commit: BuildInfo.commit, database: kind, includesMasterKey: includeMasterKey,
            masterKeyID: key.id, files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        manager.createFile(
            atPath: target + "/" + BackupManifest.fileName, contents: try encoder.encode(manifest),
            attributes: [.posixPermissions: 0o600])
        return manifest
    }

    /// Reads `manifest.json` and checks every file's size and SHA-256.
    ///
    /// - Throws: `CommandFailure` naming the first file that is missing, changed or unlisted.
    static func verify(backup source: String) throws -> BackupManifest {
        guard FileManager.default.fileExists(atPath: source) else {
            throw CommandFailure("--from \(source) does not exist")
        }
        guard access(source, R_OK | X_OK) == 0 else {
            throw CommandFailure("--from \(source) cannot be read by uid \(getuid()) (check its owner and mode)")
        }
        guard let data = FileManager.default.contents(atPath: source + "/" + BackupManifest.fileName) else {
            throw CommandFailure("--from \(source): no \(BackupManifest.fileName) (not a pipewright backup)")
        }
        let manifest: BackupManifest
        do {
            manifest = try JSONDecoder().decode(BackupManifest.self, from: data)
        } catch {
            throw CommandFailure("--from \(source): \(BackupManifest.fileName) is not readable")
        }
        guard manifest.format == BackupManifest.currentFormat else {
            throw CommandFailure("--from \(source): unknown backup format \(manifest.format)")
        }
        for file in manifest.files {
            let path = source + "/" + file.path
            guard !file.path.contains(".."), FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure("backup damaged: \(file.path) is missing")
            }
            let (hex, size) = try BackupManifest.sha256(ofFile: path)
            guard hex == file.sha256, size == file.sizeBytes else {
                throw CommandFailure("backup damaged: \(file.path) does not match its SHA-256 in the manifest")
            }
        }
        let listed = Set(manifest.files.map(\.path) + [BackupManifest.fileName])
        if let extra = BackupManifest.files(under: source).first(where: { !listed.contains($0) }) {
            throw CommandFailure("backup damaged: \(extra) is not in the manifest")
        }
        return manifest
    }

    /// Copies a verified backup into the (empty) data directory, log directory and database of `configuration`.
    ///
    /// - Throws: `CommandFailure` when the data directory is not empty, a key file would be overwritten,
    ///   or the PostgreSQL database already has tables.
    static func restoreFiles(
        from source: String, manifest: BackupManifest, configuration: PipewrightConfiguration
    ) async throws {
        let manager = FileManager.default
        let data = configuration.dataDirectory
        switch (manifest.database, configuration.database) {
        case ("sqlite", .sqlite(let path)):
            try copyFile(source + "/database/pipewright.sqlite", to: path)
            try? manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        case ("postgres", .postgres(let url)):
            try await PostgresTools.run(
                "pg_restore", ["--no-owner", "--exit-on-error", source + "/database/pipewright.pgdump"], url: url)
        default:
            throw CommandFailure(
                "the backup holds a \(manifest.database) database but DATABASE_URL points to another kind")
        }
        // Into the log store's directory: `PIPEWRIGHT_LOG_DIR` when set (a volume shared by instances), else
        // `<data>/logs`.
        if manager.fileExists(atPath: source + "/logs") {
            try copyTree(from: source + "/logs", to: configuration.logDirectory)
        }
        if manifest.includesMasterKey, case .file(let keyPath) = configuration.masterKey {
            // The same key already in place (as docs/operations.md suggests) is fine; another one is never
            // replaced.
            if manager.fileExists(atPath: keyPath), sameKey(keyPath, source + "/master.key") { return }
            guard !manager.fileExists(atPath: keyPath) else {
                throw CommandFailure(
                    "PIPEWRIGHT_MASTER_KEY_FILE=\(keyPath) holds another key than the backup's master.key: it is not "
                        + "replaced")
            }
            try copyFile(source + "/master.key", to: keyPath)
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
        }
    }

    /// The master key the snapshot's secrets open with: this process's key, or, when a rotation committed
    /// between this process's start and the snapshot, the new key from the key file (read again for up to
    /// 10 s: the rotation renames it into place right after its commit).
    ///
    /// - Parameter check: the snapshot's sealed check value (`nil` for a database that never stored one).
    /// - Throws: `CommandFailure` when no key at hand opens it (the caller's backup is then incomplete).
    static func keyOpening(_ check: String?, app: Application) async throws -> MasterKey {
        let current = app.services.masterKey
        guard let check, !MasterKeyStore.opensCheck(check, with: current) else { return current }
        let reread = try await MasterKeyStore.load(
            app.services.configuration.masterKey, opening: check, patience: .seconds(10))
        if MasterKeyStore.opensCheck(check, with: reread.key) { return reread.key }
        throw CommandFailure(
            "the master key was rotated while the backup ran and the new key is not at hand: run the backup again")
    }

    /// `path` with every symbolic link resolved (realpath(3)), also when its last components do not exist
    /// yet: the deepest existing ancestor is resolved (`..` in it follows the links, as the kernel does),
    /// then the rest is appended with its `.` and `..` applied. A relative `path` starts at the current
    /// directory.
    static func realPath(_ path: String) -> String {
        var existing = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var rest: [String] = []
        var resolved = realpath(existing, nil)
        while resolved == nil, existing != "/", !existing.isEmpty {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
            resolved = realpath(existing, nil)
        }
        var components: [String] = []
        if let resolved {
            components = String(cString: resolved).split(separator: "/").map(String.init)
            free(resolved)
        }
        for part in rest {
            switch part {
            case "", ".": continue
            case "..": _ = components.popLast()
            default: components.append(part)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    /// Whether two key files hold the same key (their text without surrounding white space).
    static func sameKey(_ first: String, _ second: String) -> Bool {
        guard let one = try? String(contentsOfFile: first, encoding: .utf8),
            let other = try? String(contentsOfFile: second, encoding: .utf8)
        else { return false }
        return one.trimmingCharacters(in: .whitespacesAndNewlines)
            == other.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// After a restore: every sealed secret opens and every stored log answers a query.
    ///
    /// - Returns: secrets checked, executions whose logs were queried.
    static func check(app: Application) async throws -> (secrets: Int, logs: Int) {
        let report = try await SecretInventory.verify(with: app.services.masterKey, on: app.db)
        guard report.failures.isEmpty else {
            throw CommandFailure(
                "\(report.failures.count) secret(s) of the backup do not open with this master key ('pipewright keys "
                    + "verify' on the backup's data names them): nothing was restored")
        }
        let store = app.services.logStore
        var logs = 0
        for execution in try store.storedExecutions() {
            _ = try store.lines(execution: execution, query: LogQuery())
            logs += 1
        }
        return (report.checked, logs)
    }

    private static func copyTree(from source: String, to destination: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for relative in BackupManifest.files(under: source) {
            let target = destination + "/" + relative
            try manager.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try copyFile(source + "/" + relative, to: target)
        }
    }

    private static func copyFile(_ source: String, to destination: String) throws {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw CommandFailure("cannot copy \(source) to \(destination) (\(fileSystemReason(error)))")
        }
    }
}

/// Runs PostgreSQL's client tools (`pg_dump`, `pg_restore`) for backup and restore.
enum PostgresTools {
    /// Runs `tool --dbname <url without password> arguments…` through swift-subprocess and waits for it.
    ///
    /// The password never reaches the command line or the environment: it goes into a passfile (mode 0600,
    /// one `*:*:*:*:<password>` line, `:` and `\` escaped with `\`; format per
    /// https://www.postgresql.org/docs/current/libpq-pgpass.html) named by `PGPASSFILE`, in a private
    /// directory removed afterwards.
    ///
    /// - Parameters:
    ///   - tool: `pg_dump` or `pg_restore`, looked up in `PATH`.
    ///   - arguments: The tool's arguments after `--dbname`.
    ///   - url: `DATABASE_URL` (`postgres://user:password@host:port/database`).
    ///   - timeout: Wall-clock limit; 12 hours by default (a dump is as long as the database is large).
    /// - Throws: `CommandFailure` with the tool's first line of standard error when it exits non-zero, is
    ///   not installed, or runs out of time.
    static func run(_ tool: String, _ arguments: [String], url: String, timeout: Duration = .seconds(12 * 3600))
        async throws
    {
        guard var components = URLComponents(string: url) else { throw CommandFailure("DATABASE_URL is not a URL") }
        let password = components.password
        components.password = nil
        var environment: [String: String] = [:]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipewright-pg-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        if let password {
            guard !password.contains(where: \.isNewline) else {
                throw CommandFailure("the DATABASE_URL password has a line break, which \(tool) cannot be given")
            }
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let passfile = directory + "/pgpass"
            guard
                FileManager.default.createFile(
                    atPath: passfile, contents: Data(passfileLine(password: password).utf8),
                    attributes: [.posixPermissions: 0o600])
            else { throw CommandFailure("cannot write a password file for \(tool) in \(directory)") }
            environment["PGPASSFILE"] = passfile
        }
        let invocation = ProcessInvocation(
            executable: .name(tool), arguments: ["--dbname", components.string ?? url] + arguments,
            environmentAdditions: environment, timeout: timeout)
        let result: ProcessResult
        do {
            result = try await SubprocessRunner().run(invocation)
        } catch let error as ProcessError {
            if case .launchFailed = error {
                throw CommandFailure("\(tool) could not be started (install the PostgreSQL client tools)")
            }
            throw CommandFailure("\(tool) failed: \(error.message)")
        }
        switch result.termination {
        case .exited(0): return
        case .timedOut: throw CommandFailure("\(tool) failed: still running after \(timeout), stopped")
        default:
            let first =
                result.standardErrorText.split(separator: "\n").first.map(String.init) ?? "\(result.termination)"
            throw CommandFailure("\(tool) failed: \(first)")
        }
    }

    /// The passfile line matching any host, port, database and user with `password`: `*:*:*:*:<password>`
    /// and a newline, where `\` and `:` in the password are escaped with `\` (libpq-pgpass format).
    static func passfileLine(password: String) -> String {
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        return "*:*:*:*:\(escaped)\n"
    }
}

/// A file-system error in a few words (`NSError` descriptions carry a whole dictionary).
func fileSystemReason(_ error: any Error) -> String {
    let error = error as NSError
    if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
        let code = POSIXErrorCode(rawValue: Int32(underlying.code))
    {
        return String(cString: strerror(code.rawValue))
    }
    switch error.code {
    case NSFileWriteNoPermissionError: return "permission denied"
    case NSFileWriteOutOfSpaceError: return "no space left"
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or directory"
    default: return "file system error \(error.code)"
    }
}
