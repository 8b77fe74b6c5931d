/// The state of a Bitbucket pipeline run (`state` of a pipeline object, Bitbucket REST docs below).
///
/// Decoded defensively: a missing `result` or `stage`, or a name this client does not know, never
/// fails decoding (real responses omit `result` on paused or halted runs, and strict decoders broke
/// on them) — it becomes `.unknown(raw)` (raw is `""` when the field is absent).
/// Only ``completed(result:)`` is terminal; `PAUSED` (manual step) and `HALTED` are not.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-get
public enum BitbucketPipelineState: Sendable, Equatable, Hashable, Decodable, CustomStringConvertible {
    /// Sub-state of `IN_PROGRESS` (`state.stage.name`).
    public enum Stage: Sendable, Equatable, Hashable {
        /// `RUNNING` (also assumed when `stage` is absent, as in older responses).
        case running
        /// `PAUSED`: waiting for a human to run a manual step.
        case paused
        /// `HALTED`: blocked, e.g. out of build minutes.
        case halted
        /// Any other stage name, kept raw.
        case unknown(String)

        /// Parses an upper- or lower-case stage name.
        public init(name: String) {
            switch name.uppercased() {
            case "RUNNING": self = .running
            case "PAUSED": self = .paused
            case "HALTED": self = .halted
            default: self = .unknown(name)
            }
        }

        /// The API's upper-case name (`RUNNING`, `PAUSED`, `HALTED`, or the raw unknown value).
        public var name: String {
            switch self {
            case .running: "RUNNING"
            case .paused: "PAUSED"
            case .halted: "HALTED"
            case .unknown(let raw): raw
            }
        }
    }

    /// Outcome of a `COMPLETED` pipeline (`state.result.name`); shared with steps.
    public typealias Result = BitbucketRunResult

    /// `PENDING`: queued, no step has started.
    case pending
    /// `IN_PROGRESS` with its stage.
    case inProgress(stage: Stage)
    /// `COMPLETED` with its result (terminal).
    case completed(result: Result)
    /// Any other top-level state name, kept raw.
    case unknown(String)

    /// Whether polling can stop: `COMPLETED` only.
    public var isTerminal: Bool {
        if case .completed = self { return true }
        return false
    }

    /// `PENDING`, `IN_PROGRESS`, `COMPLETED`, or the raw unknown name.
    public var name: String {
        switch self {
        case .pending: "PENDING"
        case .inProgress: "IN_PROGRESS"
        case .completed: "COMPLETED"
        case .unknown(let raw): raw
        }
    }

    /// `IN_PROGRESS/PAUSED`, `COMPLETED/FAILED`, `PENDING`, …
    public var description: String {
        switch self {
        case .inProgress(let stage): "IN_PROGRESS/\(stage.name)"
        case .completed(let result): "COMPLETED/\(result.name)"
        default: name
        }
    }

    /// Builds a state from the API's names (as found in `state.name`, `state.stage.name`,
    /// `state.result.name`).
    ///
    /// - Parameters:
    ///   - name: `PENDING`, `IN_PROGRESS`, `COMPLETED` (case-insensitive).
    ///   - stage: the stage name for `IN_PROGRESS`; `nil` means `RUNNING`.
    ///   - result: the result name for `COMPLETED`; `nil` gives `.unknown("")`.
    public init(name: String, stage: String? = nil, result: String? = nil) {
        switch name.uppercased() {
        case "PENDING": self = .pending
        case "IN_PROGRESS": self = .inProgress(stage: stage.map(Stage.init(name:)) ?? .running)
        case "COMPLETED": self = .completed(result: Result(name: result ?? ""))
        default: self = .unknown(name)
        }
    }

    enum CodingKeys: String, CodingKey { case name, type, stage, result }
    private struct Named: Decodable {
        var name: String?
        var type: String?
    }

    /// Decodes `{"name", "type", "stage"?: {"name", "type"}, "result"?: {"name", "type"}}`.
    ///
    /// When a `name` is missing the suffix of `type` is used (`pipeline_state_in_progress_paused` →
    /// `PAUSED`); nothing here throws for unknown or missing values.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = (try? container.decodeIfPresent(String.self, forKey: .name)) ?? nil
        let type = (try? container.decodeIfPresent(String.self, forKey: .type)) ?? nil
        let stage = (try? container.decodeIfPresent(Named.self, forKey: .stage)) ?? nil
        let result = (try? container.decodeIfPresent(Named.self, forKey: .result)) ?? nil
        let topName = name ?? Self.nameFromType(type, prefix: "pipeline_state_") ?? ""
        self.init(
            name: topName,
            stage: stage.flatMap { $0.name ?? Self.nameFromType($0.type, prefix: "pipeline_state_in_progress_") },
            result: result.flatMap { $0.name ?? Self.nameFromType($0.type, prefix: "pipeline_state_completed_") })
    }

    /// `pipeline_state_in_progress` → `IN_PROGRESS` (the part after `prefix`, upper-cased).
    static func nameFromType(_ type: String?, prefix: String) -> String? {
        guard let type, type.hasPrefix(prefix), type.count > prefix.count else { return nil }
        return String(type.dropFirst(prefix.count)).uppercased()
    }
}
