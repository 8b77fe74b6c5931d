import PipewrightCore

/// The single error type of the PipelineConfig module.
///
/// Cases carry only the offending field name and a short fixed reason chosen by this module; user input
/// is never echoed verbatim (it may contain control characters), so `message` and `details` are always
/// safe to show and log. The HTTP mapping lives in `App/Errors/`.
public enum PipelineConfigError: PipewrightError, Equatable {
    /// A generator input is unusable. `field` names the input (e.g. `server_name`, `servers[0].host`,
    /// `deploy_path`, `app_port`); `reason` is a short phrase such as `"must be a hostname or _"`.
    case invalidInput(field: String, reason: String)
    /// A `StackOverride` cannot be applied (e.g. it names no language and nothing was detected).
    case invalidOverride(field: String, reason: String)
    /// Nothing deployable was found in the repository snapshot. The App maps this to a 422.
    case noStackDetected
    /// Yams could not serialize the generated document. `reason` is the emitter's one-line message.
    case yamlEncodingFailed(reason: String)
    /// A generated file failed this module's own validator, so it was not returned (bad configuration is
    /// rejected before it is committed: Bitbucket reports some mistakes, such as one deployment environment
    /// used twice in a pipeline, only when a run starts). `messages` are the validator's findings.
    case generatedConfigInvalid(file: String, messages: [String])

    /// Stable `snake_case` identifier of the case.
    public var code: String {
        switch self {
        case .invalidInput: "invalid_input"
        case .invalidOverride: "invalid_override"
        case .noStackDetected: "no_stack_detected"
        case .yamlEncodingFailed: "yaml_encoding_failed"
        case .generatedConfigInvalid: "generated_config_invalid"
        }
    }

    /// One human sentence, safe to show.
    public var message: String {
        switch self {
        case .invalidInput(let field, let reason): "Invalid \(field): \(reason)."
        case .invalidOverride(let field, let reason): "Invalid stack override \(field): \(reason)."
        case .noStackDetected: "No supported application stack was found in the repository."
        case .yamlEncodingFailed: "The pipeline configuration could not be serialized as YAML."
        case .generatedConfigInvalid(let file, _): "The generated \(file) failed validation."
        }
    }

    /// Machine-readable context: `field`/`reason`, or `file` and the joined validator `messages`.
    public var details: [String: String] {
        switch self {
        case .invalidInput(let field, let reason), .invalidOverride(let field, let reason):
            ["field": field, "reason": reason]
        case .noStackDetected: [:]
        case .yamlEncodingFailed(let reason): ["reason": reason]
        case .generatedConfigInvalid(let file, let messages):
            ["file": file, "messages": messages.joined(separator: "; ")]
        }
    }
}
