/// The SSH key algorithms Pipewright generates or imports.
///
/// Raw values are the lowercase names used in the API and database (`"ed25519"`, `"rsa"`, `"ecdsa"`).
/// DSA is deliberately absent: OpenSSH disables it by default since 9.0 and importing it throws
/// ``SSHKeyError/unsupportedKeyType(_:)``.
public enum KeyType: String, Sendable, Hashable, Codable, CaseIterable {
    /// Ed25519 (RFC 8032 signatures, RFC 8709 SSH encoding); always 256 bits.
    case ed25519
    /// RSA (PKCS#1, RFC 8017; SSH encoding RFC 4253 §6.6); 2048 bits or more.
    case rsa
    /// ECDSA over NIST P-256, P-384 or P-521 (RFC 5656). Import only; never generated.
    case ecdsa
}
