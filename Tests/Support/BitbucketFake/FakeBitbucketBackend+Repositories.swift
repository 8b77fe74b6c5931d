extension FakeBitbucketBackend {
    static var userRoutes: [FakeRoute] {
        [
            FakeRoute("GET", ["user"], scope: "account") { backend, request, _ in
                guard case .success(let credential) = backend.authenticate(request) else { return .empty(401) }
                return .json(credential.user.json)
            }
        ]
    }

    static var repositoryRoutes: [FakeRoute] {
        [
            FakeRoute("GET", ["repositories", .parameter, .parameter], scope: "repository") {
                backend, request, captures in
                switch backend.repository(captures[0], captures[1]) {
                case .failure(let error): return error.response
                case .success(let repository): return .json(backend.repositoryJSON(repository))
                }
            }
        ]
    }

    func repositoryJSON(_ repository: FakeRepository) -> FakeJSON {
        var json: FakeJSON = [
            "type": "repository", "uuid": .string(repository.uuid), "full_name": .string(repository.fullName),
            "name": .string(repository.slug), "slug": .string(repository.slug), "scm": "git",
            "is_private": .bool(repository.isPrivate),
            "workspace": ["type": "workspace", "slug": .string(repository.workspace)],
            "links": [
                "self": ["href": .string("https://api.bitbucket.org/2.0/repositories/\(repository.fullName)")],
                "html": ["href": .string("https://bitbucket.org/\(repository.fullName)")],
            ],
        ]
        if let main = repository.mainBranch {
            json = json.setting("mainbranch", ["name": .string(main), "type": "branch"])
        }
        return json
    }

    func commitJSON(_ commit: FakeCommit, in repository: FakeRepository) -> FakeJSON {
        [
            "type": "commit", "hash": .string(commit.hash), "date": .string(commit.date),
            "message": .string(commit.message),
            "author": ["type": "author", "raw": .string(commit.author)],
            "parents": .array(commit.parents.map { ["type": "commit", "hash": .string($0)] }),
            "links": [
                "self": [
                    "href": .string(
                        "https://api.bitbucket.org/2.0/repositories/\(repository.fullName)/commit/\(commit.hash)")
                ],
                "html": ["href": .string("https://bitbucket.org/\(repository.fullName)/commits/\(commit.hash)")],
            ],
        ]
    }
}
