import Foundation

/// Pipelines endpoints (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/):
/// trigger, list, get, stop, steps. Logs and the storage host are in `FakeBitbucketBackend+PipelineLogs.swift`.
extension FakeBitbucketBackend {
    static var pipelineRoutes: [FakeRoute] {
        let base: [FakeRoute.Segment] = ["repositories", .parameter, .parameter, "pipelines"]
        return [
            FakeRoute("GET", base, scope: "pipeline") { backend, request, captures in
                backend.listPipelines(request, captures)
            },
            FakeRoute("POST", base, scope: "pipeline:write") { backend, request, captures in
                backend.triggerPipeline(request, captures)
            },
            FakeRoute("GET", base + [.parameter], scope: "pipeline") { backend, request, captures in
                backend.withRun(captures) { run, repository in
                    // A partial response: `fields=+target.commit.message` adds the commit's message.
                    let message = request.queryValues("fields").contains { $0.contains("target.commit.message") }
                    return .json(backend.pipelineJSON(run, in: repository, commitMessage: message))
                }
            },
            FakeRoute("POST", base + [.parameter, "stopPipeline"], scope: "pipeline:write") {
                backend, request, captures in
                backend.stopPipeline(request, captures)
            },
            FakeRoute("GET", base + [.parameter, "steps"], scope: "pipeline") { backend, request, captures in
                backend.withRun(captures) { run, _ in
                    backend.paginate(
                        run.steps.map { backend.stepJSON($0, of: run) }, request: request, defaultPagelen: 10)
                }
            },
            FakeRoute("GET", base + [.parameter, "steps", .parameter], scope: "pipeline") {
                backend, request, captures in
                backend.withRun(captures) { run, _ in
                    guard let step = backend.step(captures[3], of: run) else {
                        return backend.stepNotFound(captures[3])
                    }
                    return .json(backend.stepJSON(step, of: run))
                }
            },
            FakeRoute("GET", base + [.parameter, "steps", .parameter, "log"], scope: "pipeline") {
                backend, request, captures in
                backend.stepLog(request, captures)
            },
        ]
    }

    // MARK: - Lookup

    /// Runs `body` with the run named by `captures[2]` (braced UUID or build number), or answers 404
    /// like the pipelines service (no `"type"`).
    func withRun(_ captures: [String], _ body: (FakePipelineRun, FakeRepository) -> FakeResponse) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        switch findRun(captures[2], in: repository) {
        case .success(let run): return body(run, repository)
        case .failure(let error): return error.response
        }
    }

    func findRun(_ id: String, in repository: FakeRepository) -> Result<FakePipelineRun, FakeResponseError> {
        let list = pipelineStore.runs[repositoryKey(repository.workspace, repository.slug)] ?? []
        if let number = Int(id) {
            if let run = list.first(where: { $0.buildNumber == number }) { return .success(run) }
            return .failure(
                FakeResponseError(
                    .error(
                        404, message: "Not found",
                        detail: .string(
                            "Pipeline with build number '\(number)' not found in repository \(repository.uuid)"),
                        data: ["key": "result-service.pipeline-id.not-found"], includeType: false)))
        }
        guard Self.isBracedUUID(id) else {
            return .failure(
                FakeResponseError(
                    .error(
                        404, message: "Not found", detail: "The value provided is not a valid uuid.", includeType: false
                    )))
        }
        if let run = list.first(where: { $0.uuid.lowercased() == id.lowercased() }) { return .success(run) }
        return .failure(
            FakeResponseError(
                .error(
                    404, message: "Not found", detail: .string("Pipeline \(id) not found."),
                    data: ["key": "result-service.pipeline.not-found"], includeType: false)))
    }

    static func isBracedUUID(_ value: String) -> Bool {
        guard value.hasPrefix("{"), value.hasSuffix("}") else { return false }
        return UUID(uuidString: String(value.dropFirst().dropLast())) != nil
    }

    func step(_ id: String, of run: FakePipelineRun) -> FakePipelineStepRun? {
        run.steps.first { $0.uuid.lowercased() == id.lowercased() }
    }

    func stepNotFound(_ id: String) -> FakeResponse {
        Self.isBracedUUID(id)
            ? .error(404, message: "Not found", detail: .string("Step \(id) not found."), includeType: false)
            : .error(404, message: "Not found", detail: "The value provided is not a valid uuid.", includeType: false)
    }

    /// Applies `change` to the stored run `uuid`; `false` when unknown.
    @discardableResult
    func mutateRun(_ uuid: String, _ change: (inout FakePipelineRun, Date) -> Void) -> Bool {
        guard let (key, index) = pipelineStore.locate(uuid) else { return false }
        let now = pipelineStore.now
        change(&pipelineStore.runs[key, default: []][index], now)
        return true
    }

    // MARK: - JSON

    func pipelineStateJSON(_ run: FakePipelineRun) -> FakeJSON {
        if let override = run.stateOverride { return override }
        switch run.phase {
        case .pending:
            return ["name": "PENDING", "type": "pipeline_state_pending"]
        case .running, .paused, .halted:
            let stage = run.phase == .running ? "RUNNING" : run.phase == .paused ? "PAUSED" : "HALTED"
            return [
                "name": "IN_PROGRESS", "type": "pipeline_state_in_progress",
                "stage": ["name": .string(stage), "type": .string("pipeline_state_in_progress_" + stage.lowercased())],
            ]
        case .completed(let result):
            var resultJSON: FakeJSON = [
                "name": .string(result), "type": .string("pipeline_state_completed_" + result.lowercased()),
            ]
            if result == "ERROR" {
                resultJSON = resultJSON.setting(
                    "error",
                    [
                        "type": "pipeline_error", "key": "agent.build.failed",
                        "message": .string(run.errorMessage ?? "The pipeline ended with an error."),
                    ])
            }
            if result == "STOPPED", let terminator = run.terminator {
                resultJSON = resultJSON.setting("terminator", terminator.json)
            }
            return ["name": "COMPLETED", "type": "pipeline_state_completed", "result": resultJSON]
        }
    }

    func pipelineJSON(_ run: FakePipelineRun, in repository: FakeRepository, commitMessage: Bool = false) -> FakeJSON {
        var target: [(String, FakeJSON)] = [("type", .string(run.targetType))]
        if let refType = run.refType { target.append(("ref_type", .string(refType))) }
        if let refName = run.refName { target.append(("ref_name", .string(refName))) }
        if let selectorType = run.selectorType {
            target.append(("selector", ["type": .string(selectorType), "pattern": .optional(run.selectorPattern)]))
        }
        if let commit = run.commit {
            var commitJSON: [(String, FakeJSON)] = [
                ("type", "commit"), ("hash", .string(commit)),
                (
                    "links",
                    [
                        "self": [
                            "href": .string(
                                "https://api.bitbucket.org/2.0/repositories/\(repository.fullName)/commit/\(commit)")
                        ],
                        "html": ["href": .string("https://bitbucket.org/\(repository.fullName)/commits/\(commit)")],
                    ]
                ),
            ]
            if commitMessage, let message = repository.commit(matching: commit)?.message {
                commitJSON.append(("message", .string(message)))
            }
            target.append(("commit", .object(commitJSON)))
        }
        let end = run.completedAt ?? pipelineStore.now
        let duration = run.startedAt.map { Int(end.timeIntervalSince($0)) } ?? 0
        // Links deliberately point at an internal host with raw braces, as real responses have been seen to.
        let internalLink =
            "https://bitbucket-pipelines.prod.public.atl-paas.net//rest/1.0/accounts/{fake}/repositories/\(repository.uuid)/pipelines/\(run.uuid)"
        var members: [(String, FakeJSON)] = [
            ("type", "pipeline"), ("uuid", .string(run.uuid)), ("build_number", .int(run.buildNumber)),
            (
                "repository",
                [
                    "type": "repository", "name": .string(repository.slug), "full_name": .string(repository.fullName),
                    "uuid": .string(repository.uuid),
                    "links": [
                        "self": ["href": .string("https://api.bitbucket.org/2.0/repositories/\(repository.fullName)")],
                        "html": ["href": .string("https://bitbucket.org/\(repository.fullName)")],
                    ],
                ]
            ),
            ("state", pipelineStateJSON(run)), ("creator", run.creator.json),
            ("created_on", .string(FakePipelineStore.timestamp(run.createdAt))),
            ("target", .object(target)),
            ("trigger", ["name": "MANUAL", "type": "pipeline_trigger_manual"]),
            ("run_number", 1), ("duration_in_seconds", .int(duration)), ("build_seconds_used", .int(duration)),
            ("first_successful", false), ("expired", false), ("has_variables", .bool(!run.variables.isEmpty)),
        ]
        if let completedAt = run.completedAt {
            members.append(("completed_on", .string(FakePipelineStore.timestamp(completedAt))))
        }
        if !run.variables.isEmpty {
            members.append(
                (
                    "variables",
                    .array(
                        run.variables.map {
                            [
                                "type": "pipeline_variable", "key": .string($0.key),
                                "value": .string($0.secured ? "" : $0.value), "secured": .bool($0.secured),
                            ]
                        })
                ))
        }
        members.append(
            ("links", ["self": ["href": .string(internalLink)], "steps": ["href": .string(internalLink + "/steps/")]]))
        return .object(members)
    }

    func stepStateJSON(_ step: FakePipelineStepRun) -> FakeJSON {
        switch step.phase {
        case .pending:
            return ["name": "PENDING", "type": "pipeline_step_state_pending"]
        case .inProgress:
            return ["name": "IN_PROGRESS", "type": "pipeline_step_state_in_progress"]
        case .completed(let result):
            return [
                "name": "COMPLETED", "type": "pipeline_step_state_completed",
                "result": [
                    "name": .string(result), "type": .string("pipeline_step_state_completed_" + result.lowercased()),
                ],
            ]
        }
    }

    func stepJSON(_ step: FakePipelineStepRun, of run: FakePipelineRun) -> FakeJSON {
        var members: [(String, FakeJSON)] = [
            ("type", "pipeline_step"), ("uuid", .string(step.uuid)), ("name", .string(step.script.name)),
            ("pipeline", ["type": "pipeline", "uuid": .string(run.uuid)]),
            (
                "trigger",
                [
                    "type": .string(
                        step.script.manual ? "pipeline_step_trigger_manual" : "pipeline_step_trigger_automatic")
                ]
            ),
            ("state", stepStateJSON(step)), ("maxTime", 120), ("run_number", 1),
            ("image", ["name": "atlassian/default-image:4"]),
            (
                "script_commands",
                .array(
                    step.script.lines.filter { $0.hasPrefix("+ ") }.map {
                        let command = String($0.dropFirst(2))
                        return ["commandType": "user", "command": .string(command), "name": .string(command)]
                    })
            ),
        ]
        if let startedAt = step.startedAt {
            members.append(("started_on", .string(FakePipelineStore.timestamp(startedAt))))
            let end = step.completedAt ?? pipelineStore.now
            members.append(("duration_in_seconds", .int(Int(end.timeIntervalSince(startedAt)))))
            members.append(("build_seconds_used", .int(Int(end.timeIntervalSince(startedAt)))))
        } else {
            members.append(("build_seconds_used", 0))
        }
        if let completedAt = step.completedAt {
            members.append(("completed_on", .string(FakePipelineStore.timestamp(completedAt))))
        }
        return .object(members)
    }

    // MARK: - List

    func listPipelines(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        var list = pipelineStore.runs[repositoryKey(repository.workspace, repository.slug)] ?? []
        let filters: [(String, (FakePipelineRun, String) -> Bool)] = [
            ("target.branch", { $0.refName == $1 && ($0.refType ?? "branch") != "tag" }),
            ("target.ref_name", { $0.refName == $1 }),
            ("target.ref_type", { ($0.refType ?? "").uppercased() == $1.uppercased() }),
            ("target.commit.hash", { $0.commit == $1 }),
            ("target.selector.pattern", { $0.selectorPattern == $1 }),
            ("target.selector.type", { ($0.selectorType ?? "").uppercased() == $1.uppercased() }),
        ]
        for (name, matches) in filters {
            for value in request.queryValues(name) { list = list.filter { matches($0, value) } }
        }
        switch request.queryValue("sort") {
        case nil, "created_on", "run_creation_date", "creator.uuid":
            list.sort { $0.sequence < $1.sequence }
        case "-created_on", "-run_creation_date", "-creator.uuid":
            list.sort { $0.sequence > $1.sequence }
        case let other?:
            return .error(
                400, message: "Bad request", detail: .string("Invalid sort field: \(other)"),
                data: ["key": "rest-service.request.invalid-sort"], includeType: false)
        }
        return paginate(
            list.map { pipelineJSON($0, in: repository) }, request: request, defaultPagelen: 10,
            omitNext: pipelineStore.omitNext)
    }

    // MARK: - Trigger

    func triggerPipeline(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        guard case .success(let repository) = self.repository(captures[0], captures[1]) else {
            return repositoryNotFound(captures)
        }
        var dropAfterCreating = false
        if !pipelineStore.pendingTriggerFailures.isEmpty {
            switch pipelineStore.pendingTriggerFailures.removeFirst() {
            case .serverError: return .error(500, message: "Internal Server Error")
            case .tooManyRequests: return Self.rateLimitResponse
            case .unauthorized: return Self.basicLoginFailed
            case .acceptThenDrop: dropAfterCreating = true
            }
        }
        let run: FakePipelineRun
        switch makeRun(request, repository) {
        case .failure(let error): return error.response
        case .success(let made): run = made
        }
        let key = repositoryKey(repository.workspace, repository.slug)
        pipelineStore.runs[key, default: []].append(run)
        var response = FakeResponse.json(
            pipelineJSON(run, in: repository), status: 201,
            headers: [
                (
                    "Location",
                    apiRoot(of: request) + "/repositories/\(repository.fullName)/pipelines/"
                        + FakeIdentifiers.encode(run.uuid)
                )
            ])
        if dropAfterCreating {
            response.holdFor = pipelineStore.acceptThenDropDelay
            response.dropsConnection = true
        }
        return response
    }

    /// Validates the trigger body and builds the run (not stored yet).
    func makeRun(_ request: FakeRequest, _ repository: FakeRepository) -> Result<FakePipelineRun, FakeResponseError> {
        func bad(_ detail: String, key: String = "rest-service.request.invalid-body") -> Result<
            FakePipelineRun, FakeResponseError
        > {
            .failure(
                FakeResponseError(
                    .error(400, message: "Bad request", detail: .string(detail), data: ["key": .string(key)])))
        }
        guard let body = FakeJSON.parse(request.body), case .object = body else {
            return bad("The request body is not valid JSON.")
        }
        guard let target = body["target"], case .object = target else {
            return .failure(
                FakeResponseError(.error(400, message: "Bad request", fields: ["target": ["This field is required."]])))
        }
        let type = target["type"]?.stringValue ?? ""
        var refType = target["ref_type"]?.stringValue
        var refName = target["ref_name"]?.stringValue
        var commit = target["commit"]?["hash"]?.stringValue
        let selectorType = target["selector"]?["type"]?.stringValue
        let selectorPattern = target["selector"]?["pattern"]?.stringValue
        switch type {
        case "pipeline_ref_target":
            guard let kind = refType, ["branch", "named_branch", "bookmark", "tag"].contains(kind) else {
                return bad("target.ref_type must be one of branch, named_branch, bookmark, tag.")
            }
            guard let name = refName, !name.isEmpty else { return bad("target.ref_name is required.") }
            if kind == "tag", commit == nil {
                // A tag target needs `commit` (a tag has no head to run); Bitbucket answered 500 without it.
                return .failure(FakeResponseError(.error(500, message: "Internal Server Error")))
            }
            if commit == nil {
                guard let head = repository.branches[name] else {
                    return bad("Branch '\(name)' not found.", key: "result-service.pipeline.ref-not-found")
                }
                commit = head
            }
        case "pipeline_commit_target":
            guard commit != nil else { return bad("target.commit.hash is required.") }
            refType = nil
            refName = nil
        case "pipeline_pullrequest_target":
            guard commit != nil, let source = target["source"]?.stringValue else {
                return bad("target.source and target.commit.hash are required.")
            }
            refType = nil
            refName = source
        default:
            return bad("Unknown target type '\(type)'.")
        }
        guard let hash = commit, let found = repository.commit(matching: hash) else {
            return bad("Commit '\(commit ?? "")' not found.", key: "result-service.pipeline.commit-not-found")
        }
        commit = found.hash
        if selectorType != nil, selectorPattern == nil, selectorType == "custom" {
            return bad("target.selector.pattern is required for custom pipelines.")
        }
        let yml = found.files["bitbucket-pipelines.yml"].map { String(decoding: $0, as: UTF8.self) }
        if yml == nil, pipelineStore.requiresPipelinesYML {
            return bad(
                "The bitbucket-pipelines.yml file does not exist in the repository for the given revision.",
                key: "result-service.pipeline.yml-not-found")
        }
        if selectorType == "custom", let pattern = selectorPattern, let yml,
            !yml.contains("\(pattern):") && !yml.contains("'\(pattern)':") && !yml.contains("\"\(pattern)\":")
        {
            return bad(
                "Requested selector is not found in bitbucket-pipelines.yml.",
                key: "result-service.pipeline.selector-not-found")
        }
        var variables: [FakePipelineVariable] = []
        if case .array(let items)? = body["variables"] {
            for item in items {
                guard let key = item["key"]?.stringValue, !key.isEmpty else {
                    return bad("Every variable needs a key.")
                }
                variables.append(
                    FakePipelineVariable(
                        key: key, value: item["value"]?.stringValue ?? "", secured: item["secured"]?.boolValue ?? false)
                )
            }
        }
        let key = repositoryKey(repository.workspace, repository.slug)
        let number = (pipelineStore.lastBuildNumber[key] ?? 0) + 1
        pipelineStore.lastBuildNumber[key] = number
        pipelineStore.sequence += 1
        pipelineStore.clockOffset += 0.001
        let script = pipelineStore.scripts[key] ?? pipelineStore.defaultScript
        let creator = authenticatedUser(request) ?? FakeUser(displayName: "Fake User", nickname: "fake")
        return .success(
            FakePipelineRun(
                uuid: FakeIdentifiers.uuid(), buildNumber: number, sequence: pipelineStore.sequence, targetType: type,
                refType: refType, refName: refName, commit: commit, selectorType: selectorType,
                selectorPattern: selectorPattern, variables: variables, creator: creator,
                steps: script.map { FakePipelineStepRun(uuid: FakeIdentifiers.uuid(), script: $0) },
                createdAt: pipelineStore.now))
    }

    func authenticatedUser(_ request: FakeRequest) -> FakeUser? {
        if case .success(let credential) = authenticate(request) { return credential.user }
        return nil
    }

    // MARK: - Stop

    func stopPipeline(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        withRun(captures) { run, _ in
            if case .completed = run.phase {
                return .error(
                    400, message: "Bad request", detail: "The pipeline has already completed.",
                    data: ["key": "result-service.pipeline.already-completed"], includeType: false)
            }
            let user = authenticatedUser(request) ?? run.creator
            mutateRun(run.uuid) { run, now in run.stop(by: user, at: now) }
            return .empty(204)
        }
    }
}
