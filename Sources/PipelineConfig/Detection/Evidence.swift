/// One reason the detector believes in a stack: a file and what it showed.
///
/// Example: `Evidence(file: "poetry.lock", reason: "Poetry lock file")`.
public struct Evidence: Sendable, Hashable, Codable {
    /// Relative path of the file that was found or read (`"(override)"` for user overrides).
    public var file: String
    /// A short human phrase, e.g. `"depends on next"`.
    public var reason: String

    /// Creates a piece of evidence.
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
}
