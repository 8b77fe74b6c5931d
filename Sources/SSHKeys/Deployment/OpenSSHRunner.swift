import Logging
import PipewrightCore

/// The live ``SSHRunner``: runs the system OpenSSH client (`ssh`) through a ``ProcessRunner``.
///
/// Each call:
/// 1. validates the target (``SSHTarget/validated()``) — nothing runs for an invalid one;
/// 2. refuses with ``SSHKeyError/hostKeyUnknown(presented:)`` when nothing is pinned and the policy
///    is ``HostKeyPolicy/strict``, before connecting;
/// 3. creates a fresh 0700 temporary directory holding a `known_hosts` file generated from the pins,
///    and either the private key (0600) or the password (0600) plus a 0700 askpass script that
///    `cat`s it (the `PIPEWRIGHT_ASKPASS_FILE` environment variable holds only the file's path);
/// 4. runs `ssh` with an argument array, never through a local shell, ignoring every system and
///    user configuration (`-F /dev/null`, `GlobalKnownHostsFile=/dev/null`, `IdentityAgent=none`);
/// 5. removes the directory, also on error and cancellation.
///
/// The argument vector for a password login looks like this (see `ssh_config(5)`):
/// ```
/// ssh -F /dev/null -T -o LogLevel=ERROR -o BatchMode=no -o ConnectTimeout=10 -o ConnectionAttempts=1
///     -o UserKnownHostsFile=<dir>/known_hosts -o GlobalKnownHostsFile=/dev/null -o HashKnownHosts=no
///     -o StrictHostKeyChecking=yes|accept-new -o CheckHostIP=no -o UpdateHostKeys=no
///     -o ControlMaster=no -o ControlPath=none -o ForwardAgent=no -o ForwardX11=no
///     -o ClearAllForwardings=yes -o PermitLocalCommand=no -o IdentityAgent=none
///     -o PreferredAuthentications=password,keyboard-interactive -o PubkeyAuthentication=no
///     -o PasswordAuthentication=yes -o KbdInteractiveAuthentication=yes -o NumberOfPasswordPrompts=1
///     -p 22 -- user@host 'sh -s'
/// ```
/// and for a key login `-o BatchMode=yes -o PreferredAuthentications=publickey -o IdentitiesOnly=yes
/// -o IdentityAgent=none -i <dir>/id -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no`.
///
/// When the target carries a checked ``SSHTarget/connectAddress`` (see ``SSHTargetAllowlist``), the
/// destination is `user@<address>` and `-o HostKeyAlias=<host or [host]:port>` makes OpenSSH look host
/// keys up, and record new ones, under the original name, exactly as the pins are written.
///
/// `LogLevel=ERROR` keeps the host-key-mismatch banner (which names the presented fingerprint) and
/// `Permission denied (…)` while dropping informational chatter; `QUIET` would drop the banner.
/// Standard error is redacted (temporary paths, the password) and logged at `debug` only.
///
/// - Important: Passwords and private keys exist in plaintext only in the 0600 files of the
///   temporary directory during the run; they never reach arguments, environment values, logs or
///   error messages.
public struct OpenSSHRunner: SSHRunner {
    private let processRunner: any ProcessRunner
    private let sshExecutable: ProcessInvocation.Executable
    private let temporaryDirectoryParent: String
    private let logger: Logger
    private let clock: any Clock<Duration>

    /// Creates a runner.
    ///
    /// - Parameters:
    ///   - processRunner: Runs `ssh`; ``SubprocessRunner`` by default.
    ///   - sshExecutable: `ssh` client name (looked up in `PATH`) or path (`PIPEWRIGHT_SSH`);
    ///     `ssh` by default.
    ///   - temporaryDirectoryParent: Where per-call directories are created; `/tmp` by default.
    ///   - logger: Receives one `debug` record per run (target, exit status, duration, redacted
    ///     standard error).
    ///   - clock: Measures session duration; `ContinuousClock()` by default.
    public init(
        processRunner: any ProcessRunner = SubprocessRunner(),
        sshExecutable: String = "ssh",
        temporaryDirectoryParent: String = "/tmp",
        logger: Logger = Logger(label: "pipewright.ssh"),
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.processRunner = processRunner
        self.sshExecutable = ProcessInvocation.Executable(sshExecutable)
        self.temporaryDirectoryParent = temporaryDirectoryParent
        self.logger = logger
        self.clock = clock
    }

    /// Runs one SSH session; see ``SSHRunner/run(_:)``.
    ///
    /// - Parameter request: Target, credentials, pins and limits.
    /// - Returns: The remote command's exit status and output, and under ``HostKeyPolicy/tofu``
    ///   with no pins the host keys that were accepted.
    /// - Throws: ``SSHKeyError`` (see ``SSHRunner/run(_:)``), ``ProcessError`` when `ssh` cannot be
    ///   started, `CancellationError`.
    public func run(_ request: SSHCommandRequest) async throws -> SSHCommandResult {
        let target = try request.target.validated()
        if request.pinnedHostKeys.isEmpty && request.hostKeyPolicy == .strict {
            throw SSHKeyError.hostKeyUnknown(presented: nil)
        }
        let directory = try PrivateTemporaryDirectory(in: temporaryDirectoryParent)
        defer {
            do { try directory.remove() } catch {
                logger.error("cannot remove SSH temporary directory", metadata: ["path": "\(directory.path)"])
            }
        }
        let invocation = try prepareInvocation(request, target: target, directory: directory)
        let processRunner = self.processRunner
        let (result, duration) = try await Self.timed(on: clock) { try await processRunner.run(invocation) }

        let pinnedFingerprints = request.pinnedHostKeys.map(\.fingerprintSHA256)
        let standardError = redact(result.standardErrorText, directory: directory, request: request)
        logger.debug(
            "ssh finished",
            metadata: [
                "target": "\(target)", "termination": "\(result.termination)",
                "duration": "\(duration)", "stderr": "\(standardError)",
            ])
        switch result.termination {
        case .timedOut:
            throw SSHKeyError.timeout
        case .signaled(let signal):
            throw SSHKeyError.sshFailed(exit: -1, summary: "ssh was ended by signal \(signal)")
        case .exited(255):
            let error = SSHFailureClassifier.classify(
                exitStatus: 255, standardError: standardError, pinnedFingerprints: pinnedFingerprints)
            if error == .authFailed, try await acceptsOnlyLegacyRSASHA1(request, target: target) {
                throw SSHKeyError.unsupportedSignatureAlgorithm
            }
            throw error
        case .exited(let status):
            var accepted: [HostKey] = []
            if request.pinnedHostKeys.isEmpty {
                accepted = HostKey.parseKnownHosts(directory.readFile(Self.knownHostsFileName) ?? "")
            }
            return SSHCommandResult(
                exitStatus: status,
                standardOutput: result.standardOutputText,
                standardError: standardError,
                acceptedHostKeys: accepted,
                duration: duration
            )
        }
    }

    /// After a refused key login without the `legacy_rsa_sha1` opt-in: whether the same key logs in when it
    /// signs with `ssh-rsa` (SHA-1). One extra session running `exit 0` (nothing else runs, nothing changes);
    /// only for key logins, never for passwords (a probe must not cost a password attempt).
    private func acceptsOnlyLegacyRSASHA1(_ request: SSHCommandRequest, target: SSHTarget) async throws -> Bool {
        guard case .privateKey(let key) = request.authentication, !target.allowsLegacyRSASHA1,
            Self.mayBeRSA(key.value)
        else { return false }
        var probe = request
        probe.target.allowsLegacyRSASHA1 = true
        probe.remoteCommand = "exit 0"
        probe.standardInput = []
        do {
            let result = try await run(probe)
            return result.exitStatus == 0
        } catch is SSHKeyError {
            return false
        }
    }

    // MARK: - Invocation

    static let knownHostsFileName = "known_hosts"
    static let privateKeyFileName = "id"
    static let passwordFileName = "password"
    static let askpassFileName = "askpass"
    /// Environment variable naming the password file for the askpass script.
    static let askpassFileVariable = "PIPEWRIGHT_ASKPASS_FILE"

    /// Writes the per-call files and builds the `ssh` invocation (internal for tests).
    func prepareInvocation(
        _ request: SSHCommandRequest, target: SSHTarget, directory: PrivateTemporaryDirectory
    ) throws(SSHKeyError) -> ProcessInvocation {
        let knownHosts = request.pinnedHostKeys
            .map { $0.knownHostsLine(host: target.host, port: target.port) + "\n" }
            .joined()
        let knownHostsPath = try directory.writeFile(
            Self.knownHostsFileName, contents: Array(knownHosts.utf8), mode: 0o600)

        var arguments = [
            "-F", "/dev/null",
            "-T",
            "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=\(max(1, request.connectTimeout.wholeSecondsRoundedUp))",
            "-o", "ConnectionAttempts=1",
            "-o", "UserKnownHostsFile=\(knownHostsPath)",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "HashKnownHosts=no",
            "-o", "StrictHostKeyChecking=\(request.pinnedHostKeys.isEmpty ? "accept-new" : "yes")",
            "-o", "CheckHostIP=no",
            "-o", "UpdateHostKeys=no",
            "-o", "ControlMaster=no",
            "-o", "ControlPath=none",
            "-o", "ForwardAgent=no",
            "-o", "ForwardX11=no",
            "-o", "ClearAllForwardings=yes",
            "-o", "PermitLocalCommand=no",
            "-o", "IdentityAgent=none",
        ]
        var environment: [String: String] = [:]
        switch request.authentication {
        case .password(let password):
            let passwordPath = try directory.writeFile(
                Self.passwordFileName, contents: Array(password.value.utf8), mode: 0o600)
            let script = "#!/bin/sh\nexec cat -- \"$\(Self.askpassFileVariable)\"\n"
            let askpassPath = try directory.writeFile(Self.askpassFileName, contents: Array(script.utf8), mode: 0o700)
            arguments += [
                "-o", "BatchMode=no",
                "-o", "PreferredAuthentications=password,keyboard-interactive",
                "-o", "PubkeyAuthentication=no",
                "-o", "PasswordAuthentication=yes",
                "-o", "KbdInteractiveAuthentication=yes",
                "-o", "NumberOfPasswordPrompts=1",
            ]
            environment = [
                "SSH_ASKPASS": askpassPath,
                "SSH_ASKPASS_REQUIRE": "force",
                Self.askpassFileVariable: passwordPath,
            ]
        case .privateKey(let privateKey):
            var text = privateKey.value.replacing("\r\n", with: "\n")
            if !text.hasSuffix("\n") { text += "\n" }
            let keyPath = try directory.writeFile(Self.privateKeyFileName, contents: Array(text.utf8), mode: 0o600)
            arguments += [
                "-o", "BatchMode=yes",
                "-o", "PreferredAuthentications=publickey",
                "-o", "PubkeyAuthentication=yes",
                "-o", "IdentitiesOnly=yes",
                "-o", "PasswordAuthentication=no",
                "-o", "KbdInteractiveAuthentication=no",
                "-i", keyPath,
            ]
            if target.allowsLegacyRSASHA1 {
                // The per-server opt-in: offer ssh-rsa (SHA-1) first, as such a server may still list
                // rsa-sha2-* in server-sig-algs and then refuse those signatures.
                arguments += ["-o", "PubkeyAcceptedAlgorithms=^ssh-rsa"]
            }
            environment = ["SSH_ASKPASS_REQUIRE": "never"]
        }
        var destinationHost = target.host
        if let address = target.connectAddress {
            // Connect to the checked address; look host keys up (and record new ones) under the name.
            arguments += ["-o", "HostKeyAlias=\(HostKey.knownHostsPattern(host: target.host, port: target.port))"]
            destinationHost = address
        }
        arguments += ["-p", String(target.port), "--", "\(target.username)@\(destinationHost)", request.remoteCommand]
        return ProcessInvocation(
            executable: sshExecutable,
            arguments: arguments,
            environmentAdditions: environment,
            standardInput: request.standardInput,
            timeout: request.timeout,
            outputLimitBytes: 1 << 20
        )
    }

    private static func timed<C: Clock>(
        on clock: C, _ body: () async throws -> ProcessResult
    ) async throws -> (ProcessResult, Duration) where C.Duration == Duration {
        let start = clock.now
        let result = try await body()
        return (result, start.duration(to: clock.now))
    }

    private func redact(_ text: String, directory: PrivateTemporaryDirectory, request: SSHCommandRequest) -> String {
        var redacted = text.replacing(directory.path, with: "<tmp>")
        if case .password(let password) = request.authentication, password.value.count >= 3 {
            redacted = redacted.replacing(password.value, with: "<redacted>")
        }
        return redacted
    }
}
