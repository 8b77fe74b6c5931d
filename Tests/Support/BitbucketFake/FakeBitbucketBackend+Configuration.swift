/// Configuration and test helpers called by ``FakeBitbucketServer``.
extension FakeBitbucketBackend {
    func addCredential(_ credential: FakeCredential) {
        credentials.removeAll { $0.kind == credential.kind }
        credentials.append(credential)
    }

    func injectFailures(_ failures: [FakeFailure]) { pendingFailures += failures }

    func setHourlyLimit(_ limit: Int?, sendsHeaders: Bool) {
        hourlyLimit = limit
        sendsRateLimitHeaders = sendsHeaders
        requestTimes = [:]
    }

    func setPagination(omitNext: Bool?, maxPagelen: Int?) {
        if let omitNext { omitNextLinks = omitNext }
        if let maxPagelen { self.maxPagelen = max(1, min(100, maxPagelen)) }
    }

    func clearRecorded() { recorded = [] }

    func markStopping() { isStopping = true }

    func repositorySnapshot(_ workspace: String, _ slug: String) -> FakeRepository? {
        repositories[repositoryKey(workspace, slug)]
    }

    func addRepository(workspace: String, slug: String, mainBranch: String, files: [String: [UInt8]], isPrivate: Bool)
        -> String?
    {
        var repository = FakeRepository(
            workspace: workspace, slug: slug, uuid: FakeIdentifiers.uuid(), mainBranchName: mainBranch,
            isPrivate: isPrivate)
        var root: String?
        if !files.isEmpty {
            let commit = repository.addCommit(
                parents: [], files: files, message: "Initial commit", author: "Fake User <fake@example.com>")
            repository.branches[mainBranch] = commit.hash
            root = commit.hash
        }
        update(repository)
        return root
    }

    func addBranch(
        workspace: String, slug: String, name: String, from: String, files: [String: [UInt8]], message: String? = nil
    ) -> String? {
        guard var repository = repositorySnapshot(workspace, slug),
            let base = repository.commit(matching: repository.branches[from] ?? from)
        else { return nil }
        var tree = base.files
        for (path, contents) in files { tree[path] = contents }
        let commit =
            files.isEmpty
            ? base
            : repository.addCommit(
                parents: [base.hash], files: tree, executables: base.executables, message: message ?? "Update \(name)",
                author: "Fake User <fake@example.com>")
        repository.branches[name] = commit.hash
        update(repository)
        return commit.hash
    }

    func addPullRequest(
        workspace: String, slug: String, title: String, source: String, destination: String, state: String
    )
        -> Int?
    {
        guard var repository = repositorySnapshot(workspace, slug) else { return nil }
        let pullRequest = FakePullRequest(
            id: repository.nextPullRequestID, title: title, description: "", state: state, sourceBranch: source,
            destinationBranch: destination, closeSourceBranch: false, createdOn: FakeIdentifiers.now())
        repository.nextPullRequestID += 1
        repository.pullRequests.append(pullRequest)
        update(repository)
        return pullRequest.id
    }
}
