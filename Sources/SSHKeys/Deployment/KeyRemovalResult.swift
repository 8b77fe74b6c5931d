/// The result of removing a public key from a server's `~/.ssh/authorized_keys`.
public struct KeyRemovalResult: Sendable, Equatable {
    /// What happened to the file.
    public enum Outcome: String, Sendable, Equatable {
        /// Every non-comment line holding the key's blob was removed.
        case removed
        /// No such line (or no file); nothing was changed.
        case absent
    }

    /// What happened to the file.
    public var outcome: Outcome
    /// Host keys accepted on first use (``HostKeyPolicy/tofu`` with nothing pinned); pin them.
    public var acceptedHostKeys: [HostKey]
    /// The remote account as reported by `id -un` (untrusted, at most 64 characters).
    public var remoteUser: String

    /// Creates a result.
    ///
    /// - Parameters:
    ///   - outcome: What happened to the file.
    ///   - acceptedHostKeys: Host keys accepted on first use.
    ///   - remoteUser: The remote account name.
    public init(outcome: Outcome, acceptedHostKeys: [HostKey], remoteUser: String) {
        self.outcome = outcome
        self.acceptedHostKeys = acceptedHostKeys
        self.remoteUser = remoteUser
    }
}
