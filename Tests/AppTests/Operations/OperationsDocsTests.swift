import Foundation
import Logging
import Testing

@testable import App

/// Issue 13 item 8: the operator documents, the systemd unit and `PIPEWRIGHT_LOG_FORMAT=json`.
@Suite(.serialized) struct OperationsDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func read(_ path: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func systemdUnit_passesSystemdAnalyzeVerify_withoutAWarning() throws {
        let unit = try read("deploy/systemd/pipewright.service")
        #expect(unit.contains("ExecStart=/usr/local/bin/pipewright serve"))
        #expect(unit.contains("User=pipewright"))
        // verify checks that ExecStart exists: point it at the built binary, keep everything else.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pipewright.service").path
        try unit.replacingOccurrences(of: "/usr/local/bin/pipewright", with: try ServeProcess.binaryPath())
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runProgram("/usr/bin/systemd-analyze", ["verify", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty && result.stdout.isEmpty, "no unknown keys or bad values: \(result.stderr)")
    }

    @Test func operatorDocs_coverEveryCommand_andTheReadmeLinksThem() throws {
        let operations = try read("docs/operations.md")
        for command in PipewrightCommand.configuration.subcommands {
            let name = command.configuration.commandName ?? ""
            #expect(operations.contains("pipewright \(name)"), "docs/operations.md documents `\(name)`")
        }
        for heading in [
            "## Install on a Linux server", "## Reverse proxy", "## Upgrade", "## Backup and restore",
            "## Master key custody and rotation", "## Logs", "## Metrics", "systemd-analyze verify",
        ] {
            #expect(operations.contains(heading), "\(heading)")
        }
        let bitbucket = try read("docs/bitbucket.md")
        for fact in [
            "read:pipeline:bitbucket", "write:pipeline:bitbucket", "write:pullrequest:bitbucket", "repo:push",
            "repo:commit_status_updated", "public, routable", "DEPLOY_HOST_n", "docs/provisioning.md",
        ] {
            #expect(bitbucket.contains(fact), "docs/bitbucket.md: \(fact)")
        }
        let readme = try read("README.md")
        #expect(readme.contains("docs/operations.md") && readme.contains("docs/bitbucket.md"))
    }

    @Test func jsonLogHandler_writesOneObjectPerLine() throws {
        let line = JSONLogHandler.line(
            timestamp: Date(timeIntervalSince1970: 0), level: .notice, label: "test", message: "hello \"world\"\nnext",
            metadata: ["execution_id": "7", "nested": .dictionary(["a": .array(["1", "2"])])], source: "App")
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasSuffix("\n") && text.dropLast().split(separator: "\n").count == 1, "one line: \(text)")
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["level"] as? String == "notice")
        #expect(object["message"] as? String == "hello \"world\"\nnext")
        #expect(object["timestamp"] as? String == "1970-01-01T00:00:00.000Z")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["execution_id"] as? String == "7")
        #expect((metadata["nested"] as? [String: Any])?["a"] as? [String] == ["1", "2"])
    }

    @Test func serve_withJSONLogFormat_printsOnlyJSONLines() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try freeTCPPort()
        let server = try await ServedBinary.start(
            arguments: ["serve", "--port", "\(port)"], dataDirectory: directory + "/data", port: port,
            environment: ["PIPEWRIGHT_LOG_FORMAT": "json"])
        await server.waitForOutput("pipewright started")
        _ = try runProgram("/usr/bin/curl", ["-fsS", "-o", "/dev/null", "\(server.baseURL)/api/ssh-keys"])
        server.stop()
        let output = server.output
        let lines = output.split(separator: "\n")
        #expect(lines.count >= 2, "\(output)")
        for line in lines {
            let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(parsed?["message"] != nil, "not a JSON log line: \(line)")
        }
        #expect(output.contains("\"message\":\"pipewright started\""), "\(output)")
        let password = try String(contentsOfFile: directory + "/data/initial-admin-password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!output.contains(password), "the one-time password stays out of the log")
        let bad = try CLIProcess.run(
            ["serve"], directory: directory,
            environment: ["PIPEWRIGHT_LOG_FORMAT": "yaml", "PIPEWRIGHT_DATA_DIR": directory + "/x"])
        #expect(bad.status == 1 && bad.stderr.hasPrefix("configuration error: PIPEWRIGHT_LOG_FORMAT:"), "\(bad.stderr)")
    }
}
