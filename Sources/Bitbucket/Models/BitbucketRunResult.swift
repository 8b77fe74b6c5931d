/// Outcome of a `COMPLETED` pipeline or step (`state.result.name`; Bitbucket REST docs below).
///
/// Decoded defensively: unknown or missing names become `.unknown(raw)`. `NOT_RUN` only occurs on steps.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-get
public enum BitbucketRunResult: Sendable, Equatable, Hashable {
    /// `SUCCESSFUL`.
    case successful
    /// `FAILED`: a step's script failed.
    case failed
    /// `ERROR`: Bitbucket could not run it (e.g. invalid `bitbucket-pipelines.yml`).
    case error
    /// `STOPPED` by a user or the API.
    case stopped
    /// `NOT_RUN`: a step skipped (an earlier step failed, or a manual step was never run).
    case notRun
    /// `EXPIRED`.
    case expired
    /// Any other result name (or `""` when `result` is missing), kept raw.
    case unknown(String)

    /// Parses an upper- or lower-case result name.
    public init(name: String) {
        switch name.uppercased() {
        case "SUCCESSFUL": self = .successful
        case "FAILED": self = .failed
        case "ERROR": self = .error
        case "STOPPED": self = .stopped
        case "NOT_RUN": self = .notRun
        case "EXPIRED": self = .expired
        default: self = .unknown(name)
        }
    }

    /// The API's upper-case name (`SUCCESSFUL`, `FAILED`, …, or the raw unknown value).
    public var name: String {
        switch self {
        case .successful: "SUCCESSFUL"
        case .failed: "FAILED"
        case .error: "ERROR"
        case .stopped: "STOPPED"
        case .notRun: "NOT_RUN"
        case .expired: "EXPIRED"
        case .unknown(let raw): raw
        }
    }
}
