import Foundation

/// All pipelines state of the fake (held by ``FakeBitbucketBackend``), advanced only by tests.
struct FakePipelineStore: Sendable {
    /// Repository key → runs in creation order.
    var runs: [String: [FakePipelineRun]] = [:]
    /// Repository key → last build number.
    var lastBuildNumber: [String: Int] = [:]
    /// Repository key → script for runs created from now on.
    var scripts: [String: [FakeStepScript]] = [:]
    /// Script when a repository has none.
    var defaultScript: [FakeStepScript] = [
        FakeStepScript(name: "Build", lines: ["+ echo build", "build"], result: .successful)
    ]
    var pendingTriggerFailures: [FakeTriggerFailure] = []
    /// The pipelines list omits `next` (as Bitbucket's often does even when more pages exist).
    var omitNext = true
    var honoursLogRange = true
    var storageHonoursRange = true
    var redirectsCompletedLogs = true
    var requiresPipelinesYML = false
    var acceptThenDropDelay: Duration = .seconds(5)
    /// Host used in storage redirects (another origin than the API's `127.0.0.1`).
    var storageHost = "localhost"
    /// Storage token → (repository key, pipeline uuid, step uuid).
    var storageObjects: [String: StorageObject] = [:]
    /// Fake time: wall time at creation plus the ticks taken.
    let clockBase = Date()
    var clockOffset: TimeInterval = 0
    /// Seconds added per ``FakeBitbucketServer/advancePipeline(_:)``.
    var tickSeconds: TimeInterval = 10
    var sequence = 0

    struct StorageObject: Sendable {
        var repositoryKey: String
        var pipelineUUID: String
        var stepUUID: String
    }

    var now: Date { clockBase.addingTimeInterval(clockOffset) }

    /// `(repository key, index)` of the run with `uuid` (braces, case-insensitive).
    func locate(_ uuid: String) -> (String, Int)? {
        let wanted = uuid.lowercased()
        for (key, list) in runs {
            if let index = list.firstIndex(where: { $0.uuid.lowercased() == wanted }) { return (key, index) }
        }
        return nil
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// One fake pipeline run.
struct FakePipelineRun: Sendable {
    enum Phase: Sendable, Equatable {
        case pending
        case running
        case paused
        case halted
        case completed(result: String)
    }

    var uuid: String
    var buildNumber: Int
    var sequence: Int
    var targetType: String
    var refType: String?
    var refName: String?
    var commit: String?
    var selectorType: String?
    var selectorPattern: String?
    var variables: [FakePipelineVariable]
    var creator: FakeUser
    var terminator: FakeUser?
    var phase: Phase = .pending
    /// Raw `state` JSON replacing the computed one (tolerant-decoding tests).
    var stateOverride: FakeJSON?
    var steps: [FakePipelineStepRun]
    var createdAt: Date
    var startedAt: Date?
    var completedAt: Date?
    var errorMessage: String?

    /// Index of the first step that is not completed.
    var currentStepIndex: Int? { steps.firstIndex { !$0.isCompleted } }

    /// One tick of the script (see ``FakeBitbucketServer/advancePipeline(_:)``).
    mutating func advance(at now: Date) {
        switch phase {
        case .completed:
            return
        case .pending, .paused, .halted:
            guard let index = currentStepIndex else { return complete("SUCCESSFUL", at: now) }
            if phase == .pending, steps[index].script.manual {
                phase = .paused
                return
            }
            if startedAt == nil { startedAt = now }
            if steps[index].phase == .pending { steps[index].start(at: now) }
            phase = .running
        case .running:
            guard let index = currentStepIndex else { return complete("SUCCESSFUL", at: now) }
            if steps[index].phase == .pending {
                steps[index].start(at: now)
                return
            }
            let script = steps[index].script
            for line in script.lines { steps[index].log += Array((line + "\n").utf8) }
            steps[index].finish(script.result.rawValue, at: now)
            switch script.result {
            case .successful:
                guard let next = currentStepIndex else { return complete("SUCCESSFUL", at: now) }
                if steps[next].script.manual {
                    phase = .paused
                } else {
                    steps[next].start(at: now)
                }
            case .failed:
                complete("FAILED", at: now)
            case .error:
                errorMessage = "Step '\(script.name)' ended with an error."
                complete("ERROR", at: now)
            }
        }
    }

    /// Stops the run: the running step becomes `STOPPED`, the run `COMPLETED/STOPPED`.
    mutating func stop(by user: FakeUser, at now: Date) {
        if let index = currentStepIndex, steps[index].phase == .inProgress { steps[index].finish("STOPPED", at: now) }
        terminator = user
        complete("STOPPED", at: now)
    }

    mutating func complete(_ result: String, at now: Date) {
        phase = .completed(result: result)
        completedAt = now
        if startedAt == nil { startedAt = now }
    }
}

/// One step of a fake run; `log` grows as the script runs or the test appends.
struct FakePipelineStepRun: Sendable {
    enum Phase: Sendable, Equatable {
        case pending
        case inProgress
        case completed(result: String)
    }

    var uuid: String
    var script: FakeStepScript
    var phase: Phase = .pending
    var log: [UInt8] = []
    /// Whether a log exists (from the start of the step, or the first appended text).
    var hasLog = false
    var startedAt: Date?
    var completedAt: Date?

    var isCompleted: Bool {
        if case .completed = phase { return true }
        return false
    }

    mutating func start(at now: Date) {
        phase = .inProgress
        startedAt = now
        hasLog = true
    }

    mutating func finish(_ result: String, at now: Date) {
        phase = .completed(result: result)
        completedAt = now
        if startedAt == nil { startedAt = now }
    }
}
