import PipewrightCore

extension LiveBitbucketClient {
    /// `GET /user`. See ``BitbucketAPI/currentUser()``.
    public func currentUser() async throws(BitbucketError) -> BitbucketUser {
        try decode(BitbucketUser.self, from: try await perform(method: "GET", url: url(["user"])))
    }

    /// `GET /repositories/{workspace}/{repo_slug}`. See ``BitbucketAPI/repository(workspace:slug:)``.
    public func repository(workspace: String, slug: String) async throws(BitbucketError) -> BitbucketRepository {
        let response = try await perform(method: "GET", url: url(repositoryPath(workspace, slug)))
        return try decode(BitbucketRepository.self, from: response)
    }

    /// `GET …/refs/branches/{name}` with `name` split into path segments. See
    /// ``BitbucketAPI/branch(workspace:slug:name:)``.
    public func branch(workspace: String, slug: String, name: String) async throws(BitbucketError)
        -> BitbucketBranch?
    {
        let segments = repositoryPath(workspace, slug, "refs", "branches") + Self.segments(of: name)
        do throws(BitbucketError) {
            return try decode(BitbucketBranch.self, from: try await perform(method: "GET", url: url(segments)))
        } catch .notFound {
            return nil
        }
    }

    /// `GET …/src/{commit}/{path}/?max_depth=N`, all pages. See
    /// ``BitbucketAPI/listDirectory(workspace:slug:commit:path:maxDepth:)``.
    public func listDirectory(workspace: String, slug: String, commit: String, path: String, maxDepth: Int)
        async throws(BitbucketError) -> [BitbucketSourceEntry]
    {
        let segments = repositoryPath(workspace, slug, "src", commit) + Self.segments(of: path)
        var query: [(String, String)] = []
        if maxDepth > 1 { query.append(("max_depth", String(maxDepth))) }
        return try await collectPages(
            segments, trailingSlash: true, query: query, pagelen: 100,
            key: { (entry: BitbucketSourceEntry) in entry.path })
    }

    /// `GET …/src/{commit}/{path}` raw bytes; `nil` on 404. See
    /// ``BitbucketAPI/fileContents(workspace:slug:commit:path:)``.
    public func fileContents(workspace: String, slug: String, commit: String, path: String)
        async throws(BitbucketError) -> [UInt8]?
    {
        let segments = repositoryPath(workspace, slug, "src", commit) + Self.segments(of: path)
        do throws(BitbucketError) {
            return try await perform(method: "GET", url: url(segments), accept: "*/*", followRedirects: true).body
        } catch .notFound {
            return nil
        }
    }

    /// `POST …/src` as `multipart/form-data`, then reads the branch. See
    /// ``BitbucketAPI/createCommit(workspace:slug:branch:parents:message:author:changes:)``.
    public func createCommit(
        workspace: String, slug: String, branch: String, parents: [String], message: String, author: String?,
        changes: [BitbucketFileChange]
    ) async throws(BitbucketError) -> BitbucketBranch {
        var form = MultipartFormData(boundary: Self.makeBoundary())
        for change in changes {
            if case .write(_, let contents, let executable) = change {
                let path = change.path
                form.addFile(
                    name: "/" + path, filename: path.split(separator: "/").last.map(String.init) ?? path,
                    contents: contents, attributes: executable ? "executable" : nil)
            }
        }
        form.addField(name: "message", value: message)
        if let author { form.addField(name: "author", value: author) }
        form.addField(name: "branch", value: branch)
        if !parents.isEmpty { form.addField(name: "parents", value: parents.joined(separator: ",")) }
        for change in changes {
            if case .delete = change { form.addField(name: "files", value: change.path) }
        }
        _ = try await perform(
            method: "POST", url: url(repositoryPath(workspace, slug, "src")), body: form.finished(),
            contentType: form.contentType, idempotent: false)
        guard let head = try await self.branch(workspace: workspace, slug: slug, name: branch) else {
            throw .invalidResponse(reason: "branch '\(branch)' is missing right after the commit")
        }
        return head
    }

    /// Non-empty `/`-separated parts of a branch name or path.
    static func segments(of path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    /// A random multipart boundary (`pipewright-` + 32 hex digits).
    static func makeBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return "pipewright-" + String(high, radix: 16) + String(low, radix: 16)
    }
}
