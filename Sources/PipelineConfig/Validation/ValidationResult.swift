/// The outcome of checking one generated file (the `validation` items of `GET /api/pipelines/{id}/config`,
/// docs/API.md "Pipelines").
public struct ValidationResult: Sendable, Hashable, Codable {
    /// Repository path of the checked file, e.g. `bitbucket-pipelines.yml`.
    public var file: String
    /// `true` when no error was found.
    public var ok: Bool
    /// Findings, one sentence each, in document order; empty when `ok`.
    public var messages: [String]

    /// Creates a result; `ok` is derived from `messages` being empty.
    public init(file: String, messages: [String]) {
        self.file = file
        self.ok = messages.isEmpty
        self.messages = messages
    }
}
