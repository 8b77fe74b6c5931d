/// Failures of ``ProcessRunner`` that are not a program's own exit status.
public enum ProcessError: PipewrightError, Equatable {
    /// The program could not be started (not found, not executable, `posix_spawn` failed).
    /// `executable` is the name or path as requested; `reason` is the launcher's short
    /// explanation.
    case launchFailed(executable: String, reason: String)
    /// The program wrote more than `limitBytes` to standard output or standard error and was
    /// killed.
    case outputLimitExceeded(limitBytes: Int)

    /// `process_launch_failed` or `process_output_limit_exceeded`.
    public var code: String {
        switch self {
        case .launchFailed: "process_launch_failed"
        case .outputLimitExceeded: "process_output_limit_exceeded"
        }
    }

    /// A human sentence naming the program or the limit.
    public var message: String {
        switch self {
        case .launchFailed(let executable, let reason):
            "The program '\(executable)' could not be started: \(reason)."
        case .outputLimitExceeded(let limit):
            "The program wrote more than \(limit) bytes of output and was stopped."
        }
    }

    /// `executable` or `limit_bytes`.
    public var details: [String: String] {
        switch self {
        case .launchFailed(let executable, _): ["executable": executable]
        case .outputLimitExceeded(let limit): ["limit_bytes": String(limit)]
        }
    }
}
