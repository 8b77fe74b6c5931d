import PipewrightCore

/// The single error type of the SSHKeys module.
///
/// Every case has a stable `code` (snake_case, no associated values), a human `message` and safe
/// `details`. No case ever carries key material, passphrases or raw command output.
public enum SSHKeyError: PipewrightError, Equatable {
    // MARK: key formats / import

    /// The key algorithm is not supported (DSA, unknown algorithm names, RSA under 2048 bits). The
    /// associated value names it, e.g. `"dsa"`, `"rsa-1024"`, `"sk-ssh-ed25519@openssh.com"`.
    case unsupportedKeyType(String)
    /// The input is a public key (an `ssh-…` line, `BEGIN PUBLIC KEY`, `BEGIN SSH2 PUBLIC KEY`).
    case notAPrivateKey
    /// The key is encrypted and the passphrase is wrong or missing.
    case wrongPassphrase
    /// The input is not a well-formed private key; `reason` is short and contains no key material.
    case invalidPrivateKey(reason: String)
    /// Requested key parameters are not allowed (e.g. RSA 1024 bits).
    case invalidKeyParameters(reason: String)
    /// The text is not a well-formed OpenSSH public-key line; `reason` is short.
    case invalidPublicKey(reason: String)

    // MARK: SSH operations
    // The SSH-operation cases are appended below this line.

    /// The server rejected the password or key (`Permission denied (…)` from OpenSSH). Never retried.
    case authFailed
    /// The server presented a host key that matches none of the pinned keys. Both sides are
    /// `SHA256:…` fingerprints; `presented` is `"unknown"` when OpenSSH did not print it.
    case hostKeyMismatch(pinned: [String], presented: String)
    /// No host key is pinned and the policy is `strict`, so the connection was not attempted.
    /// `presented` is the server's `SHA256:…` fingerprint when known.
    case hostKeyUnknown(presented: String?)
    /// Nothing listens on the target port (`Connection refused`).
    case connectionRefused
    /// The connection or the remote command did not finish in time.
    case timeout
    /// The host name could not be resolved (`Could not resolve hostname`).
    case dnsFailure
    /// The remote account cannot create or write `~/.ssh` or `~/.ssh/authorized_keys`.
    /// `reason` is a fixed phrase chosen by Pipewright (e.g. `"cannot create ~/.ssh"`).
    case permissionDeniedRemote(reason: String)
    /// A target field is unusable (empty host, leading `-`, control characters, port out of range).
    /// `field` is `host`, `port` or `username`; `reason` is a short phrase.
    case invalidTarget(field: String, reason: String)
    /// A host key is malformed (bad algorithm name or base64 blob); `reason` is a short phrase.
    case invalidHostKey(reason: String)
    /// OpenSSH failed in a way not classified above. `exit` is its exit status (255 for SSH errors,
    /// `-1` for a signal); `summary` is one sanitized line of its diagnostics, without secrets or paths.
    case sshFailed(exit: Int32, summary: String)
    /// The remote script ran but failed or printed no recognisable status. `reason` is one
    /// sanitized line.
    case remoteScriptFailed(exit: Int32, reason: String)
    /// The server refused the RSA key's SHA-2 signatures (`rsa-sha2-256`/`-512`) and accepted an
    /// `ssh-rsa` (SHA-1) signature from the same key, which OpenSSH no longer offers by default.
    /// The remedy is on the server (accept `rsa-sha2-*`) or, per server, `legacy_rsa_sha1`.
    case unsupportedSignatureAlgorithm
    /// An `authorized_keys` edit was cut off (connection killed, session timed out, remote shell ended
    /// without a status) after the script may already have changed the file, so whether it did is not
    /// known. `cause` is the code of the underlying failure (`timeout`, `ssh_failed`,
    /// `remote_script_failed`); the next test or deploy finds out.
    case outcomeUnknown(cause: String)
    /// The key is in `authorized_keys` but a fresh login with it was refused, and sshd's `StrictModes`
    /// explains why: `path` (home, `~/.ssh` or the file) has mode `mode` (e.g. `0775`) and owner `owner`.
    case remotePermissions(path: String, mode: String, owner: String)

    /// Stable snake_case identifier of the case.
    public var code: String {
        switch self {
        case .unsupportedKeyType: "unsupported_key_type"
        case .notAPrivateKey: "not_a_private_key"
        case .wrongPassphrase: "wrong_passphrase"
        case .invalidPrivateKey: "invalid_private_key"
        case .invalidKeyParameters: "invalid_key_parameters"
        case .invalidPublicKey: "invalid_public_key"
        case .authFailed: "auth_failed"
        case .hostKeyMismatch: "host_key_mismatch"
        case .hostKeyUnknown: "host_key_unknown"
        case .connectionRefused: "connection_refused"
        case .timeout: "timeout"
        case .dnsFailure: "dns_failure"
        case .permissionDeniedRemote: "permission_denied_remote"
        case .invalidTarget: "invalid_target"
        case .invalidHostKey: "invalid_host_key"
        case .sshFailed: "ssh_failed"
        case .remoteScriptFailed: "remote_script_failed"
        case .unsupportedSignatureAlgorithm: "unsupported_signature_algorithm"
        case .outcomeUnknown: "outcome_unknown"
        case .remotePermissions: "remote_permissions"
        }
    }

    /// One human sentence, safe to show; never contains secrets.
    public var message: String {
        switch self {
        case .unsupportedKeyType(let type) where type.hasPrefix("rsa-"):
            "RSA keys of \(type.dropFirst(4)) bits are not supported; use at least 2048 bits."
        case .unsupportedKeyType(let type):
            "Key type '\(type)' is not supported; use ed25519, rsa or ecdsa."
        case .notAPrivateKey:
            "The text is a public key; paste the private key instead."
        case .wrongPassphrase:
            "The private key is encrypted and the passphrase is missing or wrong."
        case .invalidPrivateKey(let reason):
            "The private key could not be read: \(reason)."
        case .invalidKeyParameters(let reason):
            "Invalid key parameters: \(reason)."
        case .invalidPublicKey(let reason):
            "The public key could not be read: \(reason)."
        case .authFailed:
            "The server rejected the credentials (password or key)."
        case .hostKeyMismatch(let pinned, let presented):
            "The server's host key (\(presented)) does not match the pinned key "
                + "(\(pinned.joined(separator: ", "))); the connection was refused."
        case .hostKeyUnknown(let presented):
            if let presented {
                "The server's host key (\(presented)) is not approved and the host-key policy is strict."
            } else {
                "No host key is approved for this server and the host-key policy is strict."
            }
        case .connectionRefused:
            "The server refused the connection; nothing is listening on that port."
        case .timeout:
            "The SSH connection or command did not finish in time."
        case .dnsFailure:
            "The host name could not be resolved."
        case .permissionDeniedRemote(let reason):
            "The remote account cannot update its authorized keys: \(reason)."
        case .invalidTarget(let field, let reason):
            "The target's \(field) is invalid: \(reason)."
        case .invalidHostKey(let reason):
            "The host key is invalid: \(reason)."
        case .sshFailed(let exit, let summary):
            "SSH failed (exit status \(exit)): \(summary)."
        case .remoteScriptFailed(let exit, let reason):
            "The remote command failed (exit status \(exit)): \(reason)."
        case .unsupportedSignatureAlgorithm:
            "The server accepts this RSA key only with ssh-rsa (SHA-1) signatures, which are disabled by default. "
                + Self.legacyRSASHA1Remedy
        case .remotePermissions(let path, let mode, let owner):
            "The key is in authorized_keys but sshd refuses it: \(path) has mode \(mode) and owner \(owner); "
                + RemotePermissionsReport.requirement + ". Deploy again with fix_permissions: true to remove the "
                + "group and other write bits of paths the account owns."
        case .outcomeUnknown(let cause):
            "The session ended (\(cause)) before the server confirmed the change, so it may or may not have been "
                + "made; the next test or deploy of this key on the server finds out."
        }
    }

    /// Machine-readable context; never secrets.
    public var details: [String: String] {
        switch self {
        case .unsupportedKeyType(let type): ["key_type": type]
        case .invalidPrivateKey(let reason): ["reason": reason]
        case .invalidKeyParameters(let reason): ["reason": reason]
        case .invalidPublicKey(let reason): ["reason": reason]
        case .notAPrivateKey, .wrongPassphrase: [:]
        case .hostKeyMismatch(let pinned, let presented):
            ["pinned_fingerprints": pinned.joined(separator: ","), "presented_fingerprint": presented]
        case .hostKeyUnknown(let presented):
            presented.map { ["presented_fingerprint": $0] } ?? [:]
        case .permissionDeniedRemote(let reason): ["reason": reason]
        case .invalidTarget(let field, let reason): ["field": field, "reason": reason]
        case .invalidHostKey(let reason): ["reason": reason]
        case .sshFailed(let exit, let summary): ["exit_status": String(exit), "summary": summary]
        case .remoteScriptFailed(let exit, let reason): ["exit_status": String(exit), "reason": reason]
        case .unsupportedSignatureAlgorithm:
            ["accepted_signature_algorithm": "ssh-rsa", "remedy": Self.legacyRSASHA1Remedy]
        case .outcomeUnknown(let cause): ["cause": cause]
        case .remotePermissions(let path, let mode, let owner):
            ["path": path, "mode": mode, "owner": owner, "requirement": RemotePermissionsReport.requirement]
        case .authFailed, .connectionRefused, .timeout, .dnsFailure: [:]
        }
    }

    /// What to do about a server that accepts only `ssh-rsa` (SHA-1) signatures.
    public static let legacyRSASHA1Remedy =
        "Allow rsa-sha2-256/rsa-sha2-512 on the server (PubkeyAcceptedAlgorithms in sshd_config, OpenSSH 7.2 or later), "
        + "or set legacy_rsa_sha1: true on this server in Pipewright (PATCH /api/servers/{id}) to allow SHA-1 for it only."
}
