extension FakeBitbucketBackend {
    static var sourceRoutes: [FakeRoute] {
        let base: [FakeRoute.Segment] = ["repositories", .parameter, .parameter, "src"]
        return [
            FakeRoute("POST", base, scope: "repository:write") { backend, request, captures in
                backend.createCommit(request, captures)
            },
            FakeRoute("GET", base, scope: "repository") { backend, request, captures in
                guard case .success(let repository) = backend.repository(captures[0], captures[1]) else {
                    return backend.repositoryNotFound(captures)
                }
                guard let main = repository.mainBranch, let tip = repository.branches[main] else {
                    return .error(404, message: "Repository is empty")
                }
                return .empty(
                    302,
                    headers: [
                        ("Location", backend.apiRoot(of: request) + "/repositories/\(repository.fullName)/src/\(tip)/")
                    ])
            },
            FakeRoute("GET", base + [.parameter, .optionalRest], scope: "repository") { backend, request, captures in
                backend.readSource(request, captures)
            },
        ]
    }

    // MARK: - GET /src/{commit}/{path}

    /// Resolves `{commit-or-branch}/{path…}`: a hash (or unique ≥7 prefix), else the longest branch
    /// name made of leading segments.
    func resolveReference(_ segments: [String], in repository: FakeRepository) -> (FakeCommit, String)? {
        guard let first = segments.first else { return nil }
        if let commit = repository.commit(matching: first) {
            return (commit, segments.dropFirst().joined(separator: "/"))
        }
        for length in stride(from: segments.count, through: 1, by: -1) {
            let name = segments.prefix(length).joined(separator: "/")
            if let hash = repository.branches[name], let commit = repository.commits[hash] {
                return (commit, segments.dropFirst(length).joined(separator: "/"))
            }
        }
        return nil
    }

    func readSource(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        let segments = [captures[2]] + captures[3].split(separator: "/").map(String.init)
        guard let resolved = resolveReference(segments, in: repository) else {
            return .error(
                404, message: "Commit not found", detail: .string("No commit or branch named \(captures[2])."))
        }
        let (commit, path) = resolved
        if let contents = commit.files[path] {
            if request.queryValue("format") == "meta" {
                return .json(fileEntryJSON(path, commit: commit, in: repository))
            }
            return FakeResponse(
                status: 200,
                headers: [
                    ("Content-Type", Self.contentType(for: path)), ("Content-Disposition", "attachment"),
                    ("ETag", "\"\(commit.hash.prefix(12))-\(contents.count)\""),
                ],
                body: contents)
        }
        let prefix = path.isEmpty ? "" : path + "/"
        guard path.isEmpty || commit.files.keys.contains(where: { $0.hasPrefix(prefix) }) else {
            return .error(404, message: "No such file or directory: \(path)")
        }
        let depth = max(1, Int(request.queryValue("max_depth") ?? "1") ?? 1)
        let entries = listing(of: path, depth: depth, commit: commit).map { entry in
            entry.isDirectory
                ? directoryEntryJSON(entry.path, commit: commit, in: repository)
                : fileEntryJSON(entry.path, commit: commit, in: repository)
        }
        return paginate(entries, request: request)
    }

    /// Entries under `directory` down to `depth` levels, sorted by path (directories listed too).
    func listing(of directory: String, depth: Int, commit: FakeCommit) -> [(path: String, isDirectory: Bool)] {
        let prefix = directory.isEmpty ? "" : directory + "/"
        var entries: [String: Bool] = [:]
        for file in commit.files.keys where file.hasPrefix(prefix) {
            let relative = file.dropFirst(prefix.count).split(separator: "/").map(String.init)
            for level in 1...min(depth, relative.count) {
                let path = prefix + relative.prefix(level).joined(separator: "/")
                entries[path] = level < relative.count
            }
        }
        return entries.keys.sorted().map { ($0, entries[$0] ?? false) }
    }

    func fileEntryJSON(_ path: String, commit: FakeCommit, in repository: FakeRepository) -> FakeJSON {
        [
            "type": "commit_file", "path": .string(path), "escaped_path": .string(path),
            "size": .int(commit.files[path]?.count ?? 0), "mimetype": .null,
            "attributes": commit.executables.contains(path) ? ["executable"] : [],
            "commit": ["type": "commit", "hash": .string(commit.hash)],
            "links": [
                "self": [
                    "href": .string(
                        "https://api.bitbucket.org/2.0/repositories/\(repository.fullName)/src/\(commit.hash)/\(path)")
                ]
            ],
        ]
    }

    func directoryEntryJSON(_ path: String, commit: FakeCommit, in repository: FakeRepository) -> FakeJSON {
        [
            "type": "commit_directory", "path": .string(path), "escaped_path": .string(path),
            "commit": ["type": "commit", "hash": .string(commit.hash)],
            "links": [
                "self": [
                    "href": .string(
                        "https://api.bitbucket.org/2.0/repositories/\(repository.fullName)/src/\(commit.hash)/\(path)/")
                ]
            ],
        ]
    }

    static func contentType(for path: String) -> String {
        switch path.split(separator: ".").last?.lowercased() {
        case "yml", "yaml": "text/x-yaml"
        case "json": "application/json"
        case "md", "txt", "conf": "text/plain"
        case "js": "application/javascript"
        case "swift", "py", "go", "rb": "text/x-source"
        default: "application/octet-stream"
        }
    }

    // MARK: - POST /src

    static let reservedFormFields: Set<String> = ["message", "author", "branch", "parents", "files"]

    /// `POST /src` (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-source/#api-repositories-workspace-repo-slug-src-post):
    /// form fields only; a `branch` in the query is ignored, as Bitbucket has been seen to do (the commit
    /// then lands on the main branch).
    func createCommit(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(var repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        let contentType = request.header("Content-Type")?.lowercased() ?? ""
        var fields: [FakeFormParser.Field]
        if contentType.hasPrefix("multipart/form-data") {
            guard let boundary = FakeFormParser.boundary(fromContentType: request.header("Content-Type") ?? ""),
                let parsed = FakeFormParser.parseMultipart(request.body, boundary: boundary)
            else { return .error(400, message: "Malformed multipart body") }
            fields = parsed
        } else if contentType.hasPrefix("application/x-www-form-urlencoded") {
            fields = FakeFormParser.parseURLEncoded(request.bodyText).map {
                FakeFormParser.Field(name: $0.name, value: Array($0.value.utf8))
            }
        } else {
            return .error(
                400, message: "Unsupported Content-Type; use multipart/form-data or application/x-www-form-urlencoded")
        }
        guard !fields.isEmpty else { return .error(400, message: "Bad request", detail: .string("The form is empty.")) }

        func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.text) }
        let branchValues = values("branch")
        guard branchValues.count <= 1 else {
            return .error(400, message: "Bad request", fields: ["branch": ["branch cannot be repeated"]])
        }
        let parents = values("parents").flatMap {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        .filter { !$0.isEmpty }
        let message = values("message").first ?? "Edited online with Bitbucket"
        let author = values("author").first ?? "Fake User <fake@example.com>"
        var writes: [String: FakeFormParser.Field] = [:]
        for field in fields where !Self.reservedFormFields.contains(field.name) {
            let path = field.name.hasPrefix("/") ? String(field.name.dropFirst()) : field.name
            guard !path.isEmpty else { return .error(400, message: "Bad request", detail: .string("Empty file path.")) }
            writes[path] = field
        }
        let listed = Set(values("files").map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 })

        let branch = branchValues.first ?? repository.mainBranchName
        var base: FakeCommit?
        if let tip = repository.branches[branch] {
            if let expected = parents.first, repository.commit(matching: expected)?.hash != tip {
                return .error(
                    409, message: "Conflict",
                    detail: .string(
                        "The parents \(parents.joined(separator: ",")) do not match the tip of \(branch) (\(tip)); the branch has moved."
                    ))
            }
            base = repository.commits[tip]
        } else if let expected = parents.first {
            guard let parent = repository.commit(matching: expected) else {
                return .error(404, message: "Commit \(expected) not found")
            }
            base = parent
        } else if let main = repository.mainBranch, let tip = repository.branches[main] {
            base = repository.commits[tip]
        }
        var files = base?.files ?? [:]
        var executables = base?.executables ?? []
        for path in listed where writes[path] == nil {
            files[path] = nil
            executables.remove(path)
        }
        for (path, field) in writes {
            files[path] = field.value
            if field.attributes?.contains("executable") == true {
                executables.insert(path)
            } else {
                executables.remove(path)
            }
        }
        let wasEmpty = repository.branches.isEmpty
        let commit = repository.addCommit(
            parents: base.map { [$0.hash] } ?? [], files: files, executables: executables, message: message,
            author: author)
        repository.branches[branch] = commit.hash
        if wasEmpty { repository.mainBranchName = branch }
        update(repository)
        return .empty(201)
    }
}
