import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The live ``ProcessRunner``, built on swift-subprocess.
///
/// Each child starts in a new session (`setsid`), so it and everything it spawns form one process
/// group. When ``ProcessInvocation/timeout`` expires or the calling task is cancelled, the group
/// receives SIGTERM, then SIGKILL 250 ms later, and the child is reaped before `run` returns:
/// nothing is leaked.
///
/// Standard input is written into a pipe *before* the child starts (the pipe is enlarged with
/// `F_SETPIPE_SZ` when needed, up to the system's `pipe-max-size`, 1 MiB by default) and the write
/// end is closed, so the child reads the bytes followed by end-of-file. Writing before launch means a
/// child that exits without reading (e.g. `ssh` after an authentication failure) can never make this
/// process write to a closed pipe and die of SIGPIPE. Standard output and standard error are
/// collected separately, each up to ``ProcessInvocation/outputLimitBytes``.
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
            input: .fileDescriptor(try prefilledPipe(invocation.standardInput), closeAfterSpawningProcess: true),
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

    /// A pipe already holding `bytes`, write end closed; returns the read end (close-on-exec).
    private static func prefilledPipe(_ bytes: [UInt8]) throws -> FileDescriptor {
        var descriptors: [Int32] = [-1, -1]
        // pipe2(2) is not exported by the Glibc module; set close-on-exec right after pipe(2).
        // Children spawned by swift-subprocess close all descriptors above 2 anyway.
        guard pipe(&descriptors) == 0 else { throw pipeError("cannot create a pipe") }
        _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        defer { close(writeEnd) }
        #if os(Linux)
            // F_SETPIPE_SZ / F_GETPIPE_SZ (fcntl(2)); the default capacity is 64 KiB.
            if bytes.count > 65_536 {
                _ = fcntl(writeEnd, 1031, Int32(clamping: bytes.count))
                guard fcntl(writeEnd, 1032) >= bytes.count else {
                    close(readEnd)
                    throw pipeError("standard input of \(bytes.count) bytes exceeds the pipe capacity")
                }
            }
        #else
            if bytes.count > 16_384 {
                close(readEnd)
                throw pipeError("standard input of \(bytes.count) bytes exceeds the pipe capacity")
            }
        #endif
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(writeEnd, base + written, bytes.count - written)
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                close(readEnd)
                throw pipeError("cannot write standard input")
            }
            written += result
        }
        return FileDescriptor(rawValue: readEnd)
    }

    private static func pipeError(_ reason: String) -> ProcessError {
        ProcessError.launchFailed(executable: "(standard input)", reason: reason)
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
