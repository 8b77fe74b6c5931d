/// Everything needed to run one external program: what to run, its argument vector, extra
/// environment, standard input and limits.
///
/// Arguments are an array and are passed to `execve(2)` as they are: no shell ever parses them.
///
/// - Important: Do not put secrets in `arguments` (visible in `ps`) or `environmentAdditions`
///   (visible in `/proc/<pid>/environ` to the same user). Pass secrets through files with mode 0600
///   and put only the file's path in the environment.
public struct ProcessInvocation: Sendable, Equatable {
    /// How the program is located.
    public enum Executable: Sendable, Equatable, CustomStringConvertible {
        /// A bare program name, looked up in the `PATH` of the current process (e.g. `"ssh"`).
        case name(String)
        /// An absolute or relative file path (e.g. `"/usr/bin/ssh"`), used as is.
        case path(String)

        /// Interprets `value`: anything containing a `/` is a path, everything else a name.
        ///
        /// - Parameter value: A program name such as `ssh` or a path such as `/usr/bin/ssh`.
        public init(_ value: String) {
            self = value.contains("/") ? .path(value) : .name(value)
        }

        /// The name or path as given.
        public var description: String {
            switch self {
            case .name(let name): name
            case .path(let path): path
            }
        }
    }

    /// The program to run.
    public var executable: Executable
    /// The argument vector after the program name (`argv[1...]`), passed without shell parsing.
    public var arguments: [String]
    /// Variables added to (or replacing those in) the environment inherited from this process.
    public var environmentAdditions: [String: String]
    /// Bytes written to the program's standard input, which is then closed. Empty means the
    /// program reads end-of-file immediately. At most the system's pipe capacity (1 MiB on Linux
    /// by default, `/proc/sys/fs/pipe-max-size`); larger input makes the run throw
    /// ``ProcessError/launchFailed(executable:reason:)``.
    public var standardInput: [UInt8]
    /// Wall-clock limit for the whole run, from launch to exit. When it expires the process and
    /// its process group are terminated (SIGTERM, then SIGKILL) and the result is
    /// ``ProcessResult/Termination/timedOut``.
    public var timeout: Duration
    /// Maximum number of bytes collected from standard output, and separately from standard
    /// error. A program that writes more is killed and the run throws
    /// ``ProcessError/outputLimitExceeded(limitBytes:)``.
    public var outputLimitBytes: Int

    /// Creates an invocation.
    ///
    /// - Parameters:
    ///   - executable: The program to run.
    ///   - arguments: The argument vector after the program name.
    ///   - environmentAdditions: Extra environment variables; the rest is inherited.
    ///   - standardInput: Bytes for standard input; empty by default.
    ///   - timeout: Wall-clock limit for the whole run; 60 seconds by default.
    ///   - outputLimitBytes: Per-stream cap in bytes for collected output; 1 MiB by default.
    public init(
        executable: Executable,
        arguments: [String] = [],
        environmentAdditions: [String: String] = [:],
        standardInput: [UInt8] = [],
        timeout: Duration = .seconds(60),
        outputLimitBytes: Int = 1 << 20
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environmentAdditions = environmentAdditions
        self.standardInput = standardInput
        self.timeout = timeout
        self.outputLimitBytes = outputLimitBytes
    }
}
