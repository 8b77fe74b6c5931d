// Child processes of the benchmarks, started with swift-subprocess.
//
// Foundation's `Process` is not used for children the benchmark must stop or wait for: a child it
// starts inherits the calling thread's signal mask, and the cooperative pool's threads block most
// signals, so a peer server started that way ignored SIGTERM and `waitUntilExit()` waited forever
// (seen with `pipewright-bench realtime --peers plain`; and `logstore-scale` hung in `waitUntilExit()`
// on an exited, unreaped `scripts/test-postgres start`). swift-subprocess resets the child's signal
// mask and dispositions (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) and reaps it itself.
import Foundation
import PipewrightCore
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `path arguments` to completion (10 minutes at most); returns its exit status (-1 when killed
/// by a signal or timed out) and its standard output.
func runCommand(
    _ path: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(600)
) async throws -> (Int32, String) {
    let result = try await SubprocessRunner().run(
        ProcessInvocation(
            executable: .init(path), arguments: arguments, environmentAdditions: environment, timeout: timeout,
            outputLimitBytes: 16 << 20))
    return (result.exitStatus ?? -1, result.standardOutputText)
}

/// A long-running child (the service, the peer server) whose standard output and error go to a file;
/// it runs until ``stop(signal:)``.
final class BenchChild: Sendable {
    /// The child's process id (for /proc readings).
    let pid: Int32
    private let exited: Task<Void, any Error>

    private init(pid: Int32, exited: Task<Void, any Error>) {
        self.pid = pid
        self.exited = exited
    }

    /// Starts `path arguments` with the benchmark's environment plus `environment`, output appended to `log`.
    static func start(
        _ path: String, _ arguments: [String], environment: [String: String], log: String
    ) async throws -> BenchChild {
        let output = try FileDescriptor.open(
            FilePath(log), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite])
        let error = try FileDescriptor.open(
            FilePath(log), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite])
        var additions: [Environment.Key: String?] = [:]
        for (key, value) in environment { additions[Environment.Key(stringLiteral: key)] = value }
        let (pids, pidContinuation) = AsyncStream<Int32>.makeStream()
        let exited = Task {
            do {
                _ = try await Subprocess.run(
                    .path(FilePath(path)), arguments: Arguments(arguments), environment: .inherit.updating(additions),
                    input: .none, output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(error, closeAfterSpawningProcess: true)
                ) { execution in
                    pidContinuation.yield(execution.processIdentifier.value)
                    pidContinuation.finish()
                }
            } catch {
                pidContinuation.finish()
                throw error
            }
        }
        var iterator = pids.makeAsyncIterator()
        guard let pid = await iterator.next() else {
            try await exited.value
            throw RealtimeBench.Failure("\(path) did not start")
        }
        return BenchChild(pid: pid, exited: exited)
    }

    /// Sends `signal` (SIGTERM by default) and waits until the child has exited (SIGKILL after 20 s).
    func stop(signal: Int32 = SIGTERM) async {
        _ = kill(pid, signal)
        let killer = Task {
            try await Task.sleep(for: .seconds(20))
            _ = kill(self.pid, SIGKILL)
        }
        _ = try? await exited.value
        killer.cancel()
    }
}
