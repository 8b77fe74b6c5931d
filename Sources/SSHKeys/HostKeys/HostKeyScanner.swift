import PipewrightCore

/// Asks a server for its host keys with OpenSSH's `ssh-keyscan` (no authentication happens).
///
/// Used when an admin accepts a new host key by fingerprint: the key is fetched again and only a key
/// whose `SHA256:` fingerprint equals the approved one is pinned.
/// Output format: one `host keytype base64` line per key on stdout (ssh-keyscan(1)).
public struct HostKeyScanner: Sendable {
    private let processRunner: any ProcessRunner
    private let executable: String
    private let timeout: Duration

    /// - Parameters:
    ///   - processRunner: runs `ssh-keyscan`.
    ///   - executable: `ssh-keyscan` binary (name looked up on `PATH`, or a path).
    ///   - timeout: whole-scan limit.
    public init(processRunner: any ProcessRunner, executable: String = "ssh-keyscan", timeout: Duration = .seconds(10))
    {
        self.processRunner = processRunner
        self.executable = executable
        self.timeout = timeout
    }

    /// The host keys `target` presents.
    ///
    /// - Throws: `SSHKeyError.invalidTarget` before running anything for a bad target;
    ///   `SSHKeyError.timeout`; `SSHKeyError.connectionRefused` when no key could be read.
    public func scan(_ target: SSHTarget) async throws -> [HostKey] {
        let target = try target.validated()
        let seconds = max(1, Int(timeout.components.seconds))
        let result = try await processRunner.run(
            ProcessInvocation(
                executable: .init(executable),
                arguments: [
                    "-T", String(seconds), "-p", String(target.port), "--", target.connectAddress ?? target.host,
                ],
                timeout: timeout + .seconds(2), outputLimitBytes: 64 * 1024))
        if result.termination == .timedOut { throw SSHKeyError.timeout }
        let keys = result.standardOutputText.split(whereSeparator: \.isNewline).compactMap {
            HostKey(knownHostsLine: $0)
        }
        guard !keys.isEmpty else {
            if result.standardErrorText.contains("Name or service not known")
                || result.standardErrorText.contains("not known")
            {
                throw SSHKeyError.dnsFailure
            }
            throw SSHKeyError.connectionRefused
        }
        return keys
    }
}
