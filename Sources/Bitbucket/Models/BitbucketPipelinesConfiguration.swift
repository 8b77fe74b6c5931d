/// Whether Pipelines is enabled for a repository, from `GET/PUT /repositories/{workspace}/{repo_slug}/pipelines_config`
/// (`{"type": "repository_pipelines_configuration", "enabled": true, "repository": {…}}`).
///
/// A repository that never had Pipelines configured answers `404` instead of `enabled: false`
/// (https://github.com/ktrysmt/go-bitbucket/pull/177); the client reports that as `nil`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-get
public struct BitbucketPipelinesConfiguration: Sendable, Equatable, Decodable {
    /// Whether Pipelines runs for the repository.
    public var enabled: Bool

    /// Creates a configuration value.
    public init(enabled: Bool) { self.enabled = enabled }

    enum CodingKeys: String, CodingKey { case enabled }

    /// Decodes `enabled`; a missing `enabled` reads as `false`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
    }
}
