import Foundation
import Testing

@testable import App

/// Issue 13 item 7: the final outcome of a trigger is logged, and a network failure says what happened.
@Suite(.serialized) struct TriggerOutcomeLogTests {
    @Test func unreachableBitbucket_triggerEndsInError_namingTheFailure_andIsLogged() async throws {
        let root = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data"
        let environment = ["PIPEWRIGHT_DATA_DIR": data]
        _ = try CLIProcess.run(
            ["user", "create", "ops", "--admin", "--password-stdin"], directory: root, environment: environment,
            stdin: "ops-password-1234\n")
        let token = try CLIProcess.run(["token", "create", "ops"], directory: root, environment: environment)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try freeTCPPort()
        let server = try await ServedBinary.start(
            arguments: ["serve", "--port", "\(port)"], dataDirectory: data, port: port,
            environment: ["BITBUCKET_API_URL": "https://nonexistent.invalid/2.0"])
        defer { server.stop() }
        func post(_ path: String, _ body: String) throws -> [String: Any] {
            let result = try runProgram(
                "/usr/bin/curl",
                [
                    "-sS", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                    "--data", body, "\(server.baseURL)/\(path)",
                ])
            return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        }
        let connection = try #require(
            post(
                "api/connections",
                #"{"name": "acme", "workspace": "acme", "auth": {"type": "access_token", "token": "t"}}"#)[
                    "id"] as? Int)
        let key = try #require(post("api/ssh-keys", #"{"name": "deploy", "key_type": "ed25519"}"#)["id"] as? Int)
        let host = try #require(post("api/servers", #"{"host": "203.0.113.10", "username": "deploy"}"#)["id"] as? Int)
        let created = try post(
            "api/pipelines",
            #"{"name": "web", "connection_id": \#(connection), "repo_slug": "web", "deploy": {"server_ids": [\#(host)], "ssh_key_id": \#(key), "deploy_path": "/srv/web"}}"#
        )
        let pipeline = try #require(created["id"] as? Int)
        let webhook = created["webhook_url"] as? String ?? ""
        #expect(
            webhook == "http://127.0.0.1:\(port)/api/webhooks/bitbucket/\(pipeline)",
            "serve --port goes into webhook URLs: \(webhook)")
        let verify = try post("api/connections/\(connection)/verify", "{}")
        let warnings = verify["warnings"] as? [String] ?? []
        #expect(
            warnings.contains { $0.contains("PIPEWRIGHT_PUBLIC_URL=http://127.0.0.1:\(port) is a loopback address") },
            "\(verify)")
        let error = verify["error"] as? [String: Any]
        #expect((error?["message"] as? String)?.contains("dns_failure host=nonexistent.invalid") == true, "\(verify)")

        let execution = try #require(post("api/pipelines/\(pipeline)/trigger", #"{"max_retries": 3}"#)["id"] as? Int)
        var finished: [String: Any] = [:]
        for _ in 0..<100 {
            let shown = try runProgram(
                "/usr/bin/curl",
                ["-sS", "-H", "Authorization: Bearer \(token)", "\(server.baseURL)/api/executions/\(execution)"])
            finished = (try? JSONSerialization.jsonObject(with: Data(shown.stdout.utf8))) as? [String: Any] ?? [:]
            if finished["status"] as? String == "ERROR" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(finished["status"] as? String == "ERROR", "\(finished)")
        let reason = finished["error"] as? String ?? ""
        #expect(reason.contains("Bitbucket refused the trigger"), "NXDOMAIN is not retried: \(reason)")
        #expect(reason.contains("dns_failure host=nonexistent.invalid (name does not exist)"), "\(reason)")
        let log = server.output
        let line = log.split(separator: "\n").first { $0.contains("trigger finished") }
        #expect(line != nil, "the final outcome is logged: \(log)")
        #expect(line?.contains("outcome: failed") == true || line?.contains("outcome=failed") == true, "\(line ?? "")")
        #expect(line?.contains("attempts: 1") == true || line?.contains("attempts=1") == true, "\(line ?? "")")
        #expect(line?.contains("dns_failure host=nonexistent.invalid") == true, "\(line ?? "")")
    }
}
