import ArgumentParser
import Foundation
import Vapor

extension PipewrightCommand {
    /// `pipewright backup --to DIR [--include-master-key]`: a consistent copy while the service runs.
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up the database, the build logs and a checksummed manifest (safe while serving).",
            discussion: """
                The master key is not included: keep it apart from the backups (docs/operations.md "Master \
                key custody"). --include-master-key puts it in DIR/master.key, which makes the backup alone \
                enough to read every secret.
                """)

        @Option(help: "New or empty directory to write the backup into.")
        var to: String

        @Flag(help: "Also copy the master key (the backup then opens every secret on its own).")
        var includeMasterKey = false

        func run() async throws {
            let configuration = try ServiceBoot.loadConfiguration()
            try await ServiceBoot.withApplication(configuration, access: .shared) { app in
                if includeMasterKey {
                    printError(
                        "warning: \(to)/master.key opens every stored secret: keep this backup as safe as the key itself"
                    )
                }
                let manifest = try await BackupService.backup(app: app, to: to, includeMasterKey: includeMasterKey)
                let bytes = manifest.files.reduce(Int64(0)) { $0 + $1.sizeBytes }
                print("Backed up \(manifest.files.count) file(s), \(bytes) bytes, to \(to) (manifest.json).")
                if let id = manifest.masterKeyID { print("Its secrets open with the master key whose id is \(id).") }
                if !includeMasterKey { print("The master key is not in the backup: keep it safe separately.") }
            }
        }
    }

    /// `pipewright restore --from DIR`: into an empty data directory (and an empty PostgreSQL database).
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup into an empty data directory, then check secrets and logs.",
            discussion: """
                Checks every file against manifest.json first. Needs the master key the data was sealed with \
                (PIPEWRIGHT_MASTER_KEY[_FILE]) unless the backup includes it. Refused while a server holds \
                the data.
                """)

        @Option(help: "A directory written by 'pipewright backup'.")
        var from: String

        func run() async throws {
            let configuration = try ServiceBoot.loadConfiguration()
            let manifest = try BackupService.verify(backup: from)
            let manager = FileManager.default
            let data = configuration.dataDirectory
            try ServiceBoot.refuseRootOnAnotherUsersDirectory(data)
            try RestoreMarker.refuseIfPresent(in: data)
            // Empty, or holding nothing but the master key file put in place for this restore.
            var keyFile: String?
            if case .file(let path) = configuration.masterKey { keyFile = path }
            let present = ((try? manager.contentsOfDirectory(atPath: data)) ?? []).map { data + "/" + $0 }
            if present.contains(where: { URL(fileURLWithPath: $0).standardized.path != keyFile.map(Self.standard) }) {
                throw CommandFailure(
                    "PIPEWRIGHT_DATA_DIR=\(data) is not empty: restore only into an empty data directory (a master "
                        + "key file may be there)")
            }
            // A log directory outside the data directory (PIPEWRIGHT_LOG_DIR) must be empty too: restore never
            // mixes its logs into another installation's.
            let logs = configuration.logDirectoryOverride
            let logsPresent = logs.map { (try? manager.contentsOfDirectory(atPath: $0)) ?? [] } ?? []
            if let logs, !logsPresent.isEmpty {
                throw CommandFailure(
                    "PIPEWRIGHT_LOG_DIR=\(logs) is not empty: restore only into an empty log directory (nothing was "
                        + "changed)")
            }
            if manifest.includesMasterKey, let keyFile, manager.fileExists(atPath: keyFile),
                !BackupService.sameKey(keyFile, from + "/master.key")
            {
                throw CommandFailure(
                    "PIPEWRIGHT_MASTER_KEY_FILE=\(keyFile) holds another key than the backup's master.key: remove it "
                        + "to use the backup's, or restore with it after checking which key sealed the data (nothing "
                        + "was changed)")
            }
            if !manifest.includesMasterKey, let keyFile, !manager.fileExists(atPath: keyFile) {
                throw CommandFailure(
                    "the backup has no master key and \(keyFile) does not exist: put the key file there, or set "
                        + "PIPEWRIGHT_MASTER_KEY or PIPEWRIGHT_MASTER_KEY_FILE (nothing was changed)")
            }
            // A refused restore leaves no directory it created behind.
            let dataExisted = manager.fileExists(atPath: data)
            let logsExisted = logs.map { manager.fileExists(atPath: $0) } ?? true
            try prepareDataDirectory(data)
            let lock = try DataDirectoryLock.acquire(directory: data, purpose: "restore")
            defer { withExtendedLifetime(lock) {} }
            // Until the check passed, the directory says it holds an unfinished restore (a kill -9 leaves it).
            try RestoreMarker.write(in: data, from: from)
            var ownership: DatabaseOwnership?
            if case .postgres(let url) = configuration.database {
                ownership = try await DatabaseOwnership.acquire(
                    url: url, exclusive: true, purpose: "restore", logger: Logger(label: "pipewright.restore"))
            }
            do {
                try await restore(manifest, configuration)
                RestoreMarker.remove(in: data)
                await ownership?.release()
            } catch {
                await ownership?.release()
                // Leave the data and log directories as they were: remove what this restore wrote into them.
                for entry in (try? manager.contentsOfDirectory(atPath: data)) ?? [] {
                    let path = data + "/" + entry
                    if !present.contains(path) { try? manager.removeItem(atPath: path) }
                }
                if let logs {
                    for entry in (try? manager.contentsOfDirectory(atPath: logs)) ?? [] {
                        try? manager.removeItem(atPath: logs + "/" + entry)
                    }
                    if !logsExisted { try? manager.removeItem(atPath: logs) }
                }
                if !dataExisted { try? manager.removeItem(atPath: data) }
                throw error
            }
        }

        private static func standard(_ path: String) -> String { URL(fileURLWithPath: path).standardized.path }

        /// Copies the verified backup in place, then boots the service to check secrets and logs.
        private func restore(_ manifest: BackupManifest, _ configuration: PipewrightConfiguration) async throws {
            try await BackupService.restoreFiles(from: from, manifest: manifest, configuration: configuration)
            try await ServiceBoot.withApplication(configuration, access: .shared, installation: .restoring) { app in
                let checked = try await BackupService.check(app: app)
                print(
                    "Restored \(manifest.files.count) file(s) from \(from) (backup of \(manifest.createdAt), "
                        + "pipewright \(manifest.version)).")
                print(
                    "keys verify: \(checked.secrets) secret(s), 0 failure(s); logs of \(checked.logs) execution(s) read."
                )
            }
        }
    }
}
