extension FakeBitbucketBackend {
    static var branchRoutes: [FakeRoute] {
        let base: [FakeRoute.Segment] = ["repositories", .parameter, .parameter, "refs", "branches"]
        return [
            FakeRoute("GET", base, scope: "repository") { backend, request, captures in
                backend.listBranches(request, captures)
            },
            FakeRoute("POST", base, scope: "repository:write") { backend, request, captures in
                backend.createBranch(request, captures)
            },
            FakeRoute("GET", base + [.rest], scope: "repository") { backend, request, captures in
                backend.getBranch(request, captures)
            },
            FakeRoute("DELETE", base + [.rest], scope: "repository:write") { backend, request, captures in
                backend.deleteBranch(request, captures)
            },
        ]
    }

    func branchJSON(_ name: String, in repository: FakeRepository) -> FakeJSON {
        let target = repository.branches[name].flatMap { repository.commits[$0] }
        return [
            "type": "branch", "name": .string(name),
            "target": target.map { commitJSON($0, in: repository) } ?? .null,
            "links": [
                "self": [
                    "href": .string(
                        "https://api.bitbucket.org/2.0/repositories/\(repository.fullName)/refs/branches/\(name)")
                ],
                "html": ["href": .string("https://bitbucket.org/\(repository.fullName)/branch/\(name)")],
            ],
            "merge_strategies": ["merge_commit", "squash", "fast_forward"], "default_merge_strategy": "merge_commit",
        ]
    }

    func listBranches(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        var names = repository.branches.keys.sorted()
        if let q = request.queryValue("q") {
            switch FakeQuery.parse(q) {
            case .failure(let error): return error.response
            case .success(let query): names = names.filter { query.matches(["name": $0]) }
            }
        }
        return paginate(names.map { branchJSON($0, in: repository) }, request: request)
    }

    func getBranch(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        guard repository.branches[captures[2]] != nil else {
            return .error(404, message: "Branch \"\(captures[2])\" does not exist.")
        }
        return .json(branchJSON(captures[2], in: repository))
    }

    func createBranch(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(var repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        guard let body = FakeJSON.parse(request.body), let name = body["name"]?.stringValue, !name.isEmpty else {
            return .error(400, message: "Bad request", fields: ["name": ["This field is required."]])
        }
        guard let hash = body["target"]?["hash"]?.stringValue, let commit = repository.commit(matching: hash) else {
            return .error(400, message: "Bad request", fields: ["target": ["A valid target hash is required."]])
        }
        guard repository.branches[name] == nil else {
            return .error(400, message: "BRANCH_ALREADY_EXISTS", detail: .string("Branch \"\(name)\" already exists."))
        }
        repository.branches[name] = commit.hash
        update(repository)
        return .json(
            branchJSON(name, in: repository), status: 201,
            headers: [("Location", apiRoot(of: request) + "/repositories/\(repository.fullName)/refs/branches/\(name)")]
        )
    }

    func deleteBranch(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(var repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        let name = captures[2]
        guard repository.branches[name] != nil else {
            return .error(404, message: "Branch \"\(name)\" does not exist.")
        }
        guard name != repository.mainBranch else {
            return .error(400, message: "Bad request", detail: .string("Cannot delete the main branch."))
        }
        repository.branches[name] = nil
        update(repository)
        return .empty(204)
    }

    func repositoryNotFound(_ captures: [String]) -> FakeResponse {
        .error(404, message: "Repository \(captures[0])/\(captures[1]) not found")
    }
}
