import Foundation
import PipewrightCore

/// A long-running `sshd -D` child, run through ``SubprocessRunner`` in its own task.
///
/// ``stop()`` cancels the task; the runner then sends SIGTERM and SIGKILL to sshd's process group
/// (sshd and its per-connection children) and reaps it before `stop()` returns.
final class SSHDProcess: Sendable {
    private let task: Task<Void, Never>
    private let state: State

    /// Starts `invocation` in a new task.
    init(invocation: ProcessInvocation) {
        let state = State()
        self.state = state
        task = Task {
            do {
                let result = try await SubprocessRunner().run(invocation)
                state.finish("sshd \(result.termination): \(result.standardErrorText)")
            } catch {
                state.finish("sshd failed: \(error)")
            }
        }
    }

    /// How sshd ended (termination and its standard error), or `nil` while it runs.
    var exitDescription: String? { state.exit }

    /// Terminates sshd and waits until it has been reaped.
    func stop() async {
        task.cancel()
        await task.value
    }

    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var value: String?
        var exit: String? { lock.withLock { value } }
        func finish(_ description: String) { lock.withLock { value = description } }
    }
}
