/// One SSH session: log in to a target, run a fixed remote command with bytes on its standard
/// input, and collect what it prints.
public struct SSHCommandRequest: Sendable {
    /// Where to log in; validated by the runner before anything is executed.
    public var target: SSHTarget
    /// Password or private key.
    public var authentication: SSHAuthentication
    /// Host keys approved for this target; empty when none is pinned yet.
    public var pinnedHostKeys: [HostKey]
    /// What to do when ``pinnedHostKeys`` is empty.
    public var hostKeyPolicy: HostKeyPolicy
    /// The command line handed to the remote user's login shell (OpenSSH joins it into one string).
    /// Must be a fixed string chosen by the code (e.g. `sh -s`), never built from user input; data
    /// goes in ``standardInput``.
    public var remoteCommand: String
    /// Bytes sent to the remote command's standard input (e.g. a POSIX `sh` script).
    public var standardInput: [UInt8]
    /// Limit for establishing the TCP connection and the SSH handshake (OpenSSH `ConnectTimeout`,
    /// whole seconds, rounded up).
    public var connectTimeout: Duration
    /// Wall-clock limit for the whole session, including connect and the remote command.
    public var timeout: Duration

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - target: Where to log in.
    ///   - authentication: Password or private key.
    ///   - pinnedHostKeys: Approved host keys; empty when none is pinned.
    ///   - hostKeyPolicy: Policy when nothing is pinned; `.tofu` by default.
    ///   - remoteCommand: Fixed remote command; `sh -s` by default.
    ///   - standardInput: Bytes for the remote command's standard input.
    ///   - connectTimeout: Connect limit; 10 seconds by default.
    ///   - timeout: Whole-session limit; 60 seconds by default.
    public init(
        target: SSHTarget,
        authentication: SSHAuthentication,
        pinnedHostKeys: [HostKey] = [],
        hostKeyPolicy: HostKeyPolicy = .tofu,
        remoteCommand: String = "sh -s",
        standardInput: [UInt8] = [],
        connectTimeout: Duration = .seconds(10),
        timeout: Duration = .seconds(60)
    ) {
        self.target = target
        self.authentication = authentication
        self.pinnedHostKeys = pinnedHostKeys
        self.hostKeyPolicy = hostKeyPolicy
        self.remoteCommand = remoteCommand
        self.standardInput = standardInput
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}
