/// The result of logging in to a server with a key and running a fixed command.
public struct ConnectionTestResult: Sendable, Equatable {
    /// The remote account as reported by `id -un` (untrusted, at most 64 characters).
    public var remoteUser: String
    /// Wall-clock time of the whole SSH session (connect, authenticate, run, close).
    public var latency: Duration
    /// Whether `~/.ssh/authorized_keys` holds the key's blob: `nil` when no blob was given or the
    /// file could not be read. `false` after a successful login means the server authorised the
    /// key some other way (e.g. `AuthorizedKeysCommand`).
    public var keyPresent: Bool?
    /// Host keys accepted on first use (``HostKeyPolicy/tofu`` with nothing pinned); pin them.
    public var acceptedHostKeys: [HostKey]

    /// Creates a result.
    ///
    /// - Parameters:
    ///   - remoteUser: The remote account name.
    ///   - latency: Session duration.
    ///   - keyPresent: Whether the key's line is in `authorized_keys`, if known.
    ///   - acceptedHostKeys: Host keys accepted on first use.
    public init(remoteUser: String, latency: Duration, keyPresent: Bool?, acceptedHostKeys: [HostKey]) {
        self.remoteUser = remoteUser
        self.latency = latency
        self.keyPresent = keyPresent
        self.acceptedHostKeys = acceptedHostKeys
    }
}
