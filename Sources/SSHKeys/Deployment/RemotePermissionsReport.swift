/// Modes and owners of the paths sshd's `StrictModes` checks before it reads `authorized_keys`: the home
/// directory, `~/.ssh` and the file (`sshd(8)`, "StrictModes"; OpenSSH `auth_secure_path`). Each must be
/// owned by root or the account and writable by neither group nor others.
public struct RemotePermissionsReport: Sendable, Equatable {
    /// One inspected path.
    public struct Entry: Sendable, Equatable {
        /// `home`, `ssh_dir` or `authorized_keys`.
        public var role: String
        /// The absolute path on the server (untrusted remote text, sanitized).
        public var path: String
        /// Permission bits, e.g. `0o775`.
        public var mode: UInt16
        /// Numeric owner.
        public var ownerUID: Int
        /// Owner name as `ls -ld` prints it (untrusted, sanitized).
        public var owner: String
        /// Whether this path was repaired (`chmod go-w`) by this inspection.
        public var wasFixed: Bool

        /// `0775`.
        public var octalMode: String {
            let digits = String(mode, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// The account's numeric id.
    public var uid: Int
    /// The paths that exist, home first.
    public var entries: [Entry]

    /// What sshd requires of each path.
    public static let requirement =
        "sshd (StrictModes yes) requires the home directory, ~/.ssh and ~/.ssh/authorized_keys to be owned by "
        + "root or the account and not writable by group or others"

    /// Paths sshd refuses, home first.
    public var violations: [Entry] {
        entries.filter { entry in
            (entry.ownerUID != 0 && entry.ownerUID != uid) || entry.mode & 0o022 != 0
        }
    }

    /// Paths changed by this inspection.
    public var fixed: [Entry] { entries.filter(\.wasFixed) }

    /// Parses the output of ``AuthorizedKeysScript/permissions(fix:)``.
    init?(_ output: RemoteScriptOutput) {
        guard let uid = output.values["UID"].flatMap({ Int($0) }) else { return nil }
        self.uid = uid
        let home = Self.sanitized(output.values["HOME"] ?? "~")
        let roles: [(name: String, role: String, path: String)] = [
            ("HOME", "home", home), ("SSH_DIR", "ssh_dir", home + "/.ssh"),
            ("AUTHORIZED_KEYS", "authorized_keys", home + "/.ssh/authorized_keys"),
        ]
        var entries: [Entry] = []
        for (name, role, path) in roles {
            guard let line = output.values["PERM_\(name)"] else { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let mode = Self.mode(fields[0]), let owner = Int(fields[1]) else { continue }
            let ownerName = fields.count >= 3 ? Self.sanitized(String(fields[2])) : String(owner)
            entries.append(
                Entry(
                    role: role, path: path, mode: mode, ownerUID: owner, owner: ownerName,
                    wasFixed: output.values["FIXED_\(name)"] == "1"))
        }
        self.entries = entries
    }

    /// `drwxrwxr-x` → `0o775` (setuid/setgid/sticky letters count as their execute bit; the special bits
    /// play no part in StrictModes).
    static func mode(_ text: Substring) -> UInt16? {
        let characters = Array(text)
        guard characters.count >= 10 else { return nil }
        var mode: UInt16 = 0
        for (offset, character) in characters[1...9].enumerated() {
            let granted = character != "-" && character != "S" && character != "T"
            if granted { mode |= 1 << (8 - offset) }
        }
        return mode
    }

    private static func sanitized(_ text: String) -> String {
        String(
            String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.generalCategory != .control })
                .prefix(256))
    }
}
