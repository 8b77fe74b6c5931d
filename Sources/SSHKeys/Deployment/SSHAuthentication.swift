import PipewrightCore

/// How an SSH operation logs in.
///
/// - Important: Both cases carry plaintext secrets. The OpenSSH runner writes them to a 0600 file
///   inside a 0700 temporary directory for the duration of one `ssh` run and deletes the directory
///   afterwards; they never appear in arguments, environment values or logs.
public enum SSHAuthentication: Sendable {
    /// A one-time password, used for OpenSSH `password` and `keyboard-interactive` authentication
    /// and never stored.
    case password(Secret<String>)
    /// An unencrypted private key in OpenSSH (`-----BEGIN OPENSSH PRIVATE KEY-----`) or PEM text
    /// form. Decrypt passphrase-protected keys before passing them: `BatchMode` cannot prompt.
    case privateKey(Secret<String>)

    /// `password` or `key`, as recorded in the deployment ledger's `method`.
    public var method: String {
        switch self {
        case .password: "password"
        case .privateKey: "key"
        }
    }
}
