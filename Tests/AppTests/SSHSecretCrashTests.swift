import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12 item 2: a SIGKILLed `pipewright serve` leaves its SSH secrets (private key, password file) only
/// in `<data dir>/ssh/<pid>/`, never in `/tmp`, and the next start removes them before it serves.
@Suite(.serialized) struct SSHSecretCrashTests {
    /// The `ssh` processes whose parent is `pid`: their ids, argument vectors and environments (from /proc).
    func sshChildren(of pid: Int32) -> [(pid: Int32, arguments: [String], environment: [String])] {
        var found: [(Int32, [String], [String])] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let command = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard command == "ssh", fields.count > 1, Int32(fields[1]) == pid else { continue }
            func strings(_ name: String) -> [String] {
                let data = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/\(name)"))) ?? Data()
                return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            }
            found.append((child, strings("cmdline"), strings("environ")))
        }
        return found
    }

    static func post(_ client: HTTPClient, _ url: String, token: String, _ body: Data) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await client.execute(request, timeout: .seconds(120))
        return Data(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    func post(_ client: HTTPClient, _ url: String, token: String, _ body: [String: Any]) async throws -> [String: Any] {
        let data = try await Self.post(client, url, token: token, try JSONSerialization.data(withJSONObject: body))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    @Test(arguments: ["deploy with a password", "test with the key"])
    func sigkillDuringSSH_secretStaysUnderTheDataDirectory_andTheNextStartSweepsIt(point: String) async throws {
        let stall = try StallingListener.start()
        let dataDirectory = ServeProcess.makeDataDirectory()
        defer {
            stall.stop()
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try? FileManager.default.removeItem(atPath: dataDirectory + ".serve.log")
        }
        let token = try ServeProcess.adminToken(dataDirectory: dataDirectory)
        let timeouts = ["PIPEWRIGHT_SSH_CONNECT_TIMEOUT": "60", "PIPEWRIGHT_SSH_COMMAND_TIMEOUT": "60"]
        let serve = try await ServeProcess.start(dataDirectory: dataDirectory, environment: timeouts)
        defer { serve.kill() }
        try await withHTTPClient { client in
            let key = try await post(
                client, "\(serve.baseURL)/api/ssh-keys", token: token, ["name": "k", "key_type": "ed25519"])
            let keyID = try #require(key["id"] as? Int)
            var target: [String: Any] = ["host": "127.0.0.1", "port": stall.port, "username": "nobody"]
            let usesPassword = point.hasPrefix("deploy")
            if usesPassword { target["password"] = "Crash-Passw0rd-\(UUID().uuidString)" }
            let url = "\(serve.baseURL)/api/ssh-keys/\(keyID)/\(usesPassword ? "deploy" : "test")"
            let body = try JSONSerialization.data(withJSONObject: ["servers": [target]])
            let request = Task { try? await Self.post(client, url, token: token, body) }
            #expect(stall.waitForOutput(containing: "accepted", timeout: 20), "the ssh session is stalled")

            let ssh = try #require(sshChildren(of: serve.pid).first, "the running ssh client")
            let secret: String
            if usesPassword {
                let variable = try #require(ssh.environment.first { $0.hasPrefix("PIPEWRIGHT_ASKPASS_FILE=") })
                secret = String(variable.dropFirst("PIPEWRIGHT_ASKPASS_FILE=".count))
            } else {
                let index = try #require(ssh.arguments.firstIndex(of: "-i"))
                secret = ssh.arguments[index + 1]
            }
            #expect(secret.hasPrefix(dataDirectory + "/ssh/\(serve.pid)/"), "secret at \(secret)")
            #expect(FileManager.default.fileExists(atPath: secret))

            serve.signal(SIGKILL)
            #expect(await serve.waitForExit(timeout: .seconds(10)) != nil)
            _ = kill(ssh.pid, SIGKILL)  // the orphaned client of the killed service
            _ = await request.value
            // Nothing could delete it at the crash; the next start does, before it serves.
            #expect(FileManager.default.fileExists(atPath: secret))
            let again = try await ServeProcess.start(dataDirectory: dataDirectory, environment: timeouts)
            defer { again.kill() }
            #expect(!FileManager.default.fileExists(atPath: secret))
            let left = try FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/ssh")
            #expect(left == [String(again.pid)], "only the running service's own directory: \(left)")
            let mode =
                try FileManager.default.attributesOfItem(atPath: dataDirectory + "/ssh")[.posixPermissions] as? Int
            #expect(mode == 0o700)
        }
    }
}
