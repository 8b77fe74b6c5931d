/// The state of one pipeline step (`state` of a `pipeline_step`, Bitbucket REST docs below).
///
/// Decoded defensively like ``BitbucketPipelineState``: unknown or missing names become `.unknown(raw)`.
/// Steps that have not run yet are ``pending``; a step skipped after a failure may report `PENDING`
/// or `COMPLETED/NOT_RUN` — handle both.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-steps-get
public enum BitbucketPipelineStepState: Sendable, Equatable, Hashable, Decodable, CustomStringConvertible {
    /// Outcome of a `COMPLETED` step (`state.result.name`); shared with pipelines.
    public typealias Result = BitbucketRunResult

    /// `PENDING`: not started (includes the `paused`/`halted` pending sub-stages).
    case pending
    /// `READY`: about to start.
    case ready
    /// `IN_PROGRESS`: running; its log grows.
    case inProgress
    /// `COMPLETED` with its result.
    case completed(result: Result)
    /// Any other state name, kept raw.
    case unknown(String)

    /// `PENDING`, `READY`, `IN_PROGRESS`, `COMPLETED`, or the raw unknown name.
    public var name: String {
        switch self {
        case .pending: "PENDING"
        case .ready: "READY"
        case .inProgress: "IN_PROGRESS"
        case .completed: "COMPLETED"
        case .unknown(let raw): raw
        }
    }

    /// The result name for `COMPLETED` steps, else `nil`.
    public var resultName: String? {
        if case .completed(let result) = self { return result.name }
        return nil
    }

    /// Whether the step is finished (`COMPLETED`, whatever the result).
    public var isTerminal: Bool {
        if case .completed = self { return true }
        return false
    }

    /// `COMPLETED/FAILED`, `IN_PROGRESS`, …
    public var description: String {
        if case .completed(let result) = self { return "COMPLETED/\(result.name)" }
        return name
    }

    /// Builds a state from the API's names.
    ///
    /// - Parameters:
    ///   - name: `PENDING`, `READY`, `IN_PROGRESS`, `COMPLETED` (case-insensitive).
    ///   - result: the result name for `COMPLETED`; `nil` gives `.unknown("")`.
    public init(name: String, result: String? = nil) {
        switch name.uppercased() {
        case "PENDING": self = .pending
        case "READY": self = .ready
        case "IN_PROGRESS": self = .inProgress
        case "COMPLETED": self = .completed(result: Result(name: result ?? ""))
        default: self = .unknown(name)
        }
    }

    enum CodingKeys: String, CodingKey { case name, type, result }
    private struct Named: Decodable {
        var name: String?
        var type: String?
    }

    /// Decodes `{"name", "type", "result"?: {"name", "type"}}`; names fall back to the `type` suffix.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = (try? container.decodeIfPresent(String.self, forKey: .name)) ?? nil
        let type = (try? container.decodeIfPresent(String.self, forKey: .type)) ?? nil
        let result = (try? container.decodeIfPresent(Named.self, forKey: .result)) ?? nil
        self.init(
            name: name ?? BitbucketPipelineState.nameFromType(type, prefix: "pipeline_step_state_") ?? "",
            result: result.flatMap {
                $0.name ?? BitbucketPipelineState.nameFromType($0.type, prefix: "pipeline_step_state_completed_")
            })
    }
}
