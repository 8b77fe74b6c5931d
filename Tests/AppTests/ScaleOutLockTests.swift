import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Fluent
import Foundation
import NIOCore
import NIOHTTP1
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Synchronization
import Testing
import Vapor

@testable import App

/// Issue 16 item 4: operation locks, trigger deduplication and rate limits hold across several instances on
/// one PostgreSQL database (docs/scaling.md "Locks, idempotency and rate limits").
///
/// Each test runs two or three real `Application`s in this process, each with its own data directory and its
/// own HTTP server on its own port, sharing one database (`TestPostgres.createDatabase()`) and one master key,
/// and drives them over real HTTP.
@Suite(.serialized) struct ScaleOutLockTests {
    /// One running instance.
    struct Instance {
        var app: Application
        var port: Int
        var url: String { "http://127.0.0.1:\(port)" }
    }

    /// The instances (all on one database) and bearer tokens of an admin and a maintainer.
    struct Cluster {
        var instances: [Instance]
        var adminToken: String
        var memberToken: String
        var http: HTTPClient

        /// One request to `instance`: the status and the JSON body (`[:]` when not an object).
        func call(
            _ instance: Int, _ method: HTTPMethod, _ path: String, body: [String: Any]? = nil,
            token: String? = nil, headers extra: [(String, String)] = []
        ) async throws -> Reply {
            var request = HTTPClientRequest(url: instances[instance].url + "/" + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(token ?? memberToken)")
            for (name, value) in extra { request.headers.add(name: name, value: value) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
            }
            let response = try await http.execute(request, timeout: .seconds(120))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            return Reply(status: Int(response.status.code), data: Data(buffer: bytes))
        }
    }

    /// An HTTP answer.
    struct Reply: Sendable {
        var status: Int
        var data: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    /// Starts `count` instances on a fresh PostgreSQL database, runs `body`, stops them and drops the database.
    func withCluster(
        count: Int, configure customize: @escaping (inout PipewrightConfiguration) -> Void = { _ in },
        services customizeServices: @escaping (inout AppServices) -> Void = { _ in },
        _ body: (Cluster) async throws -> Void
    ) async throws {
        let database = try TestPostgres.createDatabase()
        let masterKey = MasterKey.generate()
        var instances: [Instance] = []
        var directories: [String] = []
        func stopAll() async {
            for instance in instances {
                await instance.app.realtimeConnections.closeAll()
                await instance.app.server.shutdown()
                await instance.app.executionSupervisor.shutdown()
                try? await instance.app.asyncShutdown()
            }
            for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
            try? TestPostgres.dropDatabase(database.name)
        }
        do {
            // One after another: the first migrates the database, the others find it migrated.
            for _ in 0..<count {
                let directory = FileManager.default.temporaryDirectory
                    .appendingPathComponent("pw-scale-\(UUID().uuidString)").path
                directories.append(directory)
                var configuration = PipewrightConfiguration.testing(dataDirectory: directory, masterKey: masterKey)
                configuration.database = .postgres(url: database.url)
                customize(&configuration)
                let app = try await Application.make(.testing)
                do {
                    try await App.configure(app, configuration: configuration) { services in
                        services.passwordHashCost = 4
                        customizeServices(&services)
                    }
                    app.http.server.configuration.hostname = "127.0.0.1"
                    app.http.server.configuration.port = 0
                    try await app.asyncBoot()
                    try await app.server.start(address: .hostname("127.0.0.1", port: 0))
                } catch {
                    try? await app.asyncShutdown()
                    throw error
                }
                let port = try #require(app.http.server.shared.localAddress?.port)
                instances.append(Instance(app: app, port: port))
            }
            let db = instances[0].app.db
            let admin = try await existingOrNewUser("admin", role: .admin, app: instances[0].app)
            let member = try await existingOrNewUser("member", role: .maintainer, app: instances[0].app)
            let adminToken = try await TokenIssuer.issue(
                for: try admin.requireID(), name: "t", expiresInDays: nil, now: Date(), on: db)
            let memberToken = try await TokenIssuer.issue(
                for: try member.requireID(), name: "t", expiresInDays: nil, now: Date(), on: db)
            try await withHTTPClient { http in
                try await body(
                    Cluster(
                        instances: instances, adminToken: adminToken.token, memberToken: memberToken.token, http: http))
            }
        } catch {
            await stopAll()
            throw error
        }
        await stopAll()
    }

    // MARK: - Triggers

    static let email = "ci@acme.test"
    static let token = "ATATT-scale-\(UUID().uuidString)"

    /// A fake Bitbucket with `acme/web`, three instances pointed at it, a connection, a key, a server and a
    /// pipeline (created through instance 0).
    func withTriggerCluster(_ body: (Cluster, FakeBitbucketServer, Int) async throws -> Void) async throws {
        let fake = try await FakeBitbucketServer.start()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let transport = AsyncHTTPClientTransport(httpClient: client)
        do {
            _ = await fake.addRepository(
                workspace: "acme", slug: "web", mainBranch: "main", files: ["package.json": "{}"])
            await fake.acceptedAPIToken(email: Self.email, token: Self.token)
            await fake.scriptPipelines(
                workspace: "acme", slug: "web", steps: [FakeStepScript(name: "Build", lines: ["building"])])
            try await withCluster(
                count: 3,
                configure: {
                    $0.bitbucketAPIURL = fake.baseURL
                    $0.pollInterval = .milliseconds(100)
                },
                services: { services in
                    services.triggerRetryBaseDelay = .milliseconds(10)
                    services.triggerRetryCap = .milliseconds(40)
                    services.makeBitbucketClient = { url, credentials, logger in
                        LiveBitbucketClient(
                            baseURL: url, credentials: credentials, transport: transport,
                            retryPolicy: RetryPolicy(
                                maxAttempts: 3, baseDelay: .milliseconds(5), cap: .milliseconds(20)),
                            logger: logger, requestTimeout: .seconds(60))
                    }
                }
            ) { cluster in
                var ids: [Int] = []
                for (path, payload) in [
                    (
                        "api/connections",
                        [
                            "name": "acme", "workspace": "acme",
                            "auth": ["type": "api_token", "email": Self.email, "token": Self.token],
                        ]
                    ),
                    ("api/ssh-keys", ["name": "deploy", "key_type": "ed25519"]),
                    ("api/servers", ["host": "203.0.113.10", "username": "deploy"]),
                ] as [(String, [String: Any])] {
                    let reply = try await cluster.call(0, .POST, path, body: payload)
                    #expect(reply.status == 201, "\(path): \(reply.json)")
                    ids.append(try #require(reply.json["id"] as? Int))
                }
                let reply = try await cluster.call(
                    0, .POST, "api/pipelines",
                    body: [
                        "name": "web", "connection_id": ids[0], "repo_slug": "web",
                        "deploy": ["server_ids": [ids[2]], "ssh_key_id": ids[1], "deploy_path": "/srv/web"],
                    ])
                #expect(reply.status == 201, "\(reply.json)")
                try await body(cluster, fake, try #require(reply.json["id"] as? Int))
            }
        } catch {
            try? await client.shutdown()
            try? await fake.stop()
            throw error
        }
        try await client.shutdown()
        try await fake.stop()
    }

    /// Fires 20 identical triggers at once, spread round-robin over the instances; returns the (status, id) of each.
    func twentyTriggers(_ cluster: Cluster, pipelineID: Int, key: String?) async throws -> [(Int, Int?)] {
        try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
            for index in 0..<20 {
                group.addTask {
                    let reply = try await cluster.call(
                        index % cluster.instances.count, .POST, "api/pipelines/\(pipelineID)/trigger",
                        body: ["branch": "main"], headers: key.map { [("Idempotency-Key", $0)] } ?? [])
                    return (reply.status, reply.json["id"] as? Int)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// The trigger POSTs (`POST …/pipelines/`) the fake Bitbucket received.
    func triggerPOSTs(_ fake: FakeBitbucketServer) async -> Int {
        await fake.requests().filter { $0.method == "POST" && $0.path.hasSuffix("/repositories/acme/web/pipelines/") }
            .count
    }

    @Test func idempotencyKey_twentyConcurrentTriggersOverThreeInstances_oneExecution_oneBitbucketTrigger()
        async throws
    {
        try await withTriggerCluster { cluster, fake, pipelineID in
            let answers = try await twentyTriggers(cluster, pipelineID: pipelineID, key: "deploy-\(UUID().uuidString)")
            #expect(answers.allSatisfy { $0.0 == 202 }, "\(answers)")
            let ids = Set(answers.compactMap(\.1))
            #expect(ids.count == 1, "\(answers)")
            #expect(try await Execution.query(on: cluster.instances[1].app.db).count() == 1)
            // The one execution's trigger reaches Bitbucket once.
            let id = try #require(ids.first)
            var uuid: String?
            for _ in 0..<400 where uuid == nil {
                let json = try await cluster.call(2, .GET, "api/executions/\(id)").json
                uuid = (json["bitbucket"] as? [String: Any])?["uuid"] as? String
                if uuid == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            #expect(uuid != nil)
            #expect(await triggerPOSTs(fake) == 1)
            #expect(await fake.pipelineCount(workspace: "acme", slug: "web") == 1)
        }
    }

    /// The per-pipeline rule without a key (docs/API.md "Triggering and executions"): an identical trigger
    /// (pipeline, branch, commit, pattern) while one is still `TRIGGERING` returns that execution. Bitbucket
    /// holds the first trigger POST (the fake's `acceptThenDrop`), so the execution stays `TRIGGERING` for the
    /// whole burst: all 20 requests, on three instances, get the same execution.
    @Test func noKey_twentyConcurrentIdenticalTriggersOverThreeInstances_whileTriggering_oneExecution() async throws {
        try await withTriggerCluster { cluster, fake, pipelineID in
            await fake.setPipelineBehaviour(acceptThenDropDelay: .seconds(30))
            await fake.failNextTriggers(1, with: .acceptThenDrop)
            let answers = try await twentyTriggers(cluster, pipelineID: pipelineID, key: nil)
            #expect(answers.allSatisfy { $0.0 == 202 }, "\(answers)")
            #expect(Set(answers.compactMap(\.1)).count == 1, "\(answers)")
            let executions = try await Execution.query(on: cluster.instances[0].app.db).all()
            #expect(executions.count == 1)
            #expect(executions.first?.status == .triggering)
            #expect(await triggerPOSTs(fake) <= 1)
        }
    }

    // MARK: - Key operations

    /// A key deploy on instance 0 and a rotation of the same key on instance 1 overlap: the second to start is
    /// refused with 409 `operation_in_progress`, and afterwards every account's `authorized_keys` on the real
    /// sshd holds exactly the keys the ledger records as present there.
    ///
    /// "Overlap" is made certain without sleeping on guesses: the second request is sent once the sshd log shows
    /// the first operation's first SSH login (operations log in only while holding the key's lock, and each
    /// has further logins to make after that one).
    @Test func deployAndRotateOfOneKey_onTwoInstancesAtOnce_neverInterleave() async throws {
        try await SSHDFixture.withFixture(users: 3) { fixture in
            try await withCluster(count: 2) { cluster in
                let created = try await cluster.call(
                    0, .POST, "api/ssh-keys", body: ["name": "shared", "key_type": "ed25519"])
                #expect(created.status == 201)
                let keyID = try #require(created.json["id"] as? Int)
                func target(_ user: SSHDFixtureUser) -> [String: Any] {
                    [
                        "host": fixture.host, "port": fixture.port, "username": user.name,
                        "password": user.password.value,
                    ]
                }
                /// Waits until sshd has accepted more logins than `count` (at most 60 s).
                func waitForLogin(after count: Int) async throws {
                    for _ in 0..<6000 where acceptedLogins(fixture) <= count {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                // Recorded on two accounts, so a rotation makes several SSH sessions.
                let first = try await cluster.call(
                    0, .POST, "api/ssh-keys/\(keyID)/deploy",
                    body: ["servers": fixture.users.prefix(2).map(target)])
                #expect(first.status == 200 && first.json["ok"] as? Bool == true, "\(first.json)")

                // Rotation on instance 1; a deploy of the same key to the third account on instance 0 starts
                // while it runs.
                var logins = acceptedLogins(fixture)
                async let rotation = cluster.call(1, .POST, "api/ssh-keys/\(keyID)/rotate")
                try await waitForLogin(after: logins)
                let deploy = try await cluster.call(
                    0, .POST, "api/ssh-keys/\(keyID)/deploy", body: ["servers": [target(fixture.users[2])]])
                let rotated = try await rotation
                #expect(rotated.status == 200, "\(rotated.json)")
                // Refused while the rotation holds the key, or (when this request reached the key only after the
                // rotation had finished, on a loaded machine) because the rotation retired it: never both run.
                #expect(deploy.status == 409, "\(deploy.json)")
                #expect(["operation_in_progress", "key_retired"].contains(deploy.errorCode ?? ""), "\(deploy.json)")
                #expect(rotated.json["retired_key_id"] as? Int == keyID)
                let newKeyID = try #require((rotated.json["key"] as? [String: Any])?["id"] as? Int)

                // And the other way round: a deploy to three accounts, one after another, on instance 0; a
                // rotation on instance 1 while it runs.
                logins = acceptedLogins(fixture)
                async let spread = cluster.call(
                    0, .POST, "api/ssh-keys/\(newKeyID)/deploy",
                    body: ["servers": fixture.users.map(target), "parallel": false])
                try await waitForLogin(after: logins)
                let secondRotation = try await cluster.call(1, .POST, "api/ssh-keys/\(newKeyID)/rotate")
                let spreadResult = try await spread
                #expect(spreadResult.status == 200, "\(spreadResult.json)")
                // Refused while the deploy holds the key, or run after it (then it rotated all three accounts).
                let refused = secondRotation.status == 409 && secondRotation.errorCode == "operation_in_progress"
                #expect(refused || secondRotation.status == 200, "\(secondRotation.json)")
                if !refused {
                    #expect((secondRotation.json["results"] as? [Any])?.count == 3, "\(secondRotation.json)")
                }

                try await expectLedgerMatchesServer(cluster, fixture)
            }
        }
    }

    /// Logins sshd has accepted so far (password or key).
    func acceptedLogins(_ fixture: SSHDFixture) -> Int {
        fixture.log().split(whereSeparator: \.isNewline).filter { $0.contains("Accepted ") }.count
    }

    /// Every account's `authorized_keys` holds exactly the public keys the ledger records `present` there, and a
    /// retired key is present nowhere (an interleaved deploy would put the old key back after the rotation).
    func expectLedgerMatchesServer(_ cluster: Cluster, _ fixture: SSHDFixture) async throws {
        let db = cluster.instances[0].app.db
        let keys = try await StoredKey.query(on: db).all()
        for key in keys where key.status == .retired {
            let present = try await KeyDeployment.query(on: db).filter(\.$key.$id == key.requireID()).all()
                .filter { $0.status == .present }
            #expect(present.isEmpty, "retired key \(key.id ?? 0) still recorded present")
        }
        for user in fixture.users {
            let lines = Set(
                (fixture.authorizedKeys(of: user) ?? "").split(whereSeparator: \.isNewline).map {
                    $0.split(separator: " ").prefix(2).joined(separator: " ")
                })
            var expected: Set<String> = []
            for key in keys {
                let present = try await KeyDeployment.query(on: db).filter(\.$key.$id == key.requireID())
                    .with(\.$server).all()
                    .filter {
                        $0.status == .present && $0.server.username == user.name && $0.server.port == fixture.port
                    }
                if !present.isEmpty {
                    expected.insert(key.publicKey.split(separator: " ").prefix(2).joined(separator: " "))
                }
            }
            #expect(lines == expected, "\(user.name): server \(lines) ledger \(expected)")
        }
    }

    // MARK: - Rate limits

    /// A budget of 4 exports per hour counts requests made to any of three instances: the fifth and sixth,
    /// wherever they land, are refused with 429.
    @Test func rateLimit_countsRequestsAcrossInstances() async throws {
        try await withCluster(
            count: 3,
            configure: { $0.rateLimits.limits[.export] = RateLimit(requests: 4, periodSeconds: 3600) }
        ) { cluster in
            let created = try await cluster.call(
                0, .POST, "api/ssh-keys", body: ["name": "limited", "key_type": "ed25519"])
            #expect(created.status == 201)
            let keyID = try #require(created.json["id"] as? Int)
            var statuses: [Int] = []
            for index in 0..<6 {
                let reply = try await cluster.call(
                    index % 3, .GET, "api/ssh-keys/\(keyID)/private", token: cluster.adminToken)
                statuses.append(reply.status)
                if reply.status == 429 { #expect(reply.errorCode == "rate_limited") }
            }
            #expect(statuses == [200, 200, 200, 200, 429, 429])
        }
    }

    // MARK: - The lock itself

    /// Two processes' `OperationLocks` on one database: a name held by one is refused by the other, and a
    /// holder whose session dies (an instance killed) releases its locks at once.
    @Test func operationLocks_onTwoSessions_excludeEachOther_andADeadSessionReleases() async throws {
        let database = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(database.name) }
        let logger = Logger(label: "test")
        let first = OperationLocks(shared: try PostgresAdvisoryLocks(url: database.url, logger: logger))
        let second = OperationLocks(shared: try PostgresAdvisoryLocks(url: database.url, logger: logger))
        let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await first.withLock("ssh_key:7") {
                enteredContinuation.yield()
                for await _ in release { break }
            }
        }
        for await _ in entered { break }
        await #expect(throws: AppError.self) { try await second.withLock("ssh_key:7") {} }
        try await second.withLock("ssh_key:8") {}  // another name is free
        // The holding process dies: its session closes, PostgreSQL drops the lock (once the server process of
        // the session has ended: a few milliseconds).
        await first.close()
        var taken = false
        for _ in 0..<50 where !taken {
            do {
                try await second.withLock("ssh_key:7") {}
                taken = true
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(taken)
        releaseContinuation.yield()
        _ = try? await holder.value
        await second.close()
    }

    /// Advisory locks of the ownership key held by sessions now (`pg_locks`, `mode` "ShareLock" for a shared
    /// holder, "ExclusiveLock" for an exclusive one).
    func ownershipHolders(_ url: String) throws -> [String] {
        let key = DatabaseOwnership.lockKey
        let high = UInt32(truncatingIfNeeded: key >> 32)
        let low = UInt32(truncatingIfNeeded: key)
        let text = try TestPostgres.psql(
            url,
            "SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = \(high) "
                + "AND objid = \(low) AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        return text.split(separator: "\n").map(String.init)
    }

    /// The session whose lock connection PostgreSQL ends (a restart, a network cut) takes its locks again; and
    /// an offline command that grabbed the database meanwhile makes the server stop instead of writing beside
    /// it (docs/operations.md "One owner of a data directory").
    @Test func ownershipLock_lostConnection_isTakenAgain_orTheServerStops() async throws {
        let database = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(database.name) }
        let logger = Logger(label: "test")
        let lost = Mutex<[String]>([])
        let server = try await DatabaseOwnership.acquire(
            url: database.url, exclusive: false, purpose: "serve", logger: logger, instanceID: "web-a"
        ) { reason in lost.withLock { $0.append(reason) } }
        #expect(try ownershipHolders(database.url) == ["ShareLock"])
        let terminate =
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 "
            + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"

        // 1. The lock session is killed: within a second the server holds the lock again, and an offline command
        //    is refused as before.
        try TestPostgres.psql(database.url, terminate)
        var holders: [String] = []
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(50))
            holders = try ownershipHolders(database.url)
            if holders == ["ShareLock"] { break }
        }
        #expect(holders == ["ShareLock"], "the shared lock is held again")
        await #expect(throws: CommandFailure.self) {
            _ = try await DatabaseOwnership.acquire(
                url: database.url, exclusive: true, purpose: "master-key rotate", logger: logger)
        }
        #expect(lost.withLock { $0 }.isEmpty)

        // 2. The session is killed and an offline command takes the database before the server is back (the
        //    command's psql session takes the exclusive lock in the same statement that ends the server's
        //    session): the server gives up (its `serve` stops) instead of writing beside the command.
        let command = Task {
            try TestPostgres.psql(
                database.url,
                terminate + "; SELECT pg_advisory_lock(\(DatabaseOwnership.lockKey)); SELECT pg_sleep(3)")
        }
        for _ in 0..<60 where lost.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(lost.withLock { $0 }.count == 1)
        #expect(lost.withLock { $0 }.first?.contains("offline pipewright command") == true)
        _ = try? await command.value
        await server.release()
    }

    /// Two instances with one `PIPEWRIGHT_INSTANCE_ID` would renew each other's leases: the second is refused.
    @Test func ownershipLock_refusesASecondInstanceWithTheSameID() async throws {
        let database = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(database.name) }
        let logger = Logger(label: "test")
        let first = try await DatabaseOwnership.acquire(
            url: database.url, exclusive: false, purpose: "serve", logger: logger, instanceID: "web-a")
        do {
            _ = try await DatabaseOwnership.acquire(
                url: database.url, exclusive: false, purpose: "serve", logger: logger, instanceID: "web-a")
            Issue.record("a second web-a was accepted")
        } catch let error as CommandFailure {
            #expect(error.message.contains("PIPEWRIGHT_INSTANCE_ID=web-a"), "\(error.message)")
        }
        let other = try await DatabaseOwnership.acquire(
            url: database.url, exclusive: false, purpose: "serve", logger: logger, instanceID: "web-b")
        await first.release()
        await other.release()
    }

    /// Three applications configured at once on an empty database: migrations run one after the other, every
    /// start succeeds, each migration is recorded once.
    @Test func instancesStartingTogether_onAnEmptyDatabase_allMigrate() async throws {
        let database = try TestPostgres.createDatabase()
        defer { try? TestPostgres.dropDatabase(database.name) }
        let masterKey = MasterKey.generate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<3 {
                group.addTask {
                    var configuration = PipewrightConfiguration.testing(
                        dataDirectory: NSTemporaryDirectory() + "pw-migrate-\(UUID().uuidString)", masterKey: masterKey)
                    configuration.database = .postgres(url: database.url)
                    configuration.cluster.instanceID = "start-\(index)"
                    let app = try await Application.make(.testing)
                    do {
                        try await App.configure(app, configuration: configuration)
                        try await app.asyncShutdown()
                    } catch {
                        try? await app.asyncShutdown()
                        throw error
                    }
                }
            }
            try await group.waitForAll()
        }
        let recorded = try TestPostgres.psql(
            database.url, "SELECT count(*) - count(DISTINCT name) FROM _fluent_migrations")
        #expect(recorded == "0", "no migration recorded twice")
    }

    /// The key mapping is stable and keeps kinds apart (docs/scaling.md "Locks, idempotency and rate limits").
    @Test func advisoryLockKey_mapsIDsExactly_andKindsToDistinctClasses() {
        #expect(AdvisoryLockKey("ssh_key:42").objectID == 42)
        #expect(AdvisoryLockKey("ssh_key:42").classID == AdvisoryLockKey("ssh_key:7").classID)
        #expect(AdvisoryLockKey("repository:acme/web") == AdvisoryLockKey("repository:acme/web"))
        let kinds = ["ssh_key:1", "repository:1", "trigger:1", "users:1"].map { AdvisoryLockKey($0).classID }
        #expect(Set(kinds).count == kinds.count)
    }
}
