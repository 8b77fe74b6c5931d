/// A Bitbucket repository variable the user must define before the pipeline can deploy
/// (Repository settings → Pipelines → Repository variables).
public struct RequiredVariable: Sendable, Hashable, Codable {
    /// Variable name as referenced in the YAML, e.g. `DEPLOY_HOST_1`.
    public var name: String
    /// What the variable holds.
    public var description: String
    /// Whether it must be created as a secured variable. Host, user, port and path are not secret.
    public var secured: Bool
    /// The value to enter, for non-secret variables Pipewright knows (`nil` for secured ones).
    public var value: String?

    /// Creates a variable description.
    public init(name: String, description: String, secured: Bool, value: String?) {
        self.name = name
        self.description = description
        self.secured = secured
        self.value = value
    }
}
