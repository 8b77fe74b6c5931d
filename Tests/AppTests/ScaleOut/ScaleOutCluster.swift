import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `pipewright-fake-bitbucket` (Tests/Support) as a child process: one JSON command per line on stdin, one
/// JSON answer per line on stdout (the protocol is described in its main.swift).
final class FakeBitbucketProcess: @unchecked Sendable {
    // @unchecked: commands are serialised by `lock`; the handles are used only under it.
    static let email = "browser@example.com"
    static let token = "browser-bitbucket-token"

    let baseURL: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffered: [UInt8] = []

    init() throws {
        let binary = URL(fileURLWithPath: try ServeProcess.binaryPath()).deletingLastPathComponent()
            .appendingPathComponent("pipewright-fake-bitbucket").path
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--email", Self.email, "--token", Self.token]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var hello: [String: Any] = [:]
        if let line = Self.readLine(output.fileHandleForReading, &buffered),
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        {
            hello = object
        }
        baseURL = try #require(hello["base_url"] as? String, "the fake did not announce its URL")
    }

    /// Sends one command and returns its answer (an `error` answer is recorded as a test failure).
    @discardableResult
    func command(_ name: String, _ arguments: [String: Any] = [:]) throws -> [String: Any] {
        try lock.withLock {
            var object = arguments
            object["cmd"] = name
            input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: object) + Data("\n".utf8))
            guard let line = Self.readLine(output.fileHandleForReading, &buffered),
                let answer = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { throw TestPostgresError(message: "the fake Bitbucket stopped answering") }
            if let error = answer["error"] { Issue.record("fake Bitbucket refused \(name): \(error)") }
            return answer
        }
    }

    /// Who read run `uuid`'s steps or logs after the first `since` requests: `User-Agent` → count, and the
    /// number of requests received so far.
    func pollers(of uuid: String, since: Int = 0) throws -> (pollers: [String: Int], requests: Int) {
        let answer = try command("pollers", ["uuid": uuid, "since": since])
        return (answer["pollers"] as? [String: Int] ?? [:], answer["requests"] as? Int ?? 0)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        // SIGKILL: SIGTERM may be blocked in a child started from a cooperative thread (RequestTimeoutTests).
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private static func readLine(_ handle: FileHandle, _ buffered: inout [UInt8]) -> String? {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffered += chunk
        }
    }
}

/// Several real `pipewright serve` instances on one PostgreSQL database, one shared log directory and one
/// master key (docs/scaling.md), each with its own data directory, port and `PIPEWRIGHT_INSTANCE_ID`, all
/// talking to one fake Bitbucket process.
final class ScaleOutCluster: @unchecked Sendable {
    // @unchecked: `instances` changes only in the test's own task.
    let database: (name: String, url: String)
    let root: String
    let fake: FakeBitbucketProcess
    let masterKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    let lease: Double
    var instances: [String: ServeProcess] = [:]
    private(set) var token = ""
    private(set) var pipelineID = 0

    var logDirectory: String { root + "/shared-logs" }

    init(lease: Double) throws {
        self.lease = lease
        database = try TestPostgres.createDatabase()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pw-scale-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/shared-logs", withIntermediateDirectories: true)
        fake = try FakeBitbucketProcess()
    }

    func environment(_ name: String) -> [String: String] {
        [
            "DATABASE_URL": database.url, "PIPEWRIGHT_MASTER_KEY": masterKey, "PIPEWRIGHT_LOG_DIR": logDirectory,
            "PIPEWRIGHT_INSTANCE_ID": name, "BITBUCKET_API_URL": fake.baseURL, "PIPEWRIGHT_POLL_INTERVAL": "0.2",
            "PIPEWRIGHT_MONITOR_LEASE_SECONDS": "\(lease)", "PIPEWRIGHT_MONITOR_TIMEOUT": "3600",
            "PIPEWRIGHT_RATE_LIMIT_TRIGGER": "1000/60", "LOG_LEVEL": "notice",
        ]
    }

    /// Starts the named instances one after another (the first migrates the database), then creates an
    /// admin token, a connection to the fake and a pipeline through the first one's API.
    func start(_ names: [String], client: HTTPClient) async throws {
        for name in names {
            instances[name] = try await ServeProcess.start(
                dataDirectory: root + "/data-" + name, environment: environment(name))
        }
        let first = root + "/data-" + names[0]
        let user = try ServeProcess.command(
            ["user", "create", "tester", "--admin", "--password-stdin"], dataDirectory: first,
            environment: environment(names[0]), stdin: "tester-password-1\n")
        #expect(user.status == 0, "\(user.stderr)")
        let created = try ServeProcess.command(
            ["token", "create", "tester"], dataDirectory: first, environment: environment(names[0]))
        token = String(try #require(created.stdout.split(separator: "\n").last { $0.hasPrefix("pw_") }))
        let base = try #require(instances[names[0]]).baseURL
        let connection = try await api(
            client, base, .POST, "/api/connections",
            [
                "name": "acme", "workspace": "acme",
                "auth": [
                    "type": "api_token", "email": FakeBitbucketProcess.email, "token": FakeBitbucketProcess.token,
                ],
            ])
        let key = try await api(client, base, .POST, "/api/ssh-keys", ["name": "deploy", "key_type": "ed25519"])
        let server = try await api(
            client, base, .POST, "/api/servers", ["host": "203.0.113.10", "username": "deploy"])
        let pipeline = try await api(
            client, base, .POST, "/api/pipelines",
            [
                "name": "web", "connection_id": connection["id"] ?? 0, "repo_slug": "web",
                "deploy": [
                    "server_ids": [server["id"] ?? 0], "ssh_key_id": key["id"] ?? 0, "deploy_path": "/srv/web",
                ],
            ])
        pipelineID = try #require(pipeline["id"] as? Int)
        try fake.command("script", ["steps": [["name": "Build", "lines": []]]])
    }

    /// One JSON API call as the admin; returns the decoded object (a non-2xx answer fails the test).
    @discardableResult
    func api(_ client: HTTPClient, _ base: String, _ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil)
        async throws -> [String: Any]
    {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: Array(try JSONSerialization.data(withJSONObject: body))))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.collectedBody()
        let text = String(buffer: bytes)
        try #require((200..<300).contains(Int(response.status.code)), "\(method) \(path): \(response.status) \(text)")
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// The raw bytes of `GET path` (e.g. `/logs/raw`).
    func raw(_ client: HTTPClient, _ base: String, _ path: String) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await client.execute(request, timeout: .seconds(30))
        return Array(buffer: try await response.collectedBody())
    }

    /// Triggers the pipeline through `instance` and returns the execution id and Bitbucket run uuid once the
    /// run is IN_PROGRESS and the execution `BUILDING`.
    func runningExecution(via instance: String, client: HTTPClient) async throws -> (id: Int, uuid: String) {
        let base = try #require(instances[instance]).baseURL
        let execution = try await api(client, base, .POST, "/api/pipelines/\(pipelineID)/trigger", ["branch": "main"])
        let id = try #require(execution["id"] as? Int)
        var uuid: String?
        let deadline = ContinuousClock.now + .seconds(30)
        while uuid == nil, ContinuousClock.now < deadline {
            let shown = try await api(client, base, .GET, "/api/executions/\(id)")
            uuid = (shown["bitbucket"] as? [String: Any])?["uuid"] as? String
            if uuid == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let run = try #require(uuid, "execution \(id) never reached Bitbucket")
        try fake.command("advance", ["uuid": run])
        try await waitForStatus(id, ["BUILDING"], via: instance, client: client)
        return (id, run)
    }

    func waitForStatus(_ id: Int, _ statuses: Set<String>, via instance: String, client: HTTPClient) async throws {
        let base = try #require(instances[instance]).baseURL
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let status = try await api(client, base, .GET, "/api/executions/\(id)")["status"] as? String ?? ""
            if statuses.contains(status) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("execution \(id) did not reach \(statuses)")
        throw CancellationError()
    }

    /// The lease row of `executionID` as PostgreSQL has it: holder and whether it is live.
    func leaseHolder(_ executionID: Int) throws -> String? {
        let row = try TestPostgres.psql(
            database.url,
            "SELECT holder FROM execution_leases WHERE execution_id = \(executionID) AND lease_expires_at > now()")
        return row.isEmpty ? nil : row
    }

    /// Kills every instance, stops the fake, drops the database and removes the directories.
    func stop() {
        for instance in instances.values { instance.kill() }
        fake.stop()
        try? TestPostgres.dropDatabase(database.name)
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Percentile `p` (0...1) of `values` (nearest rank).
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
}
