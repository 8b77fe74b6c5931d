import Foundation

extension LiveBitbucketClient {
    /// `GET …/pullrequests?state=…&q=…`, all pages (pagelen 50, the endpoint's maximum). See
    /// ``BitbucketAPI/pullRequests(workspace:slug:state:sourceBranch:destinationBranch:)``.
    public func pullRequests(
        workspace: String, slug: String, state: BitbucketPullRequest.State?, sourceBranch: String?,
        destinationBranch: String?
    ) async throws(BitbucketError) -> [BitbucketPullRequest] {
        var query: [(String, String)] = []
        if let state { query.append(("state", state.rawValue)) }
        var conditions: [String] = []
        if let sourceBranch { conditions.append("source.branch.name=\(Self.bbqlString(sourceBranch))") }
        if let destinationBranch { conditions.append("destination.branch.name=\(Self.bbqlString(destinationBranch))") }
        if !conditions.isEmpty { query.append(("q", conditions.joined(separator: " AND "))) }
        return try await collectPages(
            repositoryPath(workspace, slug, "pullrequests"), query: query, pagelen: 50,
            key: { (pullRequest: BitbucketPullRequest) in String(pullRequest.id) })
    }

    /// `POST …/pullrequests` (not retried). See ``BitbucketAPI/createPullRequest(workspace:slug:draft:)``.
    public func createPullRequest(workspace: String, slug: String, draft: BitbucketPullRequestDraft)
        async throws(BitbucketError) -> BitbucketPullRequest
    {
        let response = try await perform(
            method: "POST", url: url(repositoryPath(workspace, slug, "pullrequests")), body: try encode(draft),
            contentType: "application/json", idempotent: false)
        return try decode(BitbucketPullRequest.self, from: response)
    }

    /// `PUT …/pullrequests/{id}` with `{"title", "description"}` (retried: idempotent). See
    /// ``BitbucketAPI/updatePullRequest(workspace:slug:id:title:description:)``.
    public func updatePullRequest(workspace: String, slug: String, id: Int, title: String, description: String)
        async throws(BitbucketError) -> BitbucketPullRequest
    {
        struct Update: Encodable {
            var title: String
            var description: String
        }
        let response = try await perform(
            method: "PUT", url: url(repositoryPath(workspace, slug, "pullrequests", String(id))),
            body: try encode(Update(title: title, description: description)), contentType: "application/json")
        return try decode(BitbucketPullRequest.self, from: response)
    }

    /// A BBQL string literal: `"…"` with `\` and `"` escaped.
    static func bbqlString(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
