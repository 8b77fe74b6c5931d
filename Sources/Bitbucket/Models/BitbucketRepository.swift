/// A repository, from `GET /repositories/{workspace}/{repo_slug}`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-get
public struct BitbucketRepository: Sendable, Equatable, Decodable {
    /// Repository UUID with braces.
    public var uuid: String
    /// `workspace/slug`.
    public var fullName: String
    /// Display name (may differ from the slug).
    public var name: String?
    /// Name of the main branch, or `nil` for an empty repository (no commits yet).
    public var mainBranch: String?
    /// Whether the repository is private, when reported.
    public var isPrivate: Bool?

    /// Creates a repository value.
    public init(uuid: String, fullName: String, name: String? = nil, mainBranch: String?, isPrivate: Bool? = nil) {
        self.uuid = uuid
        self.fullName = fullName
        self.name = name
        self.mainBranch = mainBranch
        self.isPrivate = isPrivate
    }

    enum CodingKeys: String, CodingKey {
        case uuid, name
        case fullName = "full_name"
        case mainBranch = "mainbranch"
        case isPrivate = "is_private"
    }

    private struct BranchName: Decodable { var name: String }

    /// Decodes the JSON object; a missing or `null` `mainbranch` means an empty repository.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(String.self, forKey: .uuid)
        fullName = try container.decode(String.self, forKey: .fullName)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        mainBranch = try container.decodeIfPresent(BranchName.self, forKey: .mainBranch)?.name
        isPrivate = try container.decodeIfPresent(Bool.self, forKey: .isPrivate)
    }
}
