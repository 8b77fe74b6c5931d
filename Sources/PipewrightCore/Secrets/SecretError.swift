/// Failures of sealing and opening secrets at rest (``SealedSecret``, ``MasterKey``).
public enum SecretError: PipewrightError, Equatable {
    /// A sealed secret failed authentication: wrong master key, wrong associated data or tampered bytes.
    case sealedSecretCorrupt
    /// A master key is malformed (not base64, not 32 bytes).
    case invalidMasterKey(reason: String)

    /// `sealed_secret_corrupt` or `invalid_master_key`.
    public var code: String {
        switch self {
        case .sealedSecretCorrupt: "sealed_secret_corrupt"
        case .invalidMasterKey: "invalid_master_key"
        }
    }

    /// One sentence, never containing key material.
    public var message: String {
        switch self {
        case .sealedSecretCorrupt: "The encrypted secret could not be opened (wrong master key or corrupted data)."
        case .invalidMasterKey(let reason): "The master key is invalid: \(reason)."
        }
    }

    /// `reason` for a malformed master key.
    public var details: [String: String] {
        switch self {
        case .sealedSecretCorrupt: [:]
        case .invalidMasterKey(let reason): ["reason": reason]
        }
    }
}
