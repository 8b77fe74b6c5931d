/// A branch, from `GET /repositories/{workspace}/{repo_slug}/refs/branches/{name}`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-refs/#api-repositories-workspace-repo-slug-refs-branches-name-get
public struct BitbucketBranch: Sendable, Equatable, Decodable {
    /// Branch name without `refs/heads/` (may contain `/`, e.g. `feature/ci-setup`).
    public var name: String
    /// The tip commit.
    public var target: BitbucketCommit

    /// Creates a branch value.
    public init(name: String, target: BitbucketCommit) {
        self.name = name
        self.target = target
    }
}
