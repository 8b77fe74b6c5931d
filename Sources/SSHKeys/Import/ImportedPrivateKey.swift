/// The result of ``PrivateKeyImporter/parse(_:passphrase:)``.
public struct ImportedPrivateKey: Sendable {
    /// The decoded key.
    public let key: SSHPrivateKey
    /// The comment stored inside an openssh-key-v1 key (ssh-keygen's `-C`); `nil` for PEM formats,
    /// which have no comment field. May be the empty string.
    public let comment: String?
    /// Whether the input was encrypted with a passphrase.
    public let wasPassphraseProtected: Bool

    /// Creates a result.
    public init(key: SSHPrivateKey, comment: String?, wasPassphraseProtected: Bool) {
        self.key = key
        self.comment = comment
        self.wasPassphraseProtected = wasPassphraseProtected
    }
}
