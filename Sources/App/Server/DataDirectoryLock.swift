import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The one owner of a SQLite data directory (docs/operations.md "One owner of a data directory").
///
/// `flock(2)` on the data directory itself, held for the life of the process (the kernel releases it when
/// the process dies, so a crash leaves no stale lock, and no file is written for it). A refused command
/// names the holder's pid, found in `/proc/locks`. `serve` and the offline commands that rewrite data
/// (`master-key rotate`, `migrate --revert`, `restore`) take it exclusively and never wait: the second
/// one is refused at once.
final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// Takes the lock or fails at once.
    ///
    /// - Parameters:
    ///   - directory: the data directory (must exist).
    ///   - purpose: what the caller is (`serve`, `master-key rotate`, …), for the refusal message.
    /// - Throws: `CommandFailure` naming the holder's pid when another process holds the lock;
    ///   `ConfigurationError` (`PIPEWRIGHT_DATA_DIR=…`) when the directory cannot be opened.
    static func acquire(directory: String, purpose: String) throws -> DataDirectoryLock {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ConfigurationError.unusable(
                variable: "PIPEWRIGHT_DATA_DIR", value: directory,
                reason: "cannot be opened (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = holderPID(directory)
            close(descriptor)
            let who = holder.map { "pipewright process \($0)" } ?? "another pipewright process"
            throw CommandFailure(
                "\(purpose) refused: \(who) holds PIPEWRIGHT_DATA_DIR=\(directory); "
                    + (purpose == "serve"
                        ? "one server per data directory"
                        : "stop the server first (online alternatives: docs/operations.md)"))
        }
        return DataDirectoryLock(descriptor: descriptor)
    }

    /// The pid holding a `flock` on the same inode, from `/proc/locks` (`1: FLOCK  ADVISORY  WRITE 4242
    /// 08:01:1234 0 EOF`); `nil` off Linux or when not found.
    private static func holderPID(_ directory: String) -> Int32? {
        guard let number = try? FileManager.default.attributesOfItem(atPath: directory)[.systemFileNumber] as? NSNumber,
            let text = readProcFile("/proc/locks")
        else { return nil }
        let inode = ":\(number.uint64Value)"
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5].hasSuffix(inode) else { continue }
            if let pid = Int32(fields[4]), pid != getpid() { return pid }
        }
        return nil
    }
}
