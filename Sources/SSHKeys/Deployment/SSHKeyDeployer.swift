import PipewrightCore

/// Adds, removes and tests public keys on servers, through an ``SSHRunner``.
///
/// Every operation opens one SSH session to the fixed remote command `sh -s` and sends a fixed
/// ``AuthorizedKeysScript`` on standard input; only a validated key blob and the octal-escaped key
/// line are interpolated into it. Targets are validated before anything runs.
///
/// Errors thrown by every operation (all ``SSHKeyError``):
/// - `invalidTarget`, `invalidPublicKey` — bad input, nothing executed;
/// - `hostKeyUnknown`, `hostKeyMismatch`, `authFailed`, `connectionRefused`, `dnsFailure`,
///   `timeout`, `sshFailed` — from the transport;
/// - `permissionDeniedRemote` — the account cannot write `~/.ssh` or `authorized_keys`;
/// - `remoteScriptFailed` — the script failed otherwise or printed no status.
public struct SSHKeyDeployer: Sendable {
    private let runner: any SSHRunner
    private let connectTimeout: Duration
    private let commandTimeout: Duration

    /// Creates a deployer.
    ///
    /// - Parameters:
    ///   - runner: The SSH transport, usually ``OpenSSHRunner``.
    ///   - connectTimeout: TCP connect and handshake limit per session; 10 seconds by default.
    ///   - commandTimeout: Whole-session limit, connect included; 60 seconds by default.
    public init(runner: any SSHRunner, connectTimeout: Duration = .seconds(10), commandTimeout: Duration = .seconds(60))
    {
        self.runner = runner
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Adds `publicKeyLine` to `~/.ssh/authorized_keys` of `target` unless the key is already there.
    ///
    /// Idempotent: a non-comment line holding the same blob (with any options or comment) counts as
    /// present. Creates `~/.ssh` (0700) and the file (0600) when missing; other lines are untouched.
    ///
    /// - Parameters:
    ///   - publicKeyLine: `<algorithm> <base64 blob> [comment]`, written verbatim (trimmed).
    ///   - target: The server and account.
    ///   - authentication: A one-time password or a key already authorised there.
    ///   - pinnedHostKeys: Approved host keys for the target; empty if none yet.
    ///   - policy: What to do when nothing is pinned.
    /// - Returns: `.added` or `.alreadyPresent`, host keys accepted on first use, the remote user.
    /// - Throws: ``SSHKeyError`` (see the type's discussion).
    public func deploy(
        publicKeyLine: String,
        to target: SSHTarget,
        authentication: SSHAuthentication,
        pinnedHostKeys: [HostKey] = [],
        policy: HostKeyPolicy = .tofu
    ) async throws -> KeyDeploymentResult {
        let key = try DeployablePublicKey(publicKeyLine)
        let script = AuthorizedKeysScript.add(keyLine: key.line, blobBase64: key.blobBase64)
        let (result, output) = try await runEdit(script, target, authentication, pinnedHostKeys, policy)
        let outcome: KeyDeploymentResult.Outcome
        switch (result.exitStatus, output.status) {
        case (0, "added"): outcome = .added
        case (0, "already_present"): outcome = .alreadyPresent
        default: throw Self.editFailure(output, result)
        }
        return KeyDeploymentResult(
            outcome: outcome, acceptedHostKeys: result.acceptedHostKeys, remoteUser: output.remoteUser)
    }

    /// Removes every non-comment line holding `publicKeyBlobBase64` from `~/.ssh/authorized_keys`.
    ///
    /// The file is replaced atomically (temporary file in `~/.ssh`, mode 0600, `mv`); comments,
    /// blank lines, options and other keys stay byte-identical and in order.
    ///
    /// - Parameters:
    ///   - publicKeyBlobBase64: The key's blob (second field of its public-key line).
    ///   - target: The server and account.
    ///   - authentication: A one-time password or a key authorised there (may be the key being
    ///     removed: the session is already open when the line disappears).
    ///   - pinnedHostKeys: Approved host keys for the target; empty if none yet.
    ///   - policy: What to do when nothing is pinned.
    /// - Returns: `.removed` or `.absent`, host keys accepted on first use, the remote user.
    /// - Throws: ``SSHKeyError`` (see the type's discussion).
    public func remove(
        publicKeyBlobBase64: String,
        from target: SSHTarget,
        authentication: SSHAuthentication,
        pinnedHostKeys: [HostKey] = [],
        policy: HostKeyPolicy = .tofu
    ) async throws -> KeyRemovalResult {
        let blob = try DeployablePublicKey.validatedBlob(publicKeyBlobBase64)
        let script = AuthorizedKeysScript.remove(blobBase64: blob)
        let (result, output) = try await runEdit(script, target, authentication, pinnedHostKeys, policy)
        let outcome: KeyRemovalResult.Outcome
        switch (result.exitStatus, output.status) {
        case (0, "removed"): outcome = .removed
        case (0, "absent"): outcome = .absent
        default: throw Self.editFailure(output, result)
        }
        return KeyRemovalResult(
            outcome: outcome, acceptedHostKeys: result.acceptedHostKeys, remoteUser: output.remoteUser)
    }

    /// Logs in with `privateKey` and runs a fixed command (`id -un`, plus a look for the key's blob
    /// in `authorized_keys` when `publicKeyBlobBase64` is given).
    ///
    /// A thrown ``SSHKeyError/authFailed`` means the server no longer accepts the key; the caller
    /// can mark the deployment `missing`.
    ///
    /// - Parameters:
    ///   - target: The server and account.
    ///   - privateKey: Unencrypted private key text. See ``SSHAuthentication/privateKey(_:)``.
    ///   - pinnedHostKeys: Approved host keys for the target; empty if none yet.
    ///   - policy: What to do when nothing is pinned.
    ///   - publicKeyBlobBase64: The key's blob, to report ``ConnectionTestResult/keyPresent``.
    /// - Returns: The remote user, the session latency and whether the key's line is present.
    /// - Throws: ``SSHKeyError`` (see the type's discussion).
    public func test(
        target: SSHTarget,
        privateKey: Secret<String>,
        pinnedHostKeys: [HostKey] = [],
        policy: HostKeyPolicy = .tofu,
        publicKeyBlobBase64: String? = nil
    ) async throws -> ConnectionTestResult {
        var blob: String?
        if let publicKeyBlobBase64 { blob = try DeployablePublicKey.validatedBlob(publicKeyBlobBase64) }
        let script = AuthorizedKeysScript.check(blobBase64: blob)
        let (result, output) = try await runScript(script, target, .privateKey(privateKey), pinnedHostKeys, policy)
        guard result.exitStatus == 0, output.values["USER"] != nil else { throw output.failure(of: result) }
        return ConnectionTestResult(
            remoteUser: output.remoteUser,
            latency: result.duration,
            keyPresent: output.keyPresent,
            acceptedHostKeys: result.acceptedHostKeys
        )
    }

    /// Reads (and with `fix`, repairs) the modes and owners of the home directory, `~/.ssh` and
    /// `authorized_keys` over a session that works (see ``AuthorizedKeysScript/permissions(fix:)``).
    ///
    /// - Parameters:
    ///   - target: The server and account.
    ///   - authentication: Credentials that log in (the deploy's password or another key).
    ///   - pinnedHostKeys: Approved host keys for the target.
    ///   - policy: What to do when nothing is pinned.
    ///   - fix: Remove group/other write bits from those of the paths the account owns.
    /// - Returns: The paths' state (after any repair).
    /// - Throws: ``SSHKeyError`` (see the type's discussion).
    public func inspectPermissions(
        of target: SSHTarget,
        authentication: SSHAuthentication,
        pinnedHostKeys: [HostKey] = [],
        policy: HostKeyPolicy = .tofu,
        fix: Bool
    ) async throws -> RemotePermissionsReport {
        let script = AuthorizedKeysScript.permissions(fix: fix)
        let (result, output) = try await runScript(script, target, authentication, pinnedHostKeys, policy)
        guard result.exitStatus == 0, let report = RemotePermissionsReport(output) else {
            throw output.failure(of: result)
        }
        return report
    }

    /// Runs an editing script; a session cut off after the script may have started becomes
    /// ``SSHKeyError/outcomeUnknown(cause:)`` (timeout, killed `ssh`, an OpenSSH failure not known to
    /// happen before the login).
    private func runEdit(
        _ script: String,
        _ target: SSHTarget,
        _ authentication: SSHAuthentication,
        _ pinnedHostKeys: [HostKey],
        _ policy: HostKeyPolicy
    ) async throws -> (SSHCommandResult, RemoteScriptOutput) {
        do {
            return try await runScript(script, target, authentication, pinnedHostKeys, policy)
        } catch let error as SSHKeyError {
            switch error {
            case .timeout, .sshFailed: throw SSHKeyError.outcomeUnknown(cause: error.code)
            default: throw error
            }
        }
    }

    /// An editing script that ended without a status: a known refusal (`PIPEWRIGHT_ERROR`) or a clean
    /// exit without status is a failure; a shell that died (signal, non-zero exit without a token) may
    /// have changed the file first.
    private static func editFailure(_ output: RemoteScriptOutput, _ result: SSHCommandResult) -> SSHKeyError {
        let failure = output.failure(of: result)
        if case .remoteScriptFailed(let exit, _) = failure, exit > 128 {
            return .outcomeUnknown(cause: failure.code)
        }
        return failure
    }

    private func runScript(
        _ script: String,
        _ target: SSHTarget,
        _ authentication: SSHAuthentication,
        _ pinnedHostKeys: [HostKey],
        _ policy: HostKeyPolicy
    ) async throws -> (SSHCommandResult, RemoteScriptOutput) {
        let request = SSHCommandRequest(
            target: try target.validated(),
            authentication: authentication,
            pinnedHostKeys: pinnedHostKeys,
            hostKeyPolicy: policy,
            remoteCommand: "sh -s",
            standardInput: Array(script.utf8),
            connectTimeout: connectTimeout,
            timeout: commandTimeout
        )
        let result = try await runner.run(request)
        return (result, RemoteScriptOutput(standardOutput: result.standardOutput))
    }
}
