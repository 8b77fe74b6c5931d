import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where the OpenSSH runner puts its per-session 0700 directories (the private key or password file, the
/// askpass script, `known_hosts`): `<data dir>/ssh/<pid>/`, never `/tmp`.
///
/// A process killed with SIGKILL cannot delete them, so every start (`serve` and the one-shot commands
/// alike) sweeps `<data dir>/ssh` before anything else runs: the directories of processes that no longer
/// exist go, with every secret in them. A live process's directory is left alone, so `pipewright token
/// create` next to a running server does not pull files from under its SSH sessions.
enum SSHScratchDirectory {
    /// Creates `<dataDirectory>/ssh` (0700), removes what dead processes left there, and returns this
    /// process's own empty 0700 directory.
    ///
    /// - Throws: `ConfigurationError` when the directories cannot be created.
    static func prepare(dataDirectory: String) throws -> String {
        let manager = FileManager.default
        let root = dataDirectory + "/ssh"
        do {
            if !manager.fileExists(atPath: root) {
                try manager.createDirectory(
                    atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: root)
            let own = getpid()
            for entry in try manager.contentsOfDirectory(atPath: root) {
                if let pid = Int32(entry), pid != own, isAlive(pid) { continue }
                try? manager.removeItem(atPath: "\(root)/\(entry)")
            }
            let mine = "\(root)/\(own)"
            try manager.createDirectory(
                atPath: mine, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: mine)
            return mine
        } catch {
            throw ConfigurationError.invalid(
                variable: "PIPEWRIGHT_DATA_DIR", reason: "cannot prepare \(root) for SSH sessions")
        }
    }

    /// Whether process `pid` exists (`kill(pid, 0)`; EPERM means it exists under another user).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
