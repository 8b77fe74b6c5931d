import PipewrightCore

/// Bitbucket Cloud REST 2.0, as Pipewright uses it (https://developer.atlassian.com/cloud/bitbucket/rest/intro/).
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

    // MARK: - Pipelines (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/)

    /// `POST /repositories/{workspace}/{repo_slug}/pipelines/` — starts a pipeline run.
    ///
    /// **Never retried automatically** (not idempotent). A ``BitbucketError/transport(reason:)`` with
    /// `.timeout` (or `.connection`) after sending is *ambiguous*: the run may have been created. Look it
    /// up with ``pipelines(workspace:slug:branch:commit:sort:pagelen:maxPages:)`` (by commit or branch,
    /// newest first) before triggering again.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-post
    /// - Parameters:
    ///   - target: branch, commit on a branch, custom pipeline or tag (see ``BitbucketPipelineTarget``).
    ///   - variables: run variables (values are sent, never logged).
    /// - Returns: the new run (normally `PENDING`), from the `201` body.
    /// - Throws: ``BitbucketError/badRequest(message:fields:)`` (pipelines disabled, no yml, unknown
    ///   custom pipeline, invalid body), ``BitbucketError/notFound(message:)``,
    ///   ``BitbucketError/unauthorized(message:)``, ``BitbucketError/forbidden(message:requiredScopes:)``,
    ///   ``BitbucketError/rateLimited(retryAfter:)`` (429, not retried),
    ///   ``BitbucketError/upstream(status:message:)`` (5xx, not retried), ``BitbucketError/transport(reason:)``.
    func triggerPipeline(
        workspace: String, slug: String, target: BitbucketPipelineTarget, variables: [BitbucketPipelineVariable]
    ) async throws(BitbucketError) -> BitbucketPipeline

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines/?sort=…&target.branch=…&target.commit.hash=…`.
    ///
    /// This list historically omits `next` even when more pages exist: pages are requested by number until one is
    /// empty, short, or `size` is reached; results are de-duplicated by UUID. Retried on 429/5xx/timeouts.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-get
    /// - Parameters:
    ///   - branch: only runs whose target branch is this (`target.branch`), or `nil`.
    ///   - commit: only runs for this full commit hash (`target.commit.hash`), or `nil`.
    ///   - sort: `-created_on` (newest first, the useful order) or `created_on`.
    ///   - pagelen: page size, 1…100.
    ///   - maxPages: stop after this many pages (e.g. `1` for "did my POST create a run?").
    /// - Returns: runs in server order.
    func pipelines(
        workspace: String, slug: String, branch: String?, commit: String?, sort: String, pagelen: Int, maxPages: Int
    ) async throws(BitbucketError) -> [BitbucketPipeline]

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-get
    /// - Parameter uuid: the **braced** UUID as returned (sent percent-encoded, `%7B…%7D`); a build
    ///   number as a decimal string also works.
    /// - Throws: ``BitbucketError/notFound(message:)`` for an unknown run or an unbraced UUID
    ///   ("The value provided is not a valid uuid.").
    func pipeline(workspace: String, slug: String, uuid: String) async throws(BitbucketError) -> BitbucketPipeline

    /// `POST /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}/stopPipeline` — asks Bitbucket
    /// to stop a run (`204`; the run then ends `COMPLETED/STOPPED`). Not retried automatically.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-stoppipeline-post
    /// - Throws: ``BitbucketError/badRequest(message:fields:)`` when the run is already completed,
    ///   ``BitbucketError/notFound(message:)`` for an unknown run.
    func stopPipeline(workspace: String, slug: String, uuid: String) async throws(BitbucketError)

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}/steps/`, all pages.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-steps-get
    /// - Returns: the steps in run order, de-duplicated by UUID.
    /// - Throws: ``BitbucketError/notFound(message:)`` for an unknown run.
    func steps(workspace: String, slug: String, pipelineUUID: String) async throws(BitbucketError)
        -> [BitbucketPipelineStep]

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines/{pipeline_uuid}/steps/{step_uuid}/log` with
    /// `Range: bytes={fromByte}-` — the log bytes written since `fromByte`.
    ///
    /// Sends `Accept: application/octet-stream, */*` (a JSON-only `Accept` gets 406). Handles `206`
    /// (the tail), `200` (the whole log: bytes before `fromByte` are dropped here), `416`/`304`
    /// (nothing new), `404` (no log yet), and a `307` to long-term storage, which is followed
    /// **without** `Authorization` (another origin) — reads there report ``BitbucketLogChunk/complete``
    /// once nothing is left. Retried on 429/5xx/timeouts.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-steps-step-uuid-log-get
    /// - Parameter fromByte: first byte wanted (0 for the whole log; the previous `nextOffset` after).
    /// - Throws: ``BitbucketError/invalidResponse(reason:)`` when a `206` starts after `fromByte`
    ///   (bytes would be lost), other statuses as classified.
    func stepLog(workspace: String, slug: String, pipelineUUID: String, stepUUID: String, fromByte: Int64)
        async throws(BitbucketError) -> BitbucketLogChunk

    // MARK: - Repository configuration for Pipelines (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/)
    // Scopes (legacy / granular): pipelines_config needs `repository:admin` / `admin:repository:bitbucket`;
    // reading variables, key pair, known hosts and environments needs `pipeline` / `read:pipeline:bitbucket`;
    // writing them needs `pipeline:variable` / `admin:pipeline:bitbucket` (environments: `pipeline`).

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines_config`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-get
    /// - Returns: the configuration, or `nil` when Pipelines was never configured (Bitbucket answers 404
    ///   rather than `enabled: false`, and also for an unknown repository: check the repository first).
    func pipelinesConfiguration(workspace: String, slug: String) async throws(BitbucketError)
        -> BitbucketPipelinesConfiguration?

    /// `PUT /repositories/{workspace}/{repo_slug}/pipelines_config` with `{"enabled": true}`. Retried
    /// (idempotent), which also covers the 404 seen right after a repository is created.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-put
    /// - Throws: ``BitbucketError/forbidden(message:requiredScopes:)`` without `repository:admin`.
    func enablePipelines(workspace: String, slug: String) async throws(BitbucketError)
        -> BitbucketPipelinesConfiguration

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines_config/variables/`, all pages (an upsert must
    /// look past page 1). Secured variables come back without their value.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-variables-get
    func repositoryVariables(workspace: String, slug: String) async throws(BitbucketError) -> [BitbucketVariable]

    /// `POST /repositories/{workspace}/{repo_slug}/pipelines_config/variables/` (`201`). Not retried.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-variables-post
    /// - Throws: ``BitbucketError/conflict(message:)`` when the key exists (409): update it by UUID instead.
    func createRepositoryVariable(workspace: String, slug: String, variable: BitbucketPipelineVariable)
        async throws(BitbucketError) -> BitbucketVariable

    /// `PUT /repositories/{workspace}/{repo_slug}/pipelines_config/variables/{variable_uuid}`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-variables-variable-uuid-put
    /// - Throws: ``BitbucketError/notFound(message:)`` for an unknown UUID.
    func updateRepositoryVariable(workspace: String, slug: String, uuid: String, variable: BitbucketPipelineVariable)
        async throws(BitbucketError) -> BitbucketVariable

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/key_pair` (public half only).
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-ssh-key-pair-get
    /// - Returns: the key pair, or `nil` when none is configured (404).
    func sshKeyPair(workspace: String, slug: String) async throws(BitbucketError) -> BitbucketSSHKeyPair?

    /// `PUT /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/key_pair` — sets (or replaces) the
    /// repository's one key pair. The private key (unencrypted OpenSSH or PEM text, no passphrase) is sent
    /// and never logged; Bitbucket never returns it.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-ssh-key-pair-put
    /// - Throws: ``BitbucketError/badRequest(message:fields:)`` when Bitbucket refuses the key.
    func replaceSSHKeyPair(workspace: String, slug: String, privateKey: Secret<String>, publicKey: String)
        async throws(BitbucketError) -> BitbucketSSHKeyPair

    /// `GET /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/known_hosts/`, all pages.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-ssh-known-hosts-get
    func knownHosts(workspace: String, slug: String) async throws(BitbucketError) -> [BitbucketKnownHost]

    /// `POST /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/known_hosts/` (`201`). Not retried.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-ssh-known-hosts-post
    /// - Parameters:
    ///   - hostname: ``BitbucketKnownHost/hostname(host:port:)`` (`[host]:port` for ports other than 22).
    ///   - publicKey: algorithm and bare base64 blob.
    /// - Throws: ``BitbucketError/conflict(message:)`` when the hostname exists (409).
    func createKnownHost(workspace: String, slug: String, hostname: String, publicKey: BitbucketKnownHost.PublicKey)
        async throws(BitbucketError) -> BitbucketKnownHost

    /// `PUT /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/known_hosts/{known_host_uuid}`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-ssh-known-hosts-known-host-uuid-put
    func updateKnownHost(
        workspace: String, slug: String, uuid: String, hostname: String, publicKey: BitbucketKnownHost.PublicKey
    ) async throws(BitbucketError) -> BitbucketKnownHost

    /// `GET /repositories/{workspace}/{repo_slug}/environments/`, all pages.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-deployments/#api-repositories-workspace-repo-slug-environments-get
    func environments(workspace: String, slug: String) async throws(BitbucketError) -> [BitbucketEnvironment]

    /// `POST /repositories/{workspace}/{repo_slug}/environments/` with `name` and `environment_type`
    /// (`{"name": kind, "rank": 0|1|2}`). Not retried.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-deployments/#api-repositories-workspace-repo-slug-environments-post
    /// - Throws: ``BitbucketError/conflict(message:)`` when the name exists (409).
    func createEnvironment(workspace: String, slug: String, name: String, kind: BitbucketEnvironment.Kind)
        async throws(BitbucketError) -> BitbucketEnvironment

    /// `GET /repositories/{workspace}/{repo_slug}/deployments_config/environments/{environment_uuid}/variables`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-deployments-config-environments-environment-uuid-variables-get
    func deploymentVariables(workspace: String, slug: String, environmentUUID: String) async throws(BitbucketError)
        -> [BitbucketVariable]

    /// `POST …/deployments_config/environments/{environment_uuid}/variables` (`201`). Not retried.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-deployments-config-environments-environment-uuid-variables-post
    /// - Throws: ``BitbucketError/conflict(message:)`` when the key exists in that environment (409).
    func createDeploymentVariable(
        workspace: String, slug: String, environmentUUID: String, variable: BitbucketPipelineVariable
    ) async throws(BitbucketError) -> BitbucketVariable

    /// `PUT …/deployments_config/environments/{environment_uuid}/variables/{variable_uuid}`.
    ///
    /// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-deployments-config-environments-environment-uuid-variables-variable-uuid-put
    func updateDeploymentVariable(
        workspace: String, slug: String, environmentUUID: String, uuid: String, variable: BitbucketPipelineVariable
    ) async throws(BitbucketError) -> BitbucketVariable
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

    /// ``pipelines(workspace:slug:branch:commit:sort:pagelen:maxPages:)`` with 100 per page and
    /// defaults: no filters, newest first, up to 10 pages (1,000 runs).
    public func pipelines(
        workspace: String, slug: String, branch: String? = nil, commit: String? = nil, sort: String = "-created_on",
        maxPages: Int = 10
    ) async throws(BitbucketError) -> [BitbucketPipeline] {
        try await pipelines(
            workspace: workspace, slug: slug, branch: branch, commit: commit, sort: sort, pagelen: 100,
            maxPages: maxPages)
    }

    /// ``triggerPipeline(workspace:slug:target:variables:)`` without variables.
    public func triggerPipeline(workspace: String, slug: String, target: BitbucketPipelineTarget)
        async throws(BitbucketError) -> BitbucketPipeline
    {
        try await triggerPipeline(workspace: workspace, slug: slug, target: target, variables: [])
    }
}
