import Foundation

/// `<data directory>/RESTORE-INCOMPLETE`: written by `pipewright restore` before it copies anything and
/// removed once the restored data passed its check (docs/operations.md "Backup and restore").
///
/// A restore that is killed half-way leaves it behind. While it is there, `serve` and every other command
/// refuse the directory (`ServiceBoot`): a half-copied database or log store must never be served, and a
/// log store opened in that state would repair (truncate) the logs it finds incomplete.
enum RestoreMarker {
    /// The file's name in the data directory.
    static let fileName = "RESTORE-INCOMPLETE"

    /// `<data>/RESTORE-INCOMPLETE`.
    static func path(in data: String) -> String { data + "/" + fileName }

    /// Writes the marker, naming the backup being restored (one line of text, mode 0600).
    ///
    /// - Throws: `CommandFailure` when it cannot be written (nothing has been copied then).
    static func write(in data: String, from backup: String) throws {
        let text = "pipewright restore --from \(backup) started \(Date()) and has not finished\n"
        guard
            FileManager.default.createFile(
                atPath: path(in: data), contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CommandFailure("cannot write \(path(in: data)) (nothing was restored)") }
    }

    /// Removes the marker (the restore finished, or failed and removed what it wrote).
    static func remove(in data: String) {
        try? FileManager.default.removeItem(atPath: path(in: data))
    }

    /// - Throws: `CommandFailure` naming the unfinished restore when the marker is in `data`.
    static func refuseIfPresent(in data: String) throws {
        guard FileManager.default.fileExists(atPath: path(in: data)) else { return }
        let started =
            (try? String(contentsOfFile: path(in: data), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "a restore"
        throw CommandFailure(
            "\(data) holds an unfinished restore (\(fileName): \(started)): its data is incomplete and is not used. "
                + "Empty the directory (on PostgreSQL drop and create the database too) and run 'pipewright "
                + "restore' again")
    }
}
