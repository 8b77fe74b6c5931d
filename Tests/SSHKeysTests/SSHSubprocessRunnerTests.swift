import Foundation
import PipewrightCore
import Testing

/// Tests of the live ``SubprocessRunner`` used by the OpenSSH runner.
@Suite struct SSHSubprocessRunnerTests {
    let runner = SubprocessRunner()

    @Test func run_collectsOutputStatusAndStdin() async throws {
        let result = try await runner.run(
            ProcessInvocation(
                executable: .name("sh"), arguments: ["-c", "cat; echo err >&2; echo \"$PWT_TEST_VAR\"; exit 3"],
                environmentAdditions: ["PWT_TEST_VAR": "value"], standardInput: Array("from-stdin\n".utf8)))
        #expect(result.termination == .exited(3))
        #expect(result.standardOutputText == "from-stdin\nvalue\n")
        #expect(result.standardErrorText == "err\n")
    }

    @Test func run_timeout_killsWholeProcessGroup() async throws {
        let marker = "/tmp/pwt-subprocess-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let clock = ContinuousClock()
        let start = clock.now
        // The child spawns a grandchild that would create the marker after 2 s.
        let result = try await runner.run(
            ProcessInvocation(
                executable: .path("/bin/sh"),
                arguments: ["-c", "(sleep 2; touch \(marker)) & sleep 30"],
                timeout: .milliseconds(300)))
        let elapsed = start.duration(to: clock.now)
        #expect(result.termination == .timedOut)
        #expect(elapsed < .seconds(2))
        try await Task.sleep(for: .milliseconds(2500))
        #expect(!FileManager.default.fileExists(atPath: marker), "grandchild survived the timeout")
    }

    @Test func run_outputLimit_throws() async throws {
        await #expect(throws: ProcessError.outputLimitExceeded(limitBytes: 1000)) {
            try await runner.run(
                ProcessInvocation(
                    executable: .name("sh"), arguments: ["-c", "head -c 100000 /dev/zero"], outputLimitBytes: 1000))
        }
    }

    @Test func run_missingExecutable_launchFailed() async throws {
        await #expect {
            try await runner.run(ProcessInvocation(executable: .name("pwt-no-such-program")))
        } throws: { error in
            (error as? ProcessError)?.code == "process_launch_failed"
        }
    }

    @Test func run_signal_isReported() async throws {
        let result = try await runner.run(
            ProcessInvocation(executable: .name("sh"), arguments: ["-c", "kill -9 $$"]))
        #expect(result.termination == .signaled(9))
    }
}
