import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `pipewright serve …` run as the real binary with any arguments and environment, its output captured
/// in a file; `start` waits for `/health` on `port`.
final class ServedBinary: @unchecked Sendable {
    let process: Process
    let logPath: String
    let port: Int

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var pid: Int32 { process.processIdentifier }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(process: Process, logPath: String, port: Int) {
        self.process = process
        self.logPath = logPath
        self.port = port
    }

    /// Starts the binary; the data directory and `PIPEWRIGHT_PORT` come from the arguments.
    static func launch(
        arguments: [String], dataDirectory: String, port: Int, environment extra: [String: String] = [:]
    ) throws -> ServedBinary {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pw-served-\(UUID().uuidString).log"
        )
        .path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ServeProcess.binaryPath())
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("PIPEWRIGHT_") && $0.key != "DATABASE_URL"
        }
        environment["PIPEWRIGHT_DATA_DIR"] = dataDirectory
        environment["LOG_LEVEL"] = "info"
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return ServedBinary(process: process, logPath: logPath, port: port)
    }

    /// Starts the binary and waits until `/health` answers on `port`.
    static func start(
        arguments: [String], dataDirectory: String, port: Int, environment: [String: String] = [:]
    ) async throws -> ServedBinary {
        let served = try launch(
            arguments: arguments, dataDirectory: dataDirectory, port: port, environment: environment)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard served.process.isRunning else {
                Issue.record("pipewright exited (\(served.process.terminationStatus)): \(served.output)")
                throw CancellationError()
            }
            let probe = try? runProgram(
                "/usr/bin/curl", ["-fsS", "-o", "/dev/null", "--max-time", "2", "\(served.baseURL)/health"])
            if probe?.status == 0 {
                // The banner (text) or its log record (json) comes once the first admin exists.
                let deadline = ContinuousClock.now + .seconds(30)
                while !served.output.contains("data directory"), !served.output.contains("pipewright started"),
                    ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(50))
                }
                return served
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        served.stop()
        Issue.record("pipewright did not answer /health: \(served.output)")
        throw CancellationError()
    }

    /// Waits until the output contains `text` (the banner comes after the port answers).
    func waitForOutput(_ text: String, timeout: Duration = .seconds(30)) async {
        let deadline = ContinuousClock.now + timeout
        while !output.contains(text), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
    }

    /// Waits for the process to exit; its status, or `nil` on timeout.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit { try? FileManager.default.removeItem(atPath: logPath) }

    /// SIGTERM, then SIGKILL after 20 s (the output stays readable).
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning, Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }
}

extension ServedBinary {
    /// `serve` on a free port over `dataDirectory`, with an admin `username` made by `user create --admin`
    /// and an API token for it (`token create`), both run beside the server as an operator would.
    ///
    /// - Returns: the running server (stop it) and the admin's bearer token.
    static func startWithAdmin(
        _ username: String, root: String, dataDirectory: String, environment extra: [String: String] = [:]
    ) async throws -> (server: ServedBinary, token: String) {
        let port = try freeTCPPort()
        let server = try await start(
            arguments: ["serve", "--port", "\(port)"], dataDirectory: dataDirectory, port: port, environment: extra)
        let environment = extra.merging(["PIPEWRIGHT_DATA_DIR": dataDirectory]) { $1 }
        let created = try CLIProcess.run(
            ["user", "create", username, "--admin", "--password-stdin"], directory: root, environment: environment,
            stdin: "\(username)-password-1234\n")
        let token = try CLIProcess.run(["token", "create", username], directory: root, environment: environment)
        guard created.status == 0, token.status == 0 else {
            server.stop()
            throw CLIFailure(description: "admin \(username): \(created.stderr)\(token.stderr)")
        }
        return (server, token.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// A command run by a test helper failed.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
}
