/// State of one fake repository: a commit graph of full file trees, branches and pull requests.
struct FakeRepository: Sendable {
    var workspace: String
    var slug: String
    var uuid: String
    /// Name the main branch has (or will have once the first commit lands).
    var mainBranchName: String
    var isPrivate = true
    var commits: [String: FakeCommit] = [:]
    /// Commit hashes, oldest first.
    var commitOrder: [String] = []
    /// Branch name → tip hash.
    var branches: [String: String] = [:]
    var pullRequests: [FakePullRequest] = []
    var nextPullRequestID = 1
    /// Pipelines settings (`FakeBitbucketBackend+PipelinesSetup.swift`).
    var pipelinesSetup = FakePipelinesSetup()

    var fullName: String { "\(workspace)/\(slug)" }
    /// `nil` while the repository is empty.
    var mainBranch: String? { branches[mainBranchName] != nil ? mainBranchName : nil }

    /// A commit by full hash or unique prefix of at least 7 digits.
    func commit(matching reference: String) -> FakeCommit? {
        if let commit = commits[reference] { return commit }
        guard reference.count >= 7, reference.allSatisfy(\.isHexDigit) else { return nil }
        let matches = commits.keys.filter { $0.hasPrefix(reference.lowercased()) }
        return matches.count == 1 ? commits[matches[0]] : nil
    }

    /// Whether `ancestor` is reachable from `descendant` (inclusive).
    func isAncestor(_ ancestor: String, of descendant: String) -> Bool {
        var stack = [descendant]
        var seen = Set<String>()
        while let hash = stack.popLast() {
            if hash == ancestor { return true }
            guard seen.insert(hash).inserted, let commit = commits[hash] else { continue }
            stack += commit.parents
        }
        return false
    }

    /// Adds a commit and returns it.
    @discardableResult
    mutating func addCommit(
        parents: [String], files: [String: [UInt8]], executables: Set<String> = [], message: String, author: String
    ) -> FakeCommit {
        let commit = FakeCommit(
            hash: FakeIdentifiers.commitHash(), parents: parents, message: message, author: author,
            date: FakeIdentifiers.now(), files: files, executables: executables)
        commits[commit.hash] = commit
        commitOrder.append(commit.hash)
        return commit
    }
}
