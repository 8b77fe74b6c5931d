import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import App

/// Issue 13 items 2 and 5: one owner of a data directory, online master-key rotation, start-up errors
/// that name the variable and the value, and refused starts that write nothing. Real binary, real SQLite.
@Suite(.serialized) struct DataOwnershipTests {
    @Test func secondServe_onTheSameDataDirectory_exits1_namingTheFirst() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let firstPort = try freeTCPPort()
        let first = try await ServedBinary.start(
            arguments: ["serve"], dataDirectory: data, port: firstPort, environment: ["PIPEWRIGHT_PORT": "\(firstPort)"]
        )
        defer { first.stop() }
        let secondPort = try freeTCPPort()
        let second = try ServedBinary.launch(
            arguments: ["serve", "--port", "\(secondPort)"], dataDirectory: data, port: secondPort)
        defer { second.stop() }
        #expect(await second.waitForExit(timeout: .seconds(60)) == 1)
        let lines = second.output.split(separator: "\n")
        #expect(lines.count == 1, "\(second.output)")
        #expect(second.output.contains("serve refused: pipewright process \(first.pid) holds"), "\(second.output)")
        #expect(second.output.contains("PIPEWRIGHT_DATA_DIR=\(data)"), "\(second.output)")
        let probe = try runProgram("/usr/bin/curl", ["-fsS", "\(first.baseURL)/ready"])
        #expect(probe.status == 0, "the first server is untouched")
    }

    @Test func offlineRewrites_areRefusedWhileServing_andWorkAfterwards() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        let port = try freeTCPPort()
        let server = try await ServedBinary.start(
            arguments: ["serve", "--port", "\(port)"], dataDirectory: data, port: port)
        let keyBefore = try Data(contentsOf: URL(fileURLWithPath: data + "/master.key"))

        let rotate = try CLIProcess.run(["master-key", "rotate"], directory: directory, environment: environment)
        #expect(rotate.status == 1)
        #expect(rotate.errorLines.count == 1, "\(rotate.stderr)")
        #expect(
            rotate.stderr.hasPrefix("error: master-key rotate refused: pipewright process \(server.pid)"),
            "\(rotate.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/master.key")) == keyBefore)
        #expect(!FileManager.default.fileExists(atPath: data + "/master.key.new"))

        let revert = try CLIProcess.run(
            ["migrate", "--revert", "--yes-destroy-data"], directory: directory, environment: environment)
        #expect(revert.status == 1)
        #expect(revert.stderr.hasPrefix("error: migrate --revert refused"), "\(revert.stderr)")

        // Commands that only add rows work beside the server.
        let user = try CLIProcess.run(
            ["user", "create", "ops", "--password-stdin"], directory: directory, environment: environment,
            stdin: "ops-password-123\n")
        #expect(user.status == 0, "\(user.stderr)")

        server.stop()
        let offline = try CLIProcess.run(["master-key", "rotate"], directory: directory, environment: environment)
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/master.key")) != keyBefore)
        let verify = try CLIProcess.run(["keys", "verify"], directory: directory, environment: environment)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func rotateOnline_whileKeysAreCreatedConcurrently_everySecretOpensAfterwards() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        let (server, admin) = try await ServedBinary.startWithAdmin("root2", root: directory, dataDirectory: data)
        defer { server.stop() }
        _ = try CLIProcess.run(
            ["user", "create", "dev", "--password-stdin"], directory: directory, environment: environment,
            stdin: "dev-password-1234\n")
        let member = try CLIProcess.run(["token", "create", "dev"], directory: directory, environment: environment)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let keyBefore = try Data(contentsOf: URL(fileURLWithPath: data + "/master.key"))

        try await withHTTPClient { client in
            func post(_ path: String, _ token: String, _ body: String) async throws -> (UInt, String) {
                var request = HTTPClientRequest(url: server.baseURL + path)
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
                let response = try await client.execute(request, timeout: .seconds(60))
                let text = String(buffer: try await response.collectedBody())
                return (response.status.code, text)
            }
            let forbidden = try await post("/api/admin/master-key/rotate", member, "{}")
            #expect(forbidden.0 == 403, "admin only: \(forbidden.1)")

            let statuses = try await withThrowingTaskGroup(of: [UInt].self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        var codes: [UInt] = []
                        for index in 0..<6 {
                            let created = try await post(
                                "/api/ssh-keys", admin, #"{"name": "k\#(writer)-\#(index)", "key_type": "ed25519"}"#)
                            codes.append(created.0)
                        }
                        return codes
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(150))
                    let rotated = try await post("/api/admin/master-key/rotate", admin, "{}")
                    #expect(rotated.1.contains("\"resealed\""), "\(rotated.1)")
                    return [rotated.0]
                }
                var all: [UInt] = []
                for try await codes in group { all += codes }
                return all
            }
            #expect(statuses.filter { $0 == 201 }.count == 24, "\(statuses)")
            #expect(statuses.contains(200), "the rotation answered 200: \(statuses)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/master.key")) != keyBefore, "new key file")
        let ready = try runProgram("/usr/bin/curl", ["-fsS", "\(server.baseURL)/ready"])
        #expect(ready.status == 0, "ready with the new key: \(ready.stdout)")
        // Every secret written during the rotation opens with the key now on disk.
        let verify = try CLIProcess.run(["keys", "verify"], directory: directory, environment: environment)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("0 failure(s)"))
        server.stop()
        let afterRestart = try CLIProcess.run(["keys", "verify"], directory: directory, environment: environment)
        #expect(afterRestart.status == 0, "\(afterRestart.stdout)\(afterRestart.stderr)")
    }

    @Test func refusedStarts_writeNothing_andNameTheVariableAndValue() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/data"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        #expect(
            try CLIProcess.run(
                ["user", "create", "alice", "--password-stdin"], directory: directory, environment: environment,
                stdin: "alice-password-1\n"
            ).status == 0)

        // A different key in the environment: refused, nothing written.
        var before = CLIProcess.snapshot(data)
        let wrongKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let mismatch = try CLIProcess.run(
            ["serve", "--port", "\(try freeTCPPort())"], directory: directory,
            environment: environment.merging(["PIPEWRIGHT_MASTER_KEY": wrongKey]) { $1 })
        #expect(mismatch.status == 1)
        #expect(mismatch.errorLines.count == 1, "\(mismatch.stderr)")
        #expect(mismatch.stderr.hasPrefix("configuration error: PIPEWRIGHT_MASTER_KEY:"), "\(mismatch.stderr)")
        #expect(CLIProcess.snapshot(data) == before, "nothing written")

        // The key file gone: refused, and no new key file appears.
        try FileManager.default.moveItem(atPath: data + "/master.key", toPath: directory + "/master.key.saved")
        before = CLIProcess.snapshot(data)
        let missing = try CLIProcess.run(
            ["serve", "--port", "\(try freeTCPPort())"], directory: directory, environment: environment)
        #expect(missing.status == 1)
        #expect(
            missing.stderr.hasPrefix(
                "configuration error: PIPEWRIGHT_MASTER_KEY_FILE=\(data)/master.key does not exist"),
            "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/master.key"), "no new master.key")
        #expect(CLIProcess.snapshot(data) == before)
        try FileManager.default.moveItem(atPath: directory + "/master.key.saved", toPath: data + "/master.key")

        // A busy port: refused before anything is created, naming the process that holds it.
        let holderPort = try freeTCPPort()
        let holder = try await ServedBinary.start(
            arguments: ["serve", "--port", "\(holderPort)"], dataDirectory: data, port: holderPort)
        defer { holder.stop() }
        let fresh = directory + "/fresh"
        let busy = try CLIProcess.run(
            ["serve"], directory: directory,
            environment: ["PIPEWRIGHT_DATA_DIR": fresh, "PIPEWRIGHT_PORT": "\(holderPort)"])
        #expect(busy.status == 1)
        #expect(busy.errorLines.count == 1, "\(busy.stderr)")
        #expect(
            busy.stderr.hasPrefix(
                "configuration error: PIPEWRIGHT_PORT=\(holderPort) is in use by pid \(holder.pid) (pipewright)"),
            "\(busy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fresh), "nothing created for a refused start")
        let busyFlag = try CLIProcess.run(
            ["serve", "--port", "\(holderPort)"], directory: directory, environment: ["PIPEWRIGHT_DATA_DIR": fresh])
        #expect(busyFlag.stderr.hasPrefix("configuration error: --port=\(holderPort) is in use"), "\(busyFlag.stderr)")
    }

    @Test func unwritableDataDirectory_isNamed_notBlamedOnTheDatabase() throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: data)
        // As `nobody`, the root-owned directory is not writable.
        let result = try CLIProcess.run(
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", try ServeProcess.binaryPath(), "serve", "--port",
                "\(try freeTCPPort())",
            ], directory: "/", environment: ["PIPEWRIGHT_DATA_DIR": data], program: "/usr/bin/setpriv")
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1, "\(result.stderr)")
        #expect(
            result.stderr.hasPrefix("configuration error: PIPEWRIGHT_DATA_DIR=\(data) is not writable by uid 65534"),
            "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: data).isEmpty)
    }
}
