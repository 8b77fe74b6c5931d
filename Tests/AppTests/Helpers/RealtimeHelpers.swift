import Foundation
import Testing
import Vapor

@testable import App

/// `withRunningServer(_:_:)` for a test context, with the base URL; optionally on a fixed `port` (a
/// restarted service comes back where its clients left it).
func withRunningServer<T>(_ ctx: TestContext, port: Int = 0, _ body: (URL) async throws -> T) async throws -> T {
    try await withRunningServer(ctx.app, port: port) { bound in
        try await body(URL(string: "http://127.0.0.1:\(bound)")!)
    }
}

/// The Python test interpreter with python-socketio installed: `$PIPEWRIGHT_TEST_PYTHON`, else the
/// project's `.venv` (both set up by `scripts/test`). Missing → the test fails and says how to fix it.
func testPython() throws -> String {
    if let configured = ProcessInfo.processInfo.environment["PIPEWRIGHT_TEST_PYTHON"], !configured.isEmpty {
        return configured
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let venv = root.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: venv) else {
        Issue.record(
            "python-socketio is not installed: run scripts/test (it creates .venv from scripts/test-requirements.txt)")
        throw CancellationError()
    }
    return venv
}

/// A running `Tests/Clients/realtime_client.py`; its stdout is one JSON object per line.
final class PythonRealtimeClient: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let errors = Pipe()

    init(_ arguments: [String]) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Clients/realtime_client.py").path
        process.executableURL = URL(fileURLWithPath: try testPython())
        process.arguments = ["-u", script] + arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    /// Waits for the client to exit (at most `timeout`), then returns what it printed.
    func finish(timeout: Duration = .seconds(30)) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                // SIGKILL: SIGTERM may be blocked in a child started from a cooperative thread, and the reads
                // below would then wait forever.
                kill(process.processIdentifier, SIGKILL)
                Issue.record("python client did not finish in time")
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if process.terminationStatus != 0 && process.terminationStatus != 3 {
            Issue.record("python client exited \(process.terminationStatus): \(stderr.suffix(2000))")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func terminate() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

extension Array where Element == [String: Any] {
    /// Output records of one `type`.
    func records(_ type: String) -> [[String: Any]] { filter { $0["type"] as? String == type } }

    /// Server events in order, as (name, data).
    var events: [(String, [String: Any])] {
        records("event").compactMap { record in
            guard let name = record["name"] as? String, let data = record["data"] as? [String: Any] else { return nil }
            return (name, data)
        }
    }

    /// Seqs of every received log line, in arrival order.
    var lineSeqs: [Int] {
        events.filter { $0.0 == "pipeline_logs" }.flatMap {
            ($0.1["lines"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
        }
    }

    /// Texts of every received log line, in arrival order.
    var lineTexts: [String] {
        events.filter { $0.0 == "pipeline_logs" }.flatMap {
            ($0.1["lines"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        }
    }
}
