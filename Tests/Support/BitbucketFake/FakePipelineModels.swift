import Foundation

/// How a scripted step of a fake pipeline ends (``FakeStepScript``).
public enum FakeStepResult: String, Sendable, Equatable {
    /// `COMPLETED/SUCCESSFUL`; the next step starts.
    case successful = "SUCCESSFUL"
    /// `COMPLETED/FAILED`; the pipeline completes `FAILED`, later steps stay `PENDING`.
    case failed = "FAILED"
    /// `COMPLETED/ERROR`; the pipeline completes `ERROR` with a `pipeline_error`.
    case error = "ERROR"
}

/// One step in a fake pipeline's script: its name, the log lines it writes when it finishes, and
/// its result. A `manual` step pauses the pipeline (`IN_PROGRESS/PAUSED`) until the next advance.
public struct FakeStepScript: Sendable, Equatable {
    /// The step `name`.
    public var name: String
    /// Lines appended to the step log (each followed by `\n`) when the step completes.
    public var lines: [String]
    /// How the step ends.
    public var result: FakeStepResult
    /// Whether the step waits for a manual trigger (the pipeline shows `PAUSED` before it).
    public var manual: Bool

    /// Creates a step script.
    public init(name: String, lines: [String] = [], result: FakeStepResult = .successful, manual: Bool = false) {
        self.name = name
        self.lines = lines
        self.result = result
        self.manual = manual
    }
}

/// A failure injected into the next pipeline triggers only
/// (``FakeBitbucketServer/failNextTriggers(_:with:)``).
public enum FakeTriggerFailure: Sendable, Equatable {
    /// `500` JSON error, no pipeline created.
    case serverError
    /// `429` `text/plain` "Rate limit for this resource has been exceeded", no `Retry-After`, no pipeline.
    case tooManyRequests
    /// `401` `text/plain` login failure, no pipeline.
    case unauthorized
    /// The pipeline **is created**, then the response is held (see
    /// ``FakeBitbucketServer/setPipelineBehaviour(omitNext:honoursLogRange:storageHonoursRange:redirectsCompletedLogs:requiresPipelinesYML:acceptThenDropDelay:)``,
    /// default 5 s) and the connection is broken without a usable response: a client with a shorter
    /// timeout sees a timeout, a patient one a connection error.
    case acceptThenDrop
}

/// A variable as the fake stored it from a trigger (secured values kept here for assertions, but
/// returned empty by the API like Bitbucket does).
public struct FakePipelineVariable: Sendable, Equatable {
    /// Name.
    public var key: String
    /// Value as sent.
    public var value: String
    /// Whether it was sent as `secured`.
    public var secured: Bool
}

/// A read-only view of one fake pipeline for assertions.
public struct FakePipelineSnapshot: Sendable, Equatable {
    /// One step's view.
    public struct Step: Sendable, Equatable {
        /// Braced UUID.
        public var uuid: String
        /// Name.
        public var name: String
        /// `PENDING`, `IN_PROGRESS`, `COMPLETED`.
        public var stateName: String
        /// Result name once completed.
        public var resultName: String?
        /// The log so far, UTF-8 (lossy).
        public var log: String
    }

    /// Braced UUID.
    public var uuid: String
    /// Build number.
    public var buildNumber: Int
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED`.
    public var stateName: String
    /// `RUNNING`/`PAUSED`/`HALTED` while in progress.
    public var stageName: String?
    /// Result name once completed.
    public var resultName: String?
    /// `target.ref_name`.
    public var refName: String?
    /// `target.commit.hash`.
    public var commit: String?
    /// Custom pipeline name, when triggered with a custom selector.
    public var customPattern: String?
    /// Variables as received.
    public var variables: [FakePipelineVariable]
    /// Steps in order.
    public var steps: [Step]
}

/// A signed webhook delivery built by the fake, ready to POST to the service under test.
public struct FakeWebhookDelivery: Sendable {
    /// Raw JSON body (sign and send exactly these bytes).
    public var body: [UInt8]
    /// `Content-Type`, `X-Event-Key`, `X-Hook-UUID`, `X-Request-UUID`, `X-Attempt-Number`, and
    /// `X-Hub-Signature: sha256=<hex>` when a secret was given.
    public var headers: [(name: String, value: String)]

    /// The first header value named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
