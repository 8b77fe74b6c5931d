extension FakeBitbucketBackend {
    static var pullRequestRoutes: [FakeRoute] {
        let base: [FakeRoute.Segment] = ["repositories", .parameter, .parameter, "pullrequests"]
        return [
            FakeRoute("GET", base, scope: "pullrequest") { backend, request, captures in
                backend.listPullRequests(request, captures)
            },
            FakeRoute("POST", base, scope: "pullrequest:write") { backend, request, captures in
                backend.createPullRequest(request, captures)
            },
            FakeRoute("GET", base + [.parameter], scope: "pullrequest") { backend, request, captures in
                backend.withPullRequest(captures) { repository, index in
                    .json(backend.pullRequestJSON(repository.pullRequests[index], in: repository))
                }
            },
            FakeRoute("PUT", base + [.parameter], scope: "pullrequest:write") { backend, request, captures in
                backend.updatePullRequest(request, captures)
            },
        ]
    }

    func pullRequestJSON(_ pullRequest: FakePullRequest, in repository: FakeRepository) -> FakeJSON {
        let repositoryRef: FakeJSON = [
            "type": "repository", "full_name": .string(repository.fullName), "uuid": .string(repository.uuid),
        ]
        func endpoint(_ branch: String) -> FakeJSON {
            [
                "branch": ["name": .string(branch)],
                "commit": repository.branches[branch].map {
                    ["type": "commit", "hash": .string(String($0.prefix(12)))]
                }
                    ?? .null,
                "repository": repositoryRef,
            ]
        }
        let api = "https://api.bitbucket.org/2.0/repositories/\(repository.fullName)/pullrequests/\(pullRequest.id)"
        return [
            "type": "pullrequest", "id": .int(pullRequest.id), "title": .string(pullRequest.title),
            "description": .string(pullRequest.description), "state": .string(pullRequest.state),
            "close_source_branch": .bool(pullRequest.closeSourceBranch), "created_on": .string(pullRequest.createdOn),
            "updated_on": .string(pullRequest.createdOn),
            "source": endpoint(pullRequest.sourceBranch), "destination": endpoint(pullRequest.destinationBranch),
            "reviewers": [], "participants": [], "comment_count": 0, "task_count": 0,
            "links": [
                "self": ["href": .string(api)],
                "html": [
                    "href": .string("https://bitbucket.org/\(repository.fullName)/pull-requests/\(pullRequest.id)")
                ],
                "commits": ["href": .string(api + "/commits")],
            ],
            "summary": ["type": "rendered", "raw": .string(pullRequest.description), "markup": "markdown"],
        ]
    }

    func listPullRequests(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        let states = Set(request.queryValues("state").map { $0.uppercased() })
        var selected = repository.pullRequests.filter { (states.isEmpty ? ["OPEN"] : states).contains($0.state) }
        if let q = request.queryValue("q") {
            switch FakeQuery.parse(q) {
            case .failure(let error): return error.response
            case .success(let query):
                selected = selected.filter {
                    query.matches([
                        "source.branch.name": $0.sourceBranch, "destination.branch.name": $0.destinationBranch,
                        "state": $0.state, "title": $0.title, "id": String($0.id),
                    ])
                }
            }
        }
        return paginate(selected.map { pullRequestJSON($0, in: repository) }, request: request)
    }

    func createPullRequest(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(var repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        guard let body = FakeJSON.parse(request.body) else {
            return .error(400, message: "Bad request", detail: "Invalid JSON")
        }
        guard let title = body["title"]?.stringValue, !title.isEmpty else {
            return .error(400, message: "Bad request", fields: ["title": ["This field is required."]])
        }
        guard let source = body["source"]?["branch"]?["name"]?.stringValue else {
            return .error(
                400, message: "Bad request",
                detail: "You must specify a valid source branch when creating a pull request.",
                fields: ["source": ["This field is required."]])
        }
        guard let sourceTip = repository.branches[source] else {
            return .error(
                400, message: "Bad request",
                detail: "You must specify a valid source branch when creating a pull request.",
                fields: ["source": ["branch not found: \(source)"]])
        }
        guard let destination = body["destination"]?["branch"]?["name"]?.stringValue ?? repository.mainBranch,
            let destinationTip = repository.branches[destination]
        else {
            return .error(400, message: "Bad request", fields: ["destination": ["branch not found"]])
        }
        if repository.isAncestor(sourceTip, of: destinationTip) {
            return .error(400, message: "There are no changes to be pulled")
        }
        let pullRequest = FakePullRequest(
            id: repository.nextPullRequestID, title: title, description: body["description"]?.stringValue ?? "",
            state: "OPEN", sourceBranch: source, destinationBranch: destination,
            closeSourceBranch: body["close_source_branch"]?.boolValue ?? false, createdOn: FakeIdentifiers.now())
        repository.nextPullRequestID += 1
        repository.pullRequests.append(pullRequest)
        update(repository)
        return .json(
            pullRequestJSON(pullRequest, in: repository), status: 201,
            headers: [
                (
                    "Location",
                    apiRoot(of: request) + "/repositories/\(repository.fullName)/pullrequests/\(pullRequest.id)"
                )
            ])
    }

    func updatePullRequest(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard let body = FakeJSON.parse(request.body) else {
            return .error(400, message: "Bad request", detail: "Invalid JSON")
        }
        return withPullRequest(captures) { repository, index in
            var repository = repository
            if let title = body["title"]?.stringValue { repository.pullRequests[index].title = title }
            if let description = body["description"]?.stringValue {
                repository.pullRequests[index].description = description
            }
            if let destination = body["destination"]?["branch"]?["name"]?.stringValue {
                guard repository.branches[destination] != nil else {
                    return .error(400, message: "Bad request", fields: ["destination": ["branch not found"]])
                }
                repository.pullRequests[index].destinationBranch = destination
            }
            if let close = body["close_source_branch"]?.boolValue {
                repository.pullRequests[index].closeSourceBranch = close
            }
            update(repository)
            return .json(pullRequestJSON(repository.pullRequests[index], in: repository))
        }
    }

    /// Looks up `captures[2]` as a pull-request id and calls `body`, or returns 404.
    func withPullRequest(_ captures: [String], _ body: (FakeRepository, Int) -> FakeResponse) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        guard let id = Int(captures[2]), let index = repository.pullRequests.firstIndex(where: { $0.id == id }) else {
            return .error(404, message: "Pull request \(captures[2]) not found")
        }
        return body(repository, index)
    }
}
