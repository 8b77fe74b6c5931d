/// What a completed SSH session returned: the remote command's exit status and output, and the
/// host keys accepted on first use.
///
/// Transport failures (authentication, host key, network, timeout) are thrown as ``SSHKeyError``
/// instead; a result always means the remote command ran.
public struct SSHCommandResult: Sendable, Equatable {
    /// The remote command's exit status (0…254; OpenSSH reserves 255 for its own errors).
    public var exitStatus: Int32
    /// The remote command's standard output, UTF-8 decoded. Untrusted remote text.
    public var standardOutput: String
    /// The remote command's standard error, UTF-8 decoded. Untrusted remote text; do not show it
    /// to users unfiltered.
    public var standardError: String
    /// Host keys the server presented that were accepted under ``HostKeyPolicy/tofu`` because
    /// nothing was pinned; empty when keys were pinned. The caller pins these.
    public var acceptedHostKeys: [HostKey]
    /// Wall-clock time of the whole session, connect included.
    public var duration: Duration

    /// Creates a result (used by runners and test fakes).
    ///
    /// - Parameters:
    ///   - exitStatus: The remote command's exit status.
    ///   - standardOutput: Its standard output.
    ///   - standardError: Its standard error.
    ///   - acceptedHostKeys: Host keys accepted on first use.
    ///   - duration: Wall-clock time of the session.
    public init(
        exitStatus: Int32,
        standardOutput: String,
        standardError: String = "",
        acceptedHostKeys: [HostKey] = [],
        duration: Duration = .zero
    ) {
        self.exitStatus = exitStatus
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.acceptedHostKeys = acceptedHostKeys
        self.duration = duration
    }
}
