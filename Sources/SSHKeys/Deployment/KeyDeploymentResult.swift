/// The result of adding a public key to a server's `~/.ssh/authorized_keys`.
public struct KeyDeploymentResult: Sendable, Equatable {
    /// What happened to the file.
    public enum Outcome: String, Sendable, Equatable {
        /// The key line was appended.
        case added
        /// A non-comment line already held the key's blob; the file was not changed.
        case alreadyPresent = "already_present"
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
