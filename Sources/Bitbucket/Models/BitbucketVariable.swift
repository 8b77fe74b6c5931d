/// A repository or deployment variable as Bitbucket stores it (`pipeline_variable` /
/// `deployment_variable`): `{"type", "uuid": "{…}", "key", "value", "secured"}`.
///
/// Bitbucket never returns the value of a secured variable (`value` is absent or empty); ``value`` is
/// then `nil`. Keys are unique per scope (repository, or one deployment environment).
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-variables-get
public struct BitbucketVariable: Sendable, Equatable, Decodable {
    /// Braced UUID, e.g. `{9ddb0507-…}` (sent percent-encoded in paths).
    public var uuid: String
    /// Variable name, e.g. `DEPLOY_HOST_1`.
    public var key: String
    /// The value; `nil` for a secured variable (Bitbucket does not return it).
    public var value: String?
    /// Whether Bitbucket masks the value in logs and never returns it.
    public var secured: Bool

    /// Creates a variable value.
    public init(uuid: String, key: String, value: String?, secured: Bool) {
        self.uuid = uuid
        self.key = key
        self.value = value
        self.secured = secured
    }

    enum CodingKeys: String, CodingKey { case uuid, key, value, secured }

    /// Decodes the object; an empty `value` of a secured variable becomes `nil`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(String.self, forKey: .uuid)
        key = try container.decode(String.self, forKey: .key)
        secured = try container.decodeIfPresent(Bool.self, forKey: .secured) ?? false
        let raw = try container.decodeIfPresent(String.self, forKey: .value)
        value = secured && (raw ?? "").isEmpty ? nil : raw
    }
}
