import Foundation
import Vapor

/// Pipelines test controls: scripts, a tick-driven state machine, growing logs, trigger failures.
///
/// Runs never move on wall time. Each ``advancePipeline(_:)`` is one tick (the fake clock moves
/// 10 s): `PENDING` → step 1 `IN_PROGRESS` → (step 1 writes its scripted lines and completes; step 2
/// starts) → … → `COMPLETED` with the first non-successful step's result, or `SUCCESSFUL`. A manual
/// step shows `IN_PROGRESS/PAUSED` for one tick before it starts. ``appendLog(pipeline:step:text:)``
/// grows any step's log at any time, also after completion (served via the storage redirect).
extension FakeBitbucketServer {
    /// Runs created from now on in `workspace/slug` follow `steps` (default: one successful "Build").
    public func scriptPipelines(workspace: String, slug: String, steps: [FakeStepScript]) async {
        await backend.setPipelineScript(workspace, slug, steps: steps)
    }

    /// Replaces the steps of an existing run (use while it is still `PENDING`).
    ///
    /// - Returns: `false` for an unknown run.
    @discardableResult
    public func scriptPipeline(_ uuid: String, steps: [FakeStepScript]) async -> Bool {
        await backend.replaceScript(of: uuid, steps: steps)
    }

    /// Creates a `PENDING` run directly (no request recorded), e.g. to fill the list.
    ///
    /// - Parameters:
    ///   - commit: target commit; default the branch head (or a random hash when the branch is unknown).
    ///   - steps: its script; default the repository's script.
    /// - Returns: the braced UUID, or `nil` for an unknown repository.
    @discardableResult
    public func addPipeline(
        workspace: String, slug: String, branch: String = "main", commit: String? = nil, steps: [FakeStepScript]? = nil
    ) async -> String? {
        await backend.seedPipeline(workspace, slug, branch: branch, commit: commit, steps: steps)
    }

    /// One tick of run `uuid` (see the type's documentation).
    ///
    /// - Returns: the run after the tick, or `nil` for an unknown run.
    @discardableResult
    public func advancePipeline(_ uuid: String) async -> FakePipelineSnapshot? {
        await backend.advance(uuid)
    }

    /// Ticks run `uuid` until it is `COMPLETED` (at most 1,000 ticks).
    ///
    /// - Returns: the completed run, or `nil` for an unknown run.
    @discardableResult
    public func runPipelineToCompletion(_ uuid: String) async -> FakePipelineSnapshot? {
        for _ in 0..<1_000 {
            guard let snapshot = await backend.advance(uuid) else { return nil }
            if snapshot.stateName == "COMPLETED" { return snapshot }
        }
        return await backend.snapshot(uuid)
    }

    /// Puts an in-progress run into `IN_PROGRESS/HALTED` (`halted: true`) or back to `RUNNING`.
    @discardableResult
    public func setPipelineHalted(_ uuid: String, _ halted: Bool) async -> Bool {
        await backend.setInProgressStage(uuid, halted: halted)
    }

    /// Serves `state` verbatim as the run's `state` object (`nil` restores the computed one) — for
    /// tolerant-decoding tests (unknown names, missing `result`).
    @discardableResult
    public func overridePipelineState(_ uuid: String, with state: FakeJSON?) async -> Bool {
        await backend.overrideState(uuid, state)
    }

    /// Appends `text` (UTF-8, verbatim) to step `step` (0-based) of run `pipeline`; the step then has a log.
    ///
    /// - Returns: `false` for an unknown run or step.
    @discardableResult
    public func appendLog(pipeline: String, step: Int, text: String) async -> Bool {
        await backend.appendLog(pipeline, step: step, bytes: Array(text.utf8))
    }

    /// The next `count` pipeline triggers (`POST …/pipelines/`) fail with `failure`; other requests
    /// are unaffected.
    public func failNextTriggers(_ count: Int, with failure: FakeTriggerFailure) async {
        await backend.injectTriggerFailures(Array(repeating: failure, count: max(0, count)))
    }

    /// Number of runs created in `workspace/slug` (by triggers, including dropped ones, and seeds).
    public func pipelineCount(workspace: String, slug: String) async -> Int {
        await backend.snapshots(workspace, slug).count
    }

    /// All runs of `workspace/slug`, oldest first.
    public func pipelines(workspace: String, slug: String) async -> [FakePipelineSnapshot] {
        await backend.snapshots(workspace, slug)
    }

    /// The run `uuid`, or `nil`.
    public func pipelineSnapshot(_ uuid: String) async -> FakePipelineSnapshot? {
        await backend.snapshot(uuid)
    }

    /// Tunes pipelines behaviour; `nil` leaves a setting unchanged.
    ///
    /// - Parameters:
    ///   - omitNext: the list omits `next` (default `true`, like Bitbucket's pipelines list often does).
    ///   - honoursLogRange: `/log` answers `206` to `Range` (default `true`); `false` always sends `200`.
    ///   - storageHonoursRange: the same for the storage host (default `true`).
    ///   - redirectsCompletedLogs: completed steps' logs `307` to storage (default `true`).
    ///   - requiresPipelinesYML: trigger → `400` when the commit has no `bitbucket-pipelines.yml`
    ///     (default `false`).
    ///   - acceptThenDropDelay: how long ``FakeTriggerFailure/acceptThenDrop`` holds the response
    ///     (default 5 s; released early by ``stop()``).
    public func setPipelineBehaviour(
        omitNext: Bool? = nil, honoursLogRange: Bool? = nil, storageHonoursRange: Bool? = nil,
        redirectsCompletedLogs: Bool? = nil, requiresPipelinesYML: Bool? = nil, acceptThenDropDelay: Duration? = nil
    ) async {
        await backend.setPipelineBehaviour(
            omitNext: omitNext, honoursLogRange: honoursLogRange, storageHonoursRange: storageHonoursRange,
            redirectsCompletedLogs: redirectsCompletedLogs, requiresPipelinesYML: requiresPipelinesYML,
            acceptThenDropDelay: acceptThenDropDelay)
    }

    /// Requests the storage host received (`/storage/…`), in order, headers verbatim.
    public func storageRequests() async -> [FakeRequest] {
        await backend.recorded.filter { $0.path.hasPrefix(FakeBitbucketBackend.storagePathPrefix) }
    }

    /// A `repo:commit_status_updated` delivery for run `uuid` (state from the run), signed with
    /// `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>` when `secret` is given (as Bitbucket signs
    /// deliveries of a webhook with a secret; docs/API.md "Triggering and executions").
    ///
    /// - Returns: `nil` for an unknown run.
    public func commitStatusWebhook(for uuid: String, secret: String?) async -> FakeWebhookDelivery? {
        guard let payload = await backend.commitStatusPayload(uuid) else { return nil }
        return Self.webhookDelivery(
            eventKey: "repo:commit_status_updated", body: Array(payload.serialized().utf8), secret: secret)
    }

    /// Wraps `body` as a Bitbucket webhook delivery with the usual headers and, when `secret` is
    /// given, its `X-Hub-Signature`.
    public static func webhookDelivery(eventKey: String, body: [UInt8], secret: String?, attempt: Int = 1)
        -> FakeWebhookDelivery
    {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("User-Agent", "Bitbucket-Webhooks/2.0"), ("X-Event-Key", eventKey),
            ("X-Hook-UUID", String(FakeIdentifiers.uuid().dropFirst().dropLast())),
            ("X-Request-UUID", String(FakeIdentifiers.uuid().dropFirst().dropLast())),
            ("X-Attempt-Number", String(attempt)),
        ]
        if let secret { headers.append(("X-Hub-Signature", webhookSignature(body: body, secret: secret))) }
        return FakeWebhookDelivery(body: body, headers: headers)
    }

    /// `sha256=` + lower-case hex HMAC-SHA256 of `body` keyed with `secret`.
    public static func webhookSignature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
