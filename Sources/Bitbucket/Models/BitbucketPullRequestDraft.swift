/// What ``BitbucketAPI/createPullRequest(workspace:slug:draft:)`` sends.
///
/// Encoded as `{"title", "description", "source": {"branch": {"name"}}, "destination": {"branch":
/// {"name"}}, "close_source_branch"}`; the branch name sits under `source.branch.name` — Bitbucket answers
/// 400 to a flat `source.name`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/#api-repositories-workspace-repo-slug-pullrequests-post
public struct BitbucketPullRequestDraft: Sendable, Equatable, Encodable {
    /// Title (required by Bitbucket).
    public var title: String
    /// Description (Markdown).
    public var description: String
    /// Branch with the changes.
    public var sourceBranch: String
    /// Target branch; `nil` lets Bitbucket use the repository's main branch.
    public var destinationBranch: String?
    /// Delete the source branch when merged.
    public var closeSourceBranch: Bool

    /// Creates a draft.
    public init(
        title: String, description: String, sourceBranch: String, destinationBranch: String?,
        closeSourceBranch: Bool = true
    ) {
        self.title = title
        self.description = description
        self.sourceBranch = sourceBranch
        self.destinationBranch = destinationBranch
        self.closeSourceBranch = closeSourceBranch
    }

    private struct Endpoint: Encodable {
        struct Branch: Encodable { var name: String }
        var branch: Branch
    }
    enum CodingKeys: String, CodingKey {
        case title, description, source, destination
        case closeSourceBranch = "close_source_branch"
    }

    /// Encodes the request body shape shown above.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(title, forKey: .title)
        try container.encode(description, forKey: .description)
        try container.encode(Endpoint(branch: .init(name: sourceBranch)), forKey: .source)
        if let destinationBranch {
            try container.encode(Endpoint(branch: .init(name: destinationBranch)), forKey: .destination)
        }
        try container.encode(closeSourceBranch, forKey: .closeSourceBranch)
    }
}
