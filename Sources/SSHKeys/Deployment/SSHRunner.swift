/// The seam for running one command on a server over SSH.
///
/// The live implementation is ``OpenSSHRunner`` (the system OpenSSH client); tests of the
/// operations in ``SSHKeyDeployer`` inject fakes.
public protocol SSHRunner: Sendable {
    /// Logs in to `request.target`, runs `request.remoteCommand` with `request.standardInput`, and
    /// returns its exit status and output.
    ///
    /// - Parameter request: Target, credentials, host-key pins and limits.
    /// - Returns: The remote command's result, including any host keys accepted on first use.
    /// - Throws: ``SSHKeyError``: `invalidTarget` (nothing executed), `hostKeyUnknown`,
    ///   `hostKeyMismatch`, `authFailed`, `connectionRefused`, `dnsFailure`, `timeout` or
    ///   `sshFailed`; `CancellationError` when the task is cancelled.
    func run(_ request: SSHCommandRequest) async throws -> SSHCommandResult
}
