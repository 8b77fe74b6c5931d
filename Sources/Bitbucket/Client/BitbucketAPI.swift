/// Bitbucket Cloud REST 2.0, as Pipewright uses it (reference/bitbucket-api.md).
///
/// ``LiveBitbucketClient`` is the HTTP implementation; tests of higher layers implement this protocol
/// with closures. Every method throws only ``BitbucketError``. Workspace and repository arguments
/// are slugs or `{UUID}`s (braces kept; the client percent-encodes them).
public protocol BitbucketAPI: Sendable {
    /// `GET /user` — the account the credentials belong to (used by "verify connection").
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-users/#api-user-get
    /// - Throws: ``BitbucketError/unauthorized(message:)`` for bad credentials,
    ///   ``BitbucketError/forbidden(message:requiredScopes:)`` when `account`/`read:user:bitbucket` is missing.
    func currentUser() async throws(BitbucketError) -> BitbucketUser

    /// `GET /repositories/{workspace}/{repo_slug}`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-get
    /// - Throws: ``BitbucketError/notFound(message:)`` for an unknown (or hidden) repository.
    func repository(workspace: String, slug: String) async throws(BitbucketError) -> BitbucketRepository

    /// `GET /repositories/{workspace}/{repo_slug}/refs/branches/{name}`; `name` may contain `/`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-refs/#api-repositories-workspace-repo-slug-refs-branches-name-get
    /// - Returns: the branch, or `nil` when it does not exist (404).
    func branch(workspace: String, slug: String, name: String) async throws(BitbucketError) -> BitbucketBranch?

    /// `GET /repositories/{workspace}/{repo_slug}/src/{commit}/{path}/?max_depth=N`, all pages.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-source/#api-repositories-workspace-repo-slug-src-commit-path-get
    /// - Parameters:
    ///   - commit: a full commit hash (resolve branch names first: names with `/` are ambiguous here).
    ///   - path: directory from the root, `""` for the root.
    ///   - maxDepth: `1` lists direct children; larger values recurse (directories are listed too).
    /// - Returns: entries in server order, de-duplicated by path.
    /// - Throws: ``BitbucketError/notFound(message:)`` when the commit or directory does not exist.
    func listDirectory(workspace: String, slug: String, commit: String, path: String, maxDepth: Int)
        async throws(BitbucketError) -> [BitbucketSourceEntry]

    /// `GET /repositories/{workspace}/{repo_slug}/src/{commit}/{path}` — raw file bytes.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-source/#api-repositories-workspace-repo-slug-src-commit-path-get
    /// Redirects (LFS → media storage) are followed without `Authorization` on other hosts.
    /// - Returns: the bytes, or `nil` when the path does not exist at that commit (404).
    func fileContents(workspace: String, slug: String, commit: String, path: String)
        async throws(BitbucketError) -> [UInt8]?

    /// `POST /repositories/{workspace}/{repo_slug}/src` — one commit with all `changes`, as
    /// `multipart/form-data` (`branch`, `message`, `author`, `parents` as **form fields**, file parts
    /// named `/<path>`; `files` only for deletions). Not retried automatically (not idempotent).
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-source/#api-repositories-workspace-repo-slug-src-post
    /// - Parameters:
    ///   - branch: target branch; created when it does not exist (on top of `parents[0]`).
    ///   - parents: expected tip (existing branch) or base commit (new branch); empty sends none.
    ///   - message: commit message.
    ///   - author: `Name <email>`, or `nil` for the authenticated user.
    ///   - changes: files to write or delete.
    /// - Returns: the branch as read right after the commit (Bitbucket answers 201 with an empty
    ///   body; another push may land in between — `parents` guards the commit itself).
    /// - Throws: ``BitbucketError/conflict(message:)`` when `parents` is not the tip (409).
    func createCommit(
        workspace: String, slug: String, branch: String, parents: [String], message: String, author: String?,
        changes: [BitbucketFileChange]
    ) async throws(BitbucketError) -> BitbucketBranch

    /// `GET /repositories/{workspace}/{repo_slug}/pullrequests?state=…&q=…`, all pages.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/#api-repositories-workspace-repo-slug-pullrequests-get
    /// - Parameters:
    ///   - state: only this state; `nil` uses Bitbucket's default (OPEN only).
    ///   - sourceBranch: filter `source.branch.name = "…"` (BBQL, percent-encoded).
    ///   - destinationBranch: filter `destination.branch.name = "…"`.
    /// - Returns: matching pull requests, de-duplicated by id.
    func pullRequests(
        workspace: String, slug: String, state: BitbucketPullRequest.State?, sourceBranch: String?,
        destinationBranch: String?
    ) async throws(BitbucketError) -> [BitbucketPullRequest]

    /// `POST /repositories/{workspace}/{repo_slug}/pullrequests`. Not retried automatically.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/#api-repositories-workspace-repo-slug-pullrequests-post
    /// - Throws: ``BitbucketError/badRequest(message:fields:)`` for a missing source branch or when
    ///   there are no changes to pull.
    func createPullRequest(workspace: String, slug: String, draft: BitbucketPullRequestDraft)
        async throws(BitbucketError) -> BitbucketPullRequest

    /// `PUT /repositories/{workspace}/{repo_slug}/pullrequests/{id}` with a new title and description.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/#api-repositories-workspace-repo-slug-pullrequests-pull-request-id-put
    /// - Throws: ``BitbucketError/notFound(message:)`` for an unknown id.
    func updatePullRequest(workspace: String, slug: String, id: Int, title: String, description: String)
        async throws(BitbucketError) -> BitbucketPullRequest
}

extension BitbucketAPI {
    /// ``createCommit(workspace:slug:branch:parents:message:author:changes:)`` writing `files` as
    /// `(path, bytes)` pairs (no deletions).
    public func createCommit(
        workspace: String, slug: String, branch: String, parents: [String], message: String, author: String? = nil,
        files: [(path: String, contents: [UInt8])]
    ) async throws(BitbucketError) -> BitbucketBranch {
        try await createCommit(
            workspace: workspace, slug: slug, branch: branch, parents: parents, message: message, author: author,
            changes: files.map { .write(path: $0.path, contents: $0.contents) })
    }
}
