/// An error every domain module throws: a stable machine code, a human sentence and safe details.
///
/// Domain modules (`SSHKeys`, `Bitbucket`, …) each define one error enum conforming to this protocol.
/// The HTTP adapter (`App/Errors/`) maps each case to a status; this protocol carries no HTTP knowledge.
///
/// - Important: `message` and `details` are shown to API clients and written to logs. They must never
///   contain a secret (private key, password, passphrase, token).
public protocol PipewrightError: Error, Sendable, CustomStringConvertible {
    /// Stable `snake_case` identifier, safe as a metric label (e.g. `auth_failed`).
    var code: String { get }
    /// One human sentence, safe to show to the user.
    var message: String { get }
    /// Extra machine-readable context (field names, fingerprints, limits); never secrets.
    var details: [String: String] { get }
}

extension PipewrightError {
    public var details: [String: String] { [:] }
    public var description: String { "\(code): \(message)" }
}
