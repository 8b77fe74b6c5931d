/// The outcome of a finished ``ProcessInvocation``: how it ended and what it wrote.
///
/// A non-zero exit status is a normal result, not an error; callers interpret it.
public struct ProcessResult: Sendable, Equatable {
    /// How the process ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        /// The process called `exit` with this status (0…255).
        case exited(Int32)
        /// The process was ended by this signal number (e.g. 9 for SIGKILL), not by us.
        case signaled(Int32)
        /// ``ProcessInvocation/timeout`` expired; the process group was terminated by the runner.
        case timedOut

        /// `exit 3`, `signal 9` or `timed out`.
        public var description: String {
            switch self {
            case .exited(let status): "exit \(status)"
            case .signaled(let signal): "signal \(signal)"
            case .timedOut: "timed out"
            }
        }
    }

    /// How the process ended.
    public var termination: Termination
    /// Collected standard output, at most ``ProcessInvocation/outputLimitBytes`` bytes. Empty when
    /// the run timed out.
    public var standardOutput: [UInt8]
    /// Collected standard error, at most ``ProcessInvocation/outputLimitBytes`` bytes. Empty when
    /// the run timed out.
    public var standardError: [UInt8]

    /// Creates a result (used by runners and test fakes).
    ///
    /// - Parameters:
    ///   - termination: How the process ended.
    ///   - standardOutput: Bytes written to standard output.
    ///   - standardError: Bytes written to standard error.
    public init(termination: Termination, standardOutput: [UInt8] = [], standardError: [UInt8] = []) {
        self.termination = termination
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// The exit status when the process exited normally, otherwise `nil`.
    public var exitStatus: Int32? {
        if case .exited(let status) = termination { return status }
        return nil
    }

    /// Standard output decoded as UTF-8 (invalid sequences replaced by U+FFFD).
    public var standardOutputText: String { String(decoding: standardOutput, as: UTF8.self) }

    /// Standard error decoded as UTF-8 (invalid sequences replaced by U+FFFD).
    public var standardErrorText: String { String(decoding: standardError, as: UTF8.self) }
}
