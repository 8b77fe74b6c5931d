/// One entry of a directory listing, from `GET /repositories/{workspace}/{repo_slug}/src/{commit}/{path}/`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-source/#api-repositories-workspace-repo-slug-src-commit-path-get
public struct BitbucketSourceEntry: Sendable, Equatable, Decodable {
    /// File or directory.
    public enum Kind: Sendable, Equatable {
        /// `commit_file`.
        case file
        /// `commit_directory`.
        case directory
    }

    /// Path from the repository root, no leading `/` (e.g. `src/app/main.swift`).
    public var path: String
    /// File or directory.
    public var kind: Kind
    /// File size in bytes (files only, when reported).
    public var size: Int?
    /// File attributes such as `executable`, `link`, `lfs` (files only).
    public var attributes: [String]

    /// Creates an entry.
    public init(path: String, kind: Kind, size: Int? = nil, attributes: [String] = []) {
        self.path = path
        self.kind = kind
        self.size = size
        self.attributes = attributes
    }

    enum CodingKeys: String, CodingKey { case path, type, size, attributes }

    /// Decodes `commit_file` / `commit_directory`; any other `type` is read as a file.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        let type = try container.decodeIfPresent(String.self, forKey: .type)
        kind = type == "commit_directory" ? .directory : .file
        size = try container.decodeIfPresent(Int.self, forKey: .size)
        attributes = (try? container.decodeIfPresent([String].self, forKey: .attributes)) ?? []
    }
}
