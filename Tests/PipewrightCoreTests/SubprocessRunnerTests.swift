import Foundation
import PipewrightCore
import Testing

/// Tests of the live ``SubprocessRunner`` used by the OpenSSH runner.
@Suite struct SubprocessRunnerTests {
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
        let pidFile = "/tmp/pwt-subprocess-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let clock = ContinuousClock()
        let start = clock.now
        // The child starts a grandchild in the background and records its pid; both would sleep 60 s.
        let result = try await runner.run(
            ProcessInvocation(
                executable: .path("/bin/sh"),
                arguments: ["-c", "sleep 60 & echo $! > \(pidFile); sleep 60"],
                timeout: .milliseconds(500)))
        #expect(result.termination == .timedOut)
        // Far below the children's 60 s (generous: a saturated 2-core machine delays resumption).
        #expect(start.duration(to: clock.now) < .seconds(30))
        let pidText = try String(contentsOfFile: pidFile, encoding: .utf8)
        let grandchild = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        // The grandchild was in the killed process group; allow init a moment to reap it.
        var alive = true
        for _ in 0..<100 where alive {
            // A zombie (state Z, waiting for a non-reaping PID 1 in containers) counts as dead.
            let stat = (try? String(contentsOfFile: "/proc/\(grandchild)/stat", encoding: .utf8)) ?? ""
            alive = kill(grandchild, 0) == 0 && !stat.contains(") Z ")
            if alive { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(!alive, "grandchild \(grandchild) survived the timeout")
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
