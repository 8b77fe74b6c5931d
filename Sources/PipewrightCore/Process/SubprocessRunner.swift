import Subprocess
import SystemPackage

/// The live ``ProcessRunner``, built on swift-subprocess.
///
/// Each child starts in a new session (`setsid`), so it and everything it spawns form one process
/// group. When ``ProcessInvocation/timeout`` expires or the calling task is cancelled, the group
/// receives SIGTERM, then SIGKILL 250 ms later, and the child is reaped before `run` returns:
/// nothing is leaked.
///
/// Standard input is written from ``ProcessInvocation/standardInput`` and then closed; standard
/// output and standard error are collected separately, each up to
/// ``ProcessInvocation/outputLimitBytes``.
public struct SubprocessRunner: ProcessRunner {
    private let clock: any Clock<Duration>

    /// Creates a runner.
    ///
    /// - Parameter clock: The clock that measures ``ProcessInvocation/timeout``;
    ///   `ContinuousClock()` by default.
    public init(clock: any Clock<Duration> = ContinuousClock()) {
        self.clock = clock
    }

    /// Runs `invocation`; see ``ProcessRunner/run(_:)``.
    ///
    /// - Parameter invocation: What to run and with which limits.
    /// - Returns: The termination and collected output; ``ProcessResult/Termination/timedOut`` with
    ///   empty output when the timeout expired.
    /// - Throws: ``ProcessError/launchFailed(executable:reason:)``,
    ///   ``ProcessError/outputLimitExceeded(limitBytes:)``, or `CancellationError`.
    public func run(_ invocation: ProcessInvocation) async throws -> ProcessResult {
        let clock = self.clock
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask { .finished(try await Self.launch(invocation)) }
            group.addTask {
                try await clock.sleep(for: invocation.timeout)
                return .timedOut
            }
            // Whichever finishes first decides; cancelling the other either stops the timer or
            // tears the process group down. The group then waits for both, so the child has been
            // reaped before this returns.
            defer { group.cancelAll() }
            do {
                switch try await group.next() {
                case .finished(let result): return result
                case .timedOut: return ProcessResult(termination: .timedOut)
                case nil: throw CancellationError()
                }
            } catch let error as SubprocessError {
                throw Self.map(error, invocation: invocation)
            }
        }
    }

    private enum Outcome: Sendable {
        case finished(ProcessResult)
        case timedOut
    }

    private static func launch(_ invocation: ProcessInvocation) async throws -> ProcessResult {
        let executable: Subprocess.Executable =
            switch invocation.executable {
            case .name(let name): .name(name)
            case .path(let path): .path(FilePath(path))
            }
        var additions: [Environment.Key: String?] = [:]
        for (key, value) in invocation.environmentAdditions {
            additions[Environment.Key(stringLiteral: key)] = value
        }
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .milliseconds(250)),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(250)),
        ]
        let result = try await Subprocess.run(
            executable,
            arguments: Arguments(invocation.arguments),
            environment: .inherit.updating(additions),
            platformOptions: options,
            input: .array(invocation.standardInput),
            output: .bytes(limit: invocation.outputLimitBytes),
            error: .bytes(limit: invocation.outputLimitBytes)
        )
        let termination: ProcessResult.Termination =
            switch result.terminationStatus {
            case .exited(let status): .exited(status)
            case .signaled(let signal): .signaled(signal)
            }
        return ProcessResult(
            termination: termination,
            standardOutput: result.standardOutput,
            standardError: result.standardError
        )
    }

    private static func map(_ error: SubprocessError, invocation: ProcessInvocation) -> any Error {
        let executable = invocation.executable.description
        switch error.code {
        case .outputLimitExceeded:
            return ProcessError.outputLimitExceeded(limitBytes: invocation.outputLimitBytes)
        case .executableNotFound:
            return ProcessError.launchFailed(executable: executable, reason: "executable not found")
        case .spawnFailed:
            return ProcessError.launchFailed(executable: executable, reason: error.description)
        default:
            return error
        }
    }
}
