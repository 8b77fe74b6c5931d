/// A deployment environment, from `GET /repositories/{workspace}/{repo_slug}/environments/`
/// (`{"type": "deployment_environment", "uuid": "{…}", "name": "Production",
/// "environment_type": {"type": "deployment_environment_type", "name": "Production", "rank": 2}}`).
///
/// A step's `deployment: <name>` in `bitbucket-pipelines.yml` refers to an environment by name.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-deployments/#api-repositories-workspace-repo-slug-environments-get
public struct BitbucketEnvironment: Sendable, Equatable, Decodable {
    /// The environment's kind: `Test` (rank 0), `Staging` (1) or `Production` (2).
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case test = "Test"
        case staging = "Staging"
        case production = "Production"

        /// Bitbucket's rank of the kind (0, 1, 2).
        public var rank: Int {
            switch self {
            case .test: 0
            case .staging: 1
            case .production: 2
            }
        }

        /// The kind whose name matches `name` case-insensitively, else `nil`.
        public init?(matching name: String) {
            guard let kind = Self.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
                return nil
            }
            self = kind
        }
    }

    /// Braced UUID.
    public var uuid: String
    /// Display name, e.g. `Production`.
    public var name: String
    /// `environment_type.name`, when returned.
    public var typeName: String?

    /// Creates an environment value.
    public init(uuid: String, name: String, typeName: String? = nil) {
        self.uuid = uuid
        self.name = name
        self.typeName = typeName
    }

    enum CodingKeys: String, CodingKey {
        case uuid, name
        case environmentType = "environment_type"
    }

    struct EnvironmentType: Decodable {
        var name: String?
    }

    /// Decodes `uuid`, `name` and `environment_type.name`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(String.self, forKey: .uuid)
        name = try container.decode(String.self, forKey: .name)
        typeName = try container.decodeIfPresent(EnvironmentType.self, forKey: .environmentType)?.name
    }
}
