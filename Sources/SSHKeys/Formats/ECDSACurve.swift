/// The NIST curves OpenSSH supports for ECDSA keys (RFC 5656 §6.1, §10.1).
public enum ECDSACurve: String, Sendable, Hashable, CaseIterable {
    /// NIST P-256 (secp256r1), SSH identifier `nistp256`.
    case p256 = "nistp256"
    /// NIST P-384 (secp384r1), SSH identifier `nistp384`.
    case p384 = "nistp384"
    /// NIST P-521 (secp521r1), SSH identifier `nistp521`.
    case p521 = "nistp521"

    /// The SSH curve identifier (`nistp256`, …), RFC 5656 §6.1.
    public var identifier: String { rawValue }

    /// The SSH public-key algorithm name, e.g. `ecdsa-sha2-nistp256` (RFC 5656 §6.2).
    public var algorithmName: String { "ecdsa-sha2-\(rawValue)" }

    /// The curve's field size in bits: 256, 384 or 521.
    public var bits: Int {
        switch self {
        case .p256: 256
        case .p384: 384
        case .p521: 521
        }
    }

    /// Length in bytes of a private scalar (32, 48, 66).
    var scalarByteCount: Int { (bits + 7) / 8 }

    /// The curve's ASN.1 object identifier as dotted text (RFC 5480 §2.1.1.1).
    var objectIdentifier: String {
        switch self {
        case .p256: "1.2.840.10045.3.1.7"
        case .p384: "1.3.132.0.34"
        case .p521: "1.3.132.0.35"
        }
    }

    /// Looks a curve up by its SSH identifier (`nistp256`, …).
    init?(identifier: String) {
        self.init(rawValue: identifier)
    }

    /// Looks a curve up by its dotted ASN.1 object identifier.
    init?(objectIdentifier: String) {
        guard let curve = ECDSACurve.allCases.first(where: { $0.objectIdentifier == objectIdentifier }) else {
            return nil
        }
        self = curve
    }

    /// Looks a curve up by its private-scalar length (32, 48, 66 bytes).
    init?(scalarByteCount: Int) {
        guard let curve = ECDSACurve.allCases.first(where: { $0.scalarByteCount == scalarByteCount }) else {
            return nil
        }
        self = curve
    }
}
