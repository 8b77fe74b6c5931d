import Foundation

/// Test controls for pipelines, called by ``FakeBitbucketServer`` (see `FakeBitbucketServer+Pipelines.swift`).
extension FakeBitbucketBackend {
    func setPipelineScript(_ workspace: String, _ slug: String, steps: [FakeStepScript]) {
        pipelineStore.scripts[repositoryKey(workspace, slug)] = steps
    }

    func replaceScript(of uuid: String, steps: [FakeStepScript]) -> Bool {
        mutateRun(uuid) { run, _ in
            run.steps = steps.map { FakePipelineStepRun(uuid: FakeIdentifiers.uuid(), script: $0) }
        }
    }

    func injectTriggerFailures(_ failures: [FakeTriggerFailure]) { pipelineStore.pendingTriggerFailures += failures }

    func setPipelineBehaviour(
        omitNext: Bool?, honoursLogRange: Bool?, storageHonoursRange: Bool?, redirectsCompletedLogs: Bool?,
        requiresPipelinesYML: Bool?, acceptThenDropDelay: Duration?
    ) {
        if let omitNext { pipelineStore.omitNext = omitNext }
        if let honoursLogRange { pipelineStore.honoursLogRange = honoursLogRange }
        if let storageHonoursRange { pipelineStore.storageHonoursRange = storageHonoursRange }
        if let redirectsCompletedLogs { pipelineStore.redirectsCompletedLogs = redirectsCompletedLogs }
        if let requiresPipelinesYML { pipelineStore.requiresPipelinesYML = requiresPipelinesYML }
        if let acceptThenDropDelay { pipelineStore.acceptThenDropDelay = acceptThenDropDelay }
    }

    /// Creates a `PENDING` run directly (no HTTP), on `branch` at `commit` (default: the branch head).
    func seedPipeline(_ workspace: String, _ slug: String, branch: String, commit: String?, steps: [FakeStepScript]?)
        -> String?
    {
        guard case .success(let repository) = self.repository(workspace, slug) else { return nil }
        let key = repositoryKey(repository.workspace, repository.slug)
        let hash = commit ?? repository.branches[branch] ?? FakeIdentifiers.commitHash()
        let number = (pipelineStore.lastBuildNumber[key] ?? 0) + 1
        pipelineStore.lastBuildNumber[key] = number
        pipelineStore.sequence += 1
        pipelineStore.clockOffset += 0.001
        let script = steps ?? pipelineStore.scripts[key] ?? pipelineStore.defaultScript
        let run = FakePipelineRun(
            uuid: FakeIdentifiers.uuid(), buildNumber: number, sequence: pipelineStore.sequence,
            targetType: "pipeline_ref_target", refType: "branch", refName: branch, commit: hash,
            selectorType: "branches", selectorPattern: branch, variables: [],
            creator: FakeUser(displayName: "Fake User", nickname: "fake"),
            steps: script.map { FakePipelineStepRun(uuid: FakeIdentifiers.uuid(), script: $0) },
            createdAt: pipelineStore.now)
        pipelineStore.runs[key, default: []].append(run)
        return run.uuid
    }

    func advance(_ uuid: String) -> FakePipelineSnapshot? {
        pipelineStore.clockOffset += pipelineStore.tickSeconds
        guard mutateRun(uuid, { run, now in run.advance(at: now) }) else { return nil }
        return snapshot(uuid)
    }

    func setInProgressStage(_ uuid: String, halted: Bool) -> Bool {
        mutateRun(uuid) { run, _ in
            if case .completed = run.phase { return }
            run.phase = halted ? .halted : .running
        }
    }

    func overrideState(_ uuid: String, _ state: FakeJSON?) -> Bool {
        mutateRun(uuid) { run, _ in run.stateOverride = state }
    }

    func appendLog(_ uuid: String, step index: Int, bytes: [UInt8]) -> Bool {
        guard let (key, runIndex) = pipelineStore.locate(uuid),
            pipelineStore.runs[key]?[runIndex].steps.indices.contains(index) == true
        else { return false }
        pipelineStore.runs[key, default: []][runIndex].steps[index].log += bytes
        pipelineStore.runs[key, default: []][runIndex].steps[index].hasLog = true
        return true
    }

    func snapshot(_ uuid: String) -> FakePipelineSnapshot? {
        guard let (key, index) = pipelineStore.locate(uuid), let run = pipelineStore.runs[key]?[index] else {
            return nil
        }
        return snapshot(of: run)
    }

    func snapshots(_ workspace: String, _ slug: String) -> [FakePipelineSnapshot] {
        (pipelineStore.runs[repositoryKey(workspace, slug)] ?? []).map(snapshot(of:))
    }

    func snapshot(of run: FakePipelineRun) -> FakePipelineSnapshot {
        let (stateName, stageName, resultName): (String, String?, String?) =
            switch run.phase {
            case .pending: ("PENDING", nil, nil)
            case .running: ("IN_PROGRESS", "RUNNING", nil)
            case .paused: ("IN_PROGRESS", "PAUSED", nil)
            case .halted: ("IN_PROGRESS", "HALTED", nil)
            case .completed(let result): ("COMPLETED", nil, result)
            }
        return FakePipelineSnapshot(
            uuid: run.uuid, buildNumber: run.buildNumber, stateName: stateName, stageName: stageName,
            resultName: resultName, refName: run.refName, commit: run.commit,
            customPattern: run.selectorType == "custom" ? run.selectorPattern : nil, variables: run.variables,
            steps: run.steps.map { step in
                let (name, result): (String, String?) =
                    switch step.phase {
                    case .pending: ("PENDING", nil)
                    case .inProgress: ("IN_PROGRESS", nil)
                    case .completed(let result): ("COMPLETED", result)
                    }
                return FakePipelineSnapshot.Step(
                    uuid: step.uuid, name: step.script.name, stateName: name, resultName: result,
                    log: String(decoding: step.log, as: UTF8.self))
            })
    }

    /// A `repo:commit_status_updated` payload for `uuid`, like the statuses Pipelines emits
    /// (https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/).
    func commitStatusPayload(_ uuid: String) -> FakeJSON? {
        guard let (key, index) = pipelineStore.locate(uuid), let run = pipelineStore.runs[key]?[index],
            let repository = repositories[key]
        else { return nil }
        let state: String =
            switch run.phase {
            case .completed("SUCCESSFUL"): "SUCCESSFUL"
            case .completed("STOPPED"): "STOPPED"
            case .completed: "FAILED"
            default: "INPROGRESS"
            }
        let now = FakePipelineStore.timestamp(pipelineStore.now)
        let repositoryJSON: FakeJSON = [
            "type": "repository", "full_name": .string(repository.fullName), "name": .string(repository.slug),
            "uuid": .string(repository.uuid),
        ]
        return [
            "actor": run.creator.json, "repository": repositoryJSON,
            "commit_status": [
                "key": .string(String(abs(run.uuid.hashValue % 2_000_000_000))), "type": "build",
                "state": .string(state),
                "name": .string("Pipeline #\(run.buildNumber) for \(run.refName ?? "commit")"),
                "refname": .optional(run.refName),
                "commit": ["type": "commit", "hash": .optional(run.commit)],
                "url": .string(
                    "https://bitbucket.org/\(repository.fullName)/addon/pipelines/home#!/results/\(run.buildNumber)"),
                "repository": repositoryJSON, "description": "",
                "created_on": .string(FakePipelineStore.timestamp(run.createdAt)), "updated_on": .string(now),
            ],
        ]
    }
}
