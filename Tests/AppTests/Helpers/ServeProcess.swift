import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real `pipewright` binary run as a child process with its own data directory and port.
///
/// The binary is `$PIPEWRIGHT_BINARY`, else `pipewright` next to the test bundle, else
/// `<package>/.build/debug/pipewright` (`swift build --build-tests` builds it). Output goes to `logPath`.
final class ServeProcess: @unchecked Sendable {
    let port: Int
    let dataDirectory: String
    let logPath: String
    let process: Process
    /// `https` when started with TLS files.
    let scheme: String

    var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    private init(port: Int, dataDirectory: String, logPath: String, process: Process, scheme: String) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.logPath = logPath
        self.process = process
        self.scheme = scheme
    }

    /// Path of the built `pipewright` executable.
    static func binaryPath() throws -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["PIPEWRIGHT_BINARY"] { candidates.append(explicit) }
        if let first = CommandLine.arguments.first {
            var url = URL(fileURLWithPath: first)
            for _ in 0..<4 {
                url.deleteLastPathComponent()
                candidates.append(url.appendingPathComponent("pipewright").path)
            }
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/pipewright").path)
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        Issue.record("pipewright binary not found in \(candidates)")
        throw CancellationError()
    }

    /// A new temporary data directory (removed by the caller).
    static func makeDataDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pw-serve-\(UUID().uuidString)").path
    }

    /// The environment for a child: the test's own, minus any `PIPEWRIGHT_*`/`DATABASE_URL`, plus `extra`.
    static func environment(dataDirectory: String, _ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("PIPEWRIGHT_") && $0.key != "DATABASE_URL"
        }
        environment["PIPEWRIGHT_DATA_DIR"] = dataDirectory
        environment["LOG_LEVEL"] = "info"
        environment.merge(extra) { $1 }
        return environment
    }

    /// Runs a one-shot command (`user create …`, `token create …`) and waits.
    static func command(
        _ arguments: [String], dataDirectory: String, environment extra: [String: String] = [:], stdin: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(
            try binaryPath(), arguments, stdin: stdin, environment: environment(dataDirectory: dataDirectory, extra))
    }

    /// Creates an admin user and returns a bearer token for it (`user create` + `token create`).
    static func adminToken(dataDirectory: String) throws -> String {
        let user = try command(
            ["user", "create", "tester", "--admin", "--password-stdin"], dataDirectory: dataDirectory,
            stdin: "tester-password-1\n")
        guard user.status == 0 else {
            Issue.record("user create: \(user.stderr)")
            throw CancellationError()
        }
        let token = try command(["token", "create", "tester"], dataDirectory: dataDirectory)
        guard token.status == 0, let line = token.stdout.split(separator: "\n").last(where: { $0.hasPrefix("pw_") })
        else {
            Issue.record("token create: \(token.stdout) \(token.stderr)")
            throw CancellationError()
        }
        return String(line)
    }

    /// Starts `pipewright serve` on a free port and waits until `/health` answers (curl; `--cacert` with TLS).
    ///
    /// - Parameters:
    ///   - environment: extra variables (`PIPEWRIGHT_SHUTDOWN_GRACE`, TLS files, …).
    ///   - trustedCertificate: the CA/self-signed certificate when serving TLS.
    static func start(
        dataDirectory: String, environment extra: [String: String] = [:], trustedCertificate: String? = nil
    ) async throws -> ServeProcess {
        let port = try freeTCPPort()
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let logPath = dataDirectory + ".serve.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binaryPath())
        process.arguments = ["serve"]
        var environment = environment(dataDirectory: dataDirectory, extra)
        environment["PIPEWRIGHT_PORT"] = String(port)
        process.environment = environment
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let served = ServeProcess(
            port: port, dataDirectory: dataDirectory, logPath: logPath, process: process,
            scheme: trustedCertificate == nil ? "http" : "https")
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                Issue.record("pipewright serve exited (\(process.terminationStatus)): \(served.log)")
                throw CancellationError()
            }
            var arguments = ["curl", "-fsS", "-o", "/dev/null", "--max-time", "2"]
            if let trustedCertificate { arguments += ["--cacert", trustedCertificate] }
            if (try? runProgram("/usr/bin/env", arguments + ["\(served.baseURL)/health"]).status) == 0 { return served }
            try await Task.sleep(for: .milliseconds(100))
        }
        served.kill()
        Issue.record("pipewright serve did not answer /health: \(served.log)")
        throw CancellationError()
    }

    /// Sends `signal` (SIGTERM by default).
    func signal(_ signal: Int32 = SIGTERM) {
        _ = Glibc.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit; its exit status, or `nil` on timeout.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGKILL if still running (cleanup).
    func kill() {
        if process.isRunning { signal(SIGKILL) }
        process.waitUntilExit()
    }
}

/// A free TCP port on 127.0.0.1 (bind port 0, read it back, close).
func freeTCPPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
