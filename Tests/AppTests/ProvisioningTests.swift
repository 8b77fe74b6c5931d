import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Fluent
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing
import Vapor
import VaporTesting
import Yams

@testable import App

/// Issue 15: provisioning a repository so the generated pipeline deploys — through the HTTP API, against the
/// in-repo fake Bitbucket over HTTP and real `sshd` fixtures (docs/provisioning.md).
@Suite struct ProvisioningTests {
    static let email = "dev@acme.test"
    static let token = "ATATT3xFfGF0-provision-token-\(UUID().uuidString)"

    /// What a test gets: the app, the fake, the sshd fixtures and the ids created through the API.
    struct Setup {
        var ctx: TestContext
        var fake: FakeBitbucketServer
        var fixtures: [SSHDFixture]
        var keyID: Int
        var serverIDs: [Int]
        var pipelineID: Int
        /// The deploy path of the pipeline (in the first fixture user's home).
        var deployPath: String
    }

    /// A Bitbucket transport that runs `hook` before sending each request.
    struct HookTransport: BitbucketHTTPTransport {
        let inner: any BitbucketHTTPTransport
        let hook: @Sendable (BitbucketHTTPRequest) async -> Void

        func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
            -> BitbucketHTTPResponse
        {
            await hook(request)
            return try await inner.send(request, timeout: timeout)
        }
    }

    /// Starts `servers` sshd fixtures (one user each), a fake holding `acme/web` (a Node app), and an app with a
    /// connection, a key deployed (by password) to every fixture, and a pipeline deploying to them.
    func withSetup(
        servers: Int = 1, keyType: String = "rsa", keySize: Int? = 2048, sshdConfiguration: [String] = [],
        extraServer: Bool = false, scopes: Set<String>? = nil,
        hook: @escaping @Sendable (BitbucketHTTPRequest) async -> Void = { _ in },
        prepare: ([SSHDFixture]) throws -> Void = { _ in },
        _ body: (Setup) async throws -> Void
    ) async throws {
        var fixtures: [SSHDFixture] = []
        let fake = try await FakeBitbucketServer.start()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            for _ in 0..<servers {
                fixtures.append(try await SSHDFixture.start(users: 1, extraConfiguration: sshdConfiguration))
            }
            try prepare(fixtures)
            await fake.addRepository(
                workspace: "acme", slug: "web", mainBranch: "main", files: BitbucketFlowTests.nodeApp)
            await fake.acceptedAPIToken(email: Self.email, token: Self.token, scopes: scopes)
            let transport = HookTransport(inner: AsyncHTTPClientTransport(httpClient: httpClient), hook: hook)
            try await withTestApp(
                configure: { $0.bitbucketAPIURL = fake.baseURL },
                services: { services in
                    services.makeBitbucketClient = { url, credentials, logger in
                        LiveBitbucketClient(
                            baseURL: url, credentials: credentials, transport: transport,
                            retryPolicy: RetryPolicy(
                                maxAttempts: 3, baseDelay: .milliseconds(5), cap: .milliseconds(20)),
                            logger: logger)
                    }
                }
            ) { ctx in
                let connection = try await Self.post(
                    ctx, "api/connections",
                    [
                        "name": "acme", "workspace": "acme",
                        "auth": ["type": "api_token", "email": Self.email, "token": Self.token],
                    ], status: .created)
                var keyBody: [String: Any] = ["name": "deploy", "key_type": keyType]
                if let keySize { keyBody["key_size"] = keySize }
                let keyID = try #require(
                    try await Self.post(ctx, "api/ssh-keys", keyBody, status: .created)["id"] as? Int)
                let targets: [[String: Any]] = fixtures.map { fixture in
                    let user = fixture.users[0]
                    return [
                        "host": fixture.host, "port": fixture.port, "username": user.name,
                        "password": user.password.value,
                    ]
                }
                let deployed = try await Self.post(ctx, "api/ssh-keys/\(keyID)/deploy", ["servers": targets])
                #expect(deployed["ok"] as? Bool == true, "\(deployed)")
                var serverIDs = try #require(deployed["results"] as? [[String: Any]]).compactMap {
                    ($0["server"] as? [String: Any])?["id"] as? Int
                }
                if extraServer {
                    // A server Pipewright never connected to: no pinned host key.
                    let server = try await Self.post(
                        ctx, "api/servers", ["host": "203.0.113.10", "port": 22, "username": "deploy"], status: .created
                    )
                    serverIDs.append(try #require(server["id"] as? Int))
                }
                let deployPath = fixtures[0].users[0].home + "/app"
                let pipeline = try await Self.post(
                    ctx, "api/pipelines",
                    [
                        "name": "web", "connection_id": try #require(connection["id"] as? Int), "repo_slug": "web",
                        "deploy": ["server_ids": serverIDs, "ssh_key_id": keyID, "deploy_path": deployPath],
                    ], status: .created)
                try await body(
                    Setup(
                        ctx: ctx, fake: fake, fixtures: fixtures, keyID: keyID, serverIDs: serverIDs,
                        pipelineID: try #require(pipeline["id"] as? Int), deployPath: deployPath))
            }
        } catch {
            for fixture in fixtures { await fixture.stop() }
            try? await httpClient.shutdown()
            try? await fake.stop()
            throw error
        }
        for fixture in fixtures { await fixture.stop() }
        try await httpClient.shutdown()
        try await fake.stop()
    }

    // MARK: - HTTP helpers

    static func post(
        _ ctx: TestContext, _ path: String, _ body: [String: Any] = [:], status: HTTPStatus = .ok,
        headers: HTTPHeaders? = nil
    ) async throws -> [String: Any] {
        var json: [String: Any] = [:]
        try await ctx.app.testing().test(
            .POST, path, headers: .json(headers ?? ctx.memberAuth), body: try jsonBody(body)
        ) {
            res async throws in
            #expect(res.status == status, "\(path): \(res.body.string)")
            #expect(!res.body.string.contains("PRIVATE KEY"), "\(path) leaked a private key")
            #expect(!res.body.string.contains(Self.token))
            json = (try? res.json()) ?? [:]
        }
        return json
    }

    static func get(_ ctx: TestContext, _ path: String, status: HTTPStatus = .ok) async throws -> [String: Any] {
        var json: [String: Any] = [:]
        try await ctx.app.testing().test(.GET, path, headers: ctx.memberAuth) { res async throws in
            #expect(res.status == status, "\(path): \(res.body.string)")
            #expect(!res.body.string.contains("PRIVATE KEY"), "\(path) leaked a private key")
            json = (try? res.json()) ?? [:]
        }
        return json
    }

    static func items(_ json: [String: Any], _ key: String = "items") throws -> [[String: Any]] {
        try #require(json[key] as? [[String: Any]], "\(json)")
    }

    static func item(_ items: [[String: Any]], kind: String, name: String? = nil) -> [String: Any]? {
        items.first { $0["kind"] as? String == kind && (name == nil || $0["name"] as? String == name) }
    }

    /// The private key, exported by the admin (export is admin-only, docs/API.md "Users and roles").
    static func keyPEM(_ ctx: TestContext, _ id: Int) async throws -> String {
        var pem = ""
        try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)/private", headers: ctx.adminAuth) {
            res async throws in
            pem = try #require(try res.json()["private_key"] as? String)
        }
        return pem
    }

    static func publicKey(_ ctx: TestContext, _ id: Int) async throws -> String {
        try #require(try await get(ctx, "api/ssh-keys/\(id)")["public_key"] as? String)
    }

    /// `ssh-keyscan -t ed25519 -p PORT HOST`: the `known_hosts` line OpenSSH itself records for the fixture.
    static func keyscan(_ fixture: SSHDFixture) throws -> String {
        let result = try runProgram(
            "/usr/bin/ssh-keyscan", ["-t", "ed25519", "-p", String(fixture.port), fixture.host])
        return try #require(
            result.stdout.split(separator: "\n").map(String.init).first { !$0.hasPrefix("#") && !$0.isEmpty },
            "ssh-keyscan: \(result.stderr)")
    }

    // MARK: - Done when: one create-pr, the fake holds everything, a second provision writes nothing

    @Test func createPR_withProvision_freshRepository_fakeHoldsEverything_andSecondProvisionWritesNothing()
        async throws
    {
        try await withSetup(servers: 2) { setup in
            let (ctx, fake) = (setup.ctx, setup.fake)
            #expect(await fake.pipelinesSetup(workspace: "acme", slug: "web")?.enabled == nil)
            let pipelineBefore = try await Self.get(ctx, "api/pipelines/\(setup.pipelineID)")
            #expect(pipelineBefore["provisioning_status"] as? String == "never")

            let response = try await Self.post(
                ctx, "api/pipelines/\(setup.pipelineID)/create-pr", ["provision": true], status: .created)
            let provisioning = try #require(response["provisioning"] as? [String: Any], "\(response)")
            #expect(provisioning["ok"] as? Bool == true, "\(provisioning)")
            let results = try Self.items(provisioning, "results")
            #expect(results.allSatisfy { $0["status"] as? String == "created" }, "\(results)")

            let state = try #require(await fake.pipelinesSetup(workspace: "acme", slug: "web"))
            #expect(state.enabled == true)
            // The key pair's public half is the pipeline's key; Bitbucket got the private half too.
            let publicKey = try await Self.publicKey(ctx, setup.keyID)
            #expect(state.keyPair?.publicKey == publicKey)
            let pem = try await Self.keyPEM(ctx, setup.keyID)
            #expect(state.keyPair?.privateKey.contains("PRIVATE KEY") == true)
            #expect(
                try SSHPublicKey(openSSHLine: publicKey).fingerprintSHA256
                    == (try PrivateKeyImporter.parse(pem, passphrase: nil).key.publicKey.fingerprintSHA256))
            // One known host per server, equal to what ssh-keyscan of that sshd prints.
            #expect(state.knownHosts.count == 2)
            for fixture in setup.fixtures {
                let scanned = try Self.keyscan(fixture)
                #expect(state.knownHosts.contains { $0.knownHostsLine == scanned }, "\(scanned) vs \(state.knownHosts)")
            }
            // Every variable the generated YAML references, with its value; the environment of the Deploy step.
            let yaml = try #require(
                await fake.fileAt(
                    workspace: "acme", slug: "web", ref: "pipewright/add-pipeline", path: "bitbucket-pipelines.yml"))
            let referenced = Set(
                yaml.matches(of: /\$(DEPLOY_[A-Z0-9_]+)/).map { String($0.output.1) })
            #expect(!referenced.isEmpty)
            #expect(referenced.isSubset(of: Set(state.variables.map(\.key))), "\(referenced)")
            let values = Dictionary(uniqueKeysWithValues: state.variables.map { ($0.key, $0.value) })
            #expect(values["DEPLOY_PATH"] == setup.deployPath)
            for (index, fixture) in setup.fixtures.enumerated() {
                #expect(values["DEPLOY_HOST_\(index + 1)"] == fixture.host)
                #expect(values["DEPLOY_PORT_\(index + 1)"] == String(fixture.port))
                #expect(values["DEPLOY_USER_\(index + 1)"] == fixture.users[0].name)
            }
            #expect(state.environments.map { $0.name.lowercased() } == ["production"])
            // The pull request says what was provisioned, without secrets.
            let pullRequest = try #require(await fake.pullRequests(workspace: "acme", slug: "web").first)
            #expect(pullRequest.description.contains("Repository settings provisioned by Pipewright"))
            #expect(pullRequest.description.contains("DEPLOY_HOST_1"))
            #expect(!pullRequest.description.contains("PRIVATE KEY"))

            // A second provision changes nothing: no write reaches Bitbucket.
            let writes = await fake.writeCount()
            let again = try await Self.post(ctx, "api/pipelines/\(setup.pipelineID)/provision")
            #expect(again["ok"] as? Bool == true)
            #expect(try Self.items(again, "results").allSatisfy { $0["status"] as? String == "unchanged" })
            #expect(await fake.writeCount() == writes)
            let plan = try await Self.get(ctx, "api/pipelines/\(setup.pipelineID)/provisioning")
            #expect(plan["in_sync"] as? Bool == true)
            #expect(try Self.items(plan).allSatisfy { $0["action"] as? String == "none" })
            #expect(await fake.writeCount() == writes)
            let pipeline = try await Self.get(ctx, "api/pipelines/\(setup.pipelineID)")
            #expect(pipeline["provisioning_status"] as? String == "in_sync")
            // Audit: the apply of create-pr and the second apply.
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "pipeline.provision").all()
            #expect(entries.count == 1)
        }
    }

    // MARK: - Done when: the Deploy step run by hand with the provisioned settings deploys to the sshd

    @Test func deployStep_runByHandWithProvisionedVariablesKeyAndKnownHosts_deploysToTestSSHD() async throws {
        // The remote side of the step: `sudo systemctl restart` and `npm` are stubs that log their arguments.
        let stubs = FileManager.default.temporaryDirectory.appendingPathComponent("pw-stubs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: stubs) }
        for (name, script) in [
            ("sudo", "#!/bin/sh\nexec \"$@\"\n"),
            ("systemctl", "#!/bin/sh\necho \"systemctl $*\" >> \"$HOME/deploy.log\"\n"),
            ("npm", "#!/bin/sh\necho \"npm $*\" >> \"$HOME/deploy.log\"\n"),
        ] {
            FileManager.default.createFile(
                atPath: "\(stubs)/\(name)", contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stubs)
        try await withSetup(sshdConfiguration: ["SetEnv PATH=\(stubs):/usr/local/bin:/usr/bin:/bin"]) { setup in
            let (ctx, fake) = (setup.ctx, setup.fake)
            _ = try await Self.post(
                ctx, "api/pipelines/\(setup.pipelineID)/create-pr", ["provision": true], status: .created)
            let state = try #require(await fake.pipelinesSetup(workspace: "acme", slug: "web"))
            let yaml = try #require(
                await fake.fileAt(
                    workspace: "acme", slug: "web", ref: "pipewright/add-pipeline", path: "bitbucket-pipelines.yml"))
            let script = try DeployStepScript.shell(fromPipelinesYAML: yaml, branch: "main")

            // A build container, by hand: the key pair, the known hosts and the variables as Bitbucket holds them.
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("pw-build-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(
                atPath: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { try? FileManager.default.removeItem(atPath: work) }
            let keyPair = try #require(state.keyPair)
            FileManager.default.createFile(
                atPath: "\(work)/id", contents: Data((keyPair.privateKey + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
            FileManager.default.createFile(
                atPath: "\(work)/known_hosts",
                contents: Data(state.knownHosts.map { $0.knownHostsLine + "\n" }.joined().utf8))
            FileManager.default.createFile(atPath: "\(work)/empty_known_hosts", contents: Data())
            try FileManager.default.createDirectory(atPath: "\(work)/release", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: "\(work)/release/server.js", contents: Data("// app\n".utf8))
            let tar = try runProgram("/bin/tar", ["-czf", "\(work)/release.tar.gz", "-C", "\(work)/release", "."])
            #expect(tar.status == 0, "\(tar.stderr)")
            var environment = ["PATH": "/usr/bin:/bin", "HOME": work]
            for variable in state.variables { environment[variable.key] = variable.value }

            // Without the provisioned known hosts the same script refuses the server (no trust from a scan).
            var refused = environment
            refused["PW_KEY"] = "\(work)/id"
            refused["PW_KNOWN_HOSTS"] = "\(work)/empty_known_hosts"
            let untrusted = try runProgram("/bin/bash", ["-c", "cd \(work) && " + script], environment: refused)
            #expect(untrusted.status != 0)

            environment["PW_KEY"] = "\(work)/id"
            environment["PW_KNOWN_HOSTS"] = "\(work)/known_hosts"
            let run = try runProgram("/bin/bash", ["-c", "cd \(work) && " + script], environment: environment)
            #expect(run.status == 0, "script:\n\(script)\nstdout: \(run.stdout)\nstderr: \(run.stderr)")
            let user = setup.fixtures[0].users[0]
            #expect(FileManager.default.fileExists(atPath: "\(setup.deployPath)/server.js"))
            #expect(!FileManager.default.fileExists(atPath: "\(setup.deployPath)/release.tar.gz"))
            let log = (try? String(contentsOfFile: "\(user.home)/deploy.log", encoding: .utf8)) ?? ""
            #expect(log.contains("systemctl restart web"), "\(log)")
        }
    }

    // MARK: - Trust comes from pins; conflicts; drift

    @Test func serverWithoutPin_isConflict_othersProvisioned_resultReportedPerItem() async throws {
        try await withSetup(extraServer: true) { setup in
            let plan = try await Self.get(setup.ctx, "api/pipelines/\(setup.pipelineID)/provisioning")
            let hosts = try Self.items(plan).filter { $0["kind"] as? String == "known_host" }
            #expect(hosts.count == 2)
            let unpinned = try #require(hosts.first { $0["name"] as? String == "203.0.113.10" })
            #expect(unpinned["action"] as? String == "conflict")
            #expect((unpinned["conflict"] as? [String: Any])?["code"] as? String == "host_key_not_pinned")
            let run = try await Self.post(setup.ctx, "api/pipelines/\(setup.pipelineID)/provision")
            #expect(run["ok"] as? Bool == false)
            let results = try Self.items(run, "results")
            #expect(Self.item(results, kind: "known_host", name: "203.0.113.10")?["status"] as? String == "conflict")
            #expect(Self.item(results, kind: "key_pair")?["status"] as? String == "created")
            let state = try #require(await setup.fake.pipelinesSetup(workspace: "acme", slug: "web"))
            #expect(state.knownHosts.count == 1)
            #expect(!state.knownHosts.contains { $0.hostname == "203.0.113.10" })
            let pipeline = try await Self.get(setup.ctx, "api/pipelines/\(setup.pipelineID)")
            #expect(pipeline["provisioning_status"] as? String == "drifted")
        }
    }

    @Test func missingWriteScope_failsOnlyTheItemsThatNeedIt_reportedPerItem() async throws {
        // No `pipeline:variable`: Pipelines and the environment can be written, the rest cannot.
        try await withSetup(scopes: ["account", "repository", "repository:admin", "pipeline"]) { setup in
            let run = try await Self.post(setup.ctx, "api/pipelines/\(setup.pipelineID)/provision")
            #expect(run["ok"] as? Bool == false)
            let results = try Self.items(run, "results")
            #expect(Self.item(results, kind: "pipelines")?["status"] as? String == "created")
            #expect(Self.item(results, kind: "environment")?["status"] as? String == "created")
            for kind in ["key_pair", "known_host", "variable"] {
                let failed = results.filter { $0["kind"] as? String == kind }
                #expect(!failed.isEmpty)
                for item in failed {
                    #expect(item["status"] as? String == "failed", "\(item)")
                    let error = item["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "bitbucket_forbidden")
                    #expect((error?["message"] as? String)?.contains("pipeline:variable") == true, "\(item)")
                }
            }
            let entry = try await AuditEntry.query(on: setup.ctx.app.db).filter(\.$action == "pipeline.provision")
                .first()
            #expect(entry?.outcome == .failure)
        }
    }

    @Test func itemChangedByHand_showsAsUpdate_drifted_andProvisionRepairsIt_audited() async throws {
        try await withSetup { setup in
            let (ctx, fake) = (setup.ctx, setup.fake)
            _ = try await Self.post(ctx, "api/pipelines/\(setup.pipelineID)/provision")
            await fake.editPipelinesSetup(workspace: "acme", slug: "web") { state in
                if let index = state.variables.firstIndex(where: { $0.key == "DEPLOY_PATH" }) {
                    state.variables[index].value = "/somewhere/else"
                }
            }
            let plan = try await Self.get(ctx, "api/pipelines/\(setup.pipelineID)/provisioning")
            let changed = try #require(Self.item(try Self.items(plan), kind: "variable", name: "DEPLOY_PATH"))
            #expect(changed["action"] as? String == "update")
            #expect((changed["current"] as? [String: Any])?["value"] as? String == "/somewhere/else")
            #expect((changed["desired"] as? [String: Any])?["value"] as? String == setup.deployPath)
            #expect(plan["provisioning_status"] as? String == "drifted")
            let list = try await Self.get(ctx, "api/pipelines")
            #expect(try Self.items(list).first?["provisioning_status"] as? String == "drifted")
            let run = try await Self.post(ctx, "api/pipelines/\(setup.pipelineID)/provision")
            #expect(
                Self.item(try Self.items(run, "results"), kind: "variable", name: "DEPLOY_PATH")?["status"] as? String
                    == "updated")
            let state = try #require(await fake.pipelinesSetup(workspace: "acme", slug: "web"))
            #expect(state.variables.first { $0.key == "DEPLOY_PATH" }?.value == setup.deployPath)
            let replaced = try await AuditEntry.query(on: ctx.app.db)
                .filter(\.$action == "pipeline.provisioning_item_replace").all()
            #expect(replaced.count == 1)
            #expect(replaced.first?.details["name"] == "DEPLOY_PATH")
            // A provisioned pipeline can still be deleted (its provisioning record goes with it).
            try await ctx.app.testing().test(.DELETE, "api/pipelines/\(setup.pipelineID)", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .noContent, "\(res.body.string)")
            }
            #expect(try await PipelineProvisioning.query(on: ctx.app.db).count() == 0)
        }
    }

    @Test func foreignKeyPair_isConflictWithFingerprint_untilReplaceIsAsked() async throws {
        try await withSetup { setup in
            let (ctx, fake) = (setup.ctx, setup.fake)
            let foreign = try KeyGenerator.generate(type: .rsa, bits: 2048).publicKey(comment: "someone@laptop")
            await fake.editPipelinesSetup(workspace: "acme", slug: "web") { state in
                state.keyPair = FakeKeyPair(
                    privateKey: "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----",
                    publicKey: foreign.authorizedKeysLine)
            }
            let plan = try await Self.get(ctx, "api/pipelines/\(setup.pipelineID)/provisioning")
            let keyPair = try #require(Self.item(try Self.items(plan), kind: "key_pair"))
            #expect(keyPair["action"] as? String == "conflict")
            #expect((keyPair["conflict"] as? [String: Any])?["code"] as? String == "foreign_key_pair")
            #expect(
                (keyPair["current"] as? [String: Any])?["fingerprint_sha256"] as? String == foreign.fingerprintSHA256)
            let refused = try await Self.post(ctx, "api/pipelines/\(setup.pipelineID)/provision")
            #expect(Self.item(try Self.items(refused, "results"), kind: "key_pair")?["status"] as? String == "conflict")
            #expect(
                await fake.pipelinesSetup(workspace: "acme", slug: "web")?.keyPair?.publicKey
                    == foreign.authorizedKeysLine)
            let replaced = try await Self.post(
                ctx, "api/pipelines/\(setup.pipelineID)/provision", ["replace_foreign_key_pair": true])
            #expect(Self.item(try Self.items(replaced, "results"), kind: "key_pair")?["status"] as? String == "updated")
            #expect(
                await fake.pipelinesSetup(workspace: "acme", slug: "web")?.keyPair?.publicKey
                    == (try await Self.publicKey(ctx, setup.keyID)))
            let audit = try await AuditEntry.query(on: ctx.app.db)
                .filter(\.$action == "pipeline.provisioning_item_replace").all()
            #expect(audit.first?.details["foreign"] == "true")
            #expect(audit.first?.details["previous_fingerprint"] == foreign.fingerprintSHA256)
        }
    }

    @Test func ed25519Key_isConflictKeyTypeUnsupported_untilGenerateRSAKeyDeploysAndUsesOne() async throws {
        try await withSetup(keyType: "ed25519", keySize: nil) { setup in
            let run = try await Self.post(setup.ctx, "api/pipelines/\(setup.pipelineID)/provision")
            let keyPair = try #require(Self.item(try Self.items(run, "results"), kind: "key_pair"))
            #expect(keyPair["status"] as? String == "conflict")
            #expect((keyPair["error"] as? [String: Any])?["code"] as? String == "key_type_unsupported")
            #expect(await setup.fake.pipelinesSetup(workspace: "acme", slug: "web")?.keyPair == nil)

            // The offered way out: an RSA-4096 key, generated, deployed to the servers, used by the pipeline.
            let switched = try await Self.post(
                setup.ctx, "api/pipelines/\(setup.pipelineID)/provision", ["generate_rsa_key": true])
            #expect(switched["ok"] as? Bool == true, "\(switched)")
            let pipeline = try await Self.get(setup.ctx, "api/pipelines/\(setup.pipelineID)")
            let newKeyID = try #require((pipeline["deploy"] as? [String: Any])?["ssh_key_id"] as? Int)
            #expect(newKeyID != setup.keyID)
            let key = try await Self.get(setup.ctx, "api/ssh-keys/\(newKeyID)")
            #expect(key["key_type"] as? String == "rsa" && key["key_size"] as? Int == 4096)
            let publicKey = try #require(key["public_key"] as? String)
            #expect(await setup.fake.pipelinesSetup(workspace: "acme", slug: "web")?.keyPair?.publicKey == publicKey)
            let fixture = setup.fixtures[0]
            let pem = try await Self.keyPEM(setup.ctx, newKeyID)
            #expect(
                try loginWithKey(pem, host: fixture.host, port: fixture.port, user: fixture.users[0].name)
                    == fixture.users[0].name)
        }
    }

    @Test func acceptedHostKeyChange_marksKnownHostOutOfDate_andProvisionWritesTheNewPin() async throws {
        try await withSetup { setup in
            let (ctx, fake) = (setup.ctx, setup.fake)
            _ = try await Self.post(ctx, "api/pipelines/\(setup.pipelineID)/provision")
            let fixture = setup.fixtures[0]
            try await fixture.regenerateHostKey()
            let fingerprint = await fixture.hostKeyFingerprint
            _ = try await Self.post(
                ctx, "api/servers/\(setup.serverIDs[0])/host-keys/accept", ["fingerprint_sha256": fingerprint],
                headers: ctx.adminAuth)
            let pipeline = try await Self.get(ctx, "api/pipelines/\(setup.pipelineID)")
            #expect(pipeline["provisioning_status"] as? String == "drifted")
            let plan = try await Self.get(ctx, "api/pipelines/\(setup.pipelineID)/provisioning")
            let host = try #require(Self.item(try Self.items(plan), kind: "known_host"))
            #expect(host["action"] as? String == "update")
            #expect((host["reason"] as? String)?.contains("accepted as changed") == true, "\(host)")
            #expect((host["desired"] as? [String: Any])?["fingerprint_sha256"] as? String == fingerprint)
            _ = try await Self.post(ctx, "api/pipelines/\(setup.pipelineID)/provision")
            let state = try #require(await fake.pipelinesSetup(workspace: "acme", slug: "web"))
            #expect(state.knownHosts.map(\.knownHostsLine) == [try Self.keyscan(fixture)])
        }
    }

    // MARK: - Rotation carries through; a failure at any step leaves the old key working everywhere

    /// Provisions, then rotates; returns the rotate response, the old key's PEM and the rotated key's id.
    func provisionThenRotate(_ setup: Setup, before: () async throws -> Void = {}) async throws -> (
        [String: Any], String, Int?
    ) {
        _ = try await Self.post(setup.ctx, "api/pipelines/\(setup.pipelineID)/provision")
        let oldPEM = try await Self.keyPEM(setup.ctx, setup.keyID)
        try await before()
        let rotated = try await Self.post(setup.ctx, "api/ssh-keys/\(setup.keyID)/rotate")
        return (rotated, oldPEM, (rotated["key"] as? [String: Any])?["id"] as? Int)
    }

    /// The old key still logs in, the repository still holds it, the pipeline still uses it, it is not retired.
    func expectOldKeyWorksEverywhere(_ setup: Setup, oldPEM: String, oldPublicKey: String) async throws {
        let fixture = setup.fixtures[0]
        let user = fixture.users[0]
        #expect(try loginWithKey(oldPEM, host: fixture.host, port: fixture.port, user: user.name) == user.name)
        #expect(await setup.fake.pipelinesSetup(workspace: "acme", slug: "web")?.keyPair?.publicKey == oldPublicKey)
        let pipeline = try await Self.get(setup.ctx, "api/pipelines/\(setup.pipelineID)")
        #expect((pipeline["deploy"] as? [String: Any])?["ssh_key_id"] as? Int == setup.keyID)
        #expect(try await Self.get(setup.ctx, "api/ssh-keys/\(setup.keyID)")["status"] as? String == "active")
    }

    @Test func rotate_deploysVerifiesProvisionsThenRemovesOldKey() async throws {
        try await withSetup { setup in
            let (rotated, oldPEM, newID) = try await provisionThenRotate(setup)
            #expect(rotated["ok"] as? Bool == true, "\(rotated)")
            let newKeyID = try #require(newID)
            let repositories = try Self.items(rotated, "repositories")
            #expect(repositories.map { $0["status"] as? String } == ["replaced"])
            let newPublic = try await Self.publicKey(setup.ctx, newKeyID)
            #expect(await setup.fake.pipelinesSetup(workspace: "acme", slug: "web")?.keyPair?.publicKey == newPublic)
            let fixture = setup.fixtures[0]
            let user = fixture.users[0]
            let newPEM = try await Self.keyPEM(setup.ctx, newKeyID)
            #expect(try loginWithKey(newPEM, host: fixture.host, port: fixture.port, user: user.name) == user.name)
            #expect(try loginWithKey(oldPEM, host: fixture.host, port: fixture.port, user: user.name) == nil)
            let pipeline = try await Self.get(setup.ctx, "api/pipelines/\(setup.pipelineID)")
            #expect((pipeline["deploy"] as? [String: Any])?["ssh_key_id"] as? Int == newKeyID)
            let plan = try await Self.get(setup.ctx, "api/pipelines/\(setup.pipelineID)/provisioning")
            #expect(plan["in_sync"] as? Bool == true, "\(plan)")
        }
    }

    @Test func rotate_failingAtDeploy_leavesOldKeyWorkingEverywhere() async throws {
        try await withSetup { setup in
            let oldPublic = try await Self.publicKey(setup.ctx, setup.keyID)
            let user = setup.fixtures[0].users[0]
            let (rotated, oldPEM, _) = try await provisionThenRotate(setup) {
                // The account can no longer edit its authorized_keys (root owns it; sshd still reads it).
                try Self.lockAuthorizedKeys(of: user)
            }
            #expect(rotated["ok"] as? Bool == false)
            #expect(try Self.items(rotated, "results").first?["status"] as? String == "failed")
            #expect(try Self.items(rotated, "repositories").isEmpty)
            try await expectOldKeyWorksEverywhere(setup, oldPEM: oldPEM, oldPublicKey: oldPublic)
        }
    }

    @Test func rotate_failingAtVerify_leavesOldKeyWorkingEverywhere() async throws {
        // Once frozen, sshd no longer reads the user's authorized_keys: the new key lands there but is not
        // accepted, so the verifying login fails.
        let freeze = try KeyFreeze()
        defer { freeze.remove() }
        try await withSetup(
            sshdConfiguration: freeze.sshdConfiguration, prepare: { try freeze.link($0.flatMap(\.users)) }
        ) { setup in
            let oldPublic = try await Self.publicKey(setup.ctx, setup.keyID)
            let user = setup.fixtures[0].users[0]
            let (rotated, oldPEM, newID) = try await provisionThenRotate(setup) { try freeze.freeze(user) }
            #expect(rotated["ok"] as? Bool == false, "\(rotated)")
            let result = try #require(try Self.items(rotated, "results").first)
            #expect(result["status"] as? String == "failed")
            #expect((result["error"] as? [String: Any])?["code"] as? String == "auth_failed", "\(result)")
            #expect(try Self.items(rotated, "repositories").isEmpty)
            #expect(newID != nil)
            try await expectOldKeyWorksEverywhere(setup, oldPEM: oldPEM, oldPublicKey: oldPublic)
        }
    }

    @Test func rotate_failingAtRepositoryKeyPair_keepsOldKeyOnServers() async throws {
        try await withSetup { setup in
            let oldPublic = try await Self.publicKey(setup.ctx, setup.keyID)
            let (rotated, oldPEM, newID) = try await provisionThenRotate(setup) {
                // Bitbucket fails every attempt of the key-pair step (the client tries 3 times).
                await setup.fake.failNext(3, with: .serverError)
            }
            #expect(rotated["ok"] as? Bool == false)
            let repositories = try Self.items(rotated, "repositories")
            #expect(repositories.map { $0["status"] as? String } == ["failed"])
            let result = try #require(try Self.items(rotated, "results").first)
            #expect((result["error"] as? [String: Any])?["code"] as? String == "rotation_held")
            try await expectOldKeyWorksEverywhere(setup, oldPEM: oldPEM, oldPublicKey: oldPublic)
            // The new key was deployed and verified, and stays: both work until a rotation completes.
            let fixture = setup.fixtures[0]
            let newPEM = try await Self.keyPEM(setup.ctx, try #require(newID))
            #expect(
                try loginWithKey(newPEM, host: fixture.host, port: fixture.port, user: fixture.users[0].name)
                    == fixture.users[0].name)
        }
    }

    @Test func rotate_failingAtOldKeyRemoval_leavesOldKeyWorking() async throws {
        let lockUser = LockedUser()
        try await withSetup(hook: { request in
            // Right after the repository got the new key pair, the account's authorized_keys becomes read-only.
            if request.method == "PUT", request.url.hasSuffix("/ssh/key_pair"), let user = await lockUser.user {
                try? ProvisioningTests.lockAuthorizedKeys(of: user)
            }
        }) { setup in
            _ = try await Self.post(setup.ctx, "api/pipelines/\(setup.pipelineID)/provision")
            let oldPEM = try await Self.keyPEM(setup.ctx, setup.keyID)
            await lockUser.set(setup.fixtures[0].users[0])
            let rotated = try await Self.post(setup.ctx, "api/ssh-keys/\(setup.keyID)/rotate")
            #expect(rotated["ok"] as? Bool == false)
            #expect(try Self.items(rotated, "results").first?["status"] as? String == "failed")
            #expect(try Self.items(rotated, "repositories").map { $0["status"] as? String } == ["replaced"])
            let fixture = setup.fixtures[0]
            let user = fixture.users[0]
            #expect(try loginWithKey(oldPEM, host: fixture.host, port: fixture.port, user: user.name) == user.name)
            #expect(try await Self.get(setup.ctx, "api/ssh-keys/\(setup.keyID)")["status"] as? String == "active")
        }
    }

    // MARK: - Nothing secret

    @Test func securedVariable_showsSecuredOnly_inPlanResultAndDescription() throws {
        let item = ProvisioningItem(
            kind: .variable, name: "API_TOKEN", desired: ProvisionedState(value: "s3cr3t-token", secured: true),
            current: ProvisionedState(value: "older-s3cr3t", secured: true), action: .update)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let plan = String(decoding: try encoder.encode(ProvisioningItemResponse(item)), as: UTF8.self)
        let run = ProvisioningRun(
            pipelineID: 1, repository: "acme/web", results: [.init(item: item, outcome: .updated)], status: .inSync)
        let result = String(decoding: try encoder.encode(ProvisionResponse(run)), as: UTF8.self)
        let description = ProvisioningSummary.markdown(run)
        for text in [plan, result, description] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
        #expect(plan.contains("\"secured\":true") && plan.contains("\"value\":null"))
        #expect(description.contains("`API_TOKEN` (secured)"))
    }

    // MARK: - Input

    @Test func provision_badBodyOrUnknownPipeline_isClearError() async throws {
        try await withTestApp { ctx in
            _ = try await Self.post(ctx, "api/pipelines/999/provision", status: .notFound)
            _ = try await Self.get(ctx, "api/pipelines/999/provisioning", status: .notFound)
            try await ctx.app.testing().test(
                .POST, "api/pipelines/999/provision", headers: .json(ctx.memberAuth),
                body: ByteBuffer(string: "{\"replace_foreign_key_pair\": \"yes\"}")
            ) { res async throws in
                #expect(res.status == .badRequest || res.status == .notFound, "\(res.body.string)")
            }
        }
    }

    // MARK: - Fixture helpers

    /// Makes `~/.ssh` and `authorized_keys` root-owned and read-only for the user (sshd's StrictModes
    /// accepts root-owned files, so existing keys still log in; the account cannot edit them).
    static func lockAuthorizedKeys(of user: SSHDFixtureUser) throws {
        let ssh = "\(user.home)/.ssh"
        for path in [ssh, "\(ssh)/authorized_keys"] {
            try FileManager.default.setAttributes([.ownerAccountID: 0, .groupOwnerAccountID: 0], ofItemAtPath: path)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: ssh)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: "\(ssh)/authorized_keys")
    }
}

/// The user whose keys a transport hook locks (set once the fixture exists).
actor LockedUser {
    var user: SSHDFixtureUser?
    func set(_ user: SSHDFixtureUser) { self.user = user }
}

/// Lets a test freeze the keys sshd accepts for a user: a `Match all` block points `AuthorizedKeysFile` at
/// `/var/lib/pipewright-test-…/<user>`, a symlink to the user's `~/.ssh/authorized_keys` (so deploys work as
/// usual) until ``freeze(_:)`` replaces it with a root-owned copy of the keys the user has now. Then a key
/// deployed into `authorized_keys` lands there but sshd does not accept it. (sshd wants every directory
/// above a root-owned keys file root-owned and not group/world writable, hence `/var/lib`.)
struct KeyFreeze {
    let directory: String

    init() throws {
        directory = "/var/lib/pipewright-test-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
    }

    /// `sshd_config` lines appended after the fixture's own (a `Match` block overrides the global setting).
    var sshdConfiguration: [String] { ["Match all", "    AuthorizedKeysFile \(directory)/%u"] }

    /// Points sshd at the users' own `authorized_keys`.
    func link(_ users: [SSHDFixtureUser]) throws {
        for user in users {
            try FileManager.default.createSymbolicLink(
                atPath: "\(directory)/\(user.name)", withDestinationPath: user.authorizedKeysPath)
        }
    }

    /// From now on sshd accepts exactly the keys `user` has now.
    func freeze(_ user: SSHDFixtureUser) throws {
        let current = try String(contentsOfFile: user.authorizedKeysPath, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(directory)/\(user.name)")
        FileManager.default.createFile(
            atPath: "\(directory)/\(user.name)", contents: Data(current.utf8), attributes: [.posixPermissions: 0o644])
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// Turns the Deploy step of a generated `bitbucket-pipelines.yml` into a bash script, as a build container
/// would run it: plain script lines run as they are; each pipe becomes a subshell that sets the pipe's
/// variables (Bitbucket substitutes `$VAR`s in them) and calls a function doing what the pipe does with the
/// container's SSH identity and known hosts (`$PW_KEY`, `$PW_KNOWN_HOSTS`): `atlassian/ssh-run` runs
/// `$COMMAND` over ssh, `atlassian/rsync-deploy` copies `$LOCAL_PATH` to `$REMOTE_PATH` over ssh (scp here:
/// the same transport, authentication and host-key check; rsync is not installed on the test machines).
enum DeployStepScript {
    struct NoDeployStep: Error {}

    static func shell(fromPipelinesYAML yaml: String, branch: String) throws -> String {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any],
            let pipelines = root["pipelines"] as? [String: Any],
            let branches = pipelines["branches"] as? [String: Any], let steps = branches[branch] as? [Any],
            let deploy = steps.compactMap({ ($0 as? [String: Any])?["step"] as? [String: Any] })
                .first(where: { $0["name"] as? String == "Deploy" }),
            let script = deploy["script"] as? [Any]
        else { throw NoDeployStep() }
        var lines = [
            "set -eu",
            #"SSH_OPTS="-F /dev/null -i $PW_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$PW_KNOWN_HOSTS -o LogLevel=ERROR""#,
            #"pipe_ssh_run() { ssh $SSH_OPTS -p "${PORT:-22}" "$SSH_USER@$SERVER" "$COMMAND"; }"#,
            #"pipe_rsync_deploy() { scp -O $SSH_OPTS -P "${SSH_PORT:-22}" "$LOCAL_PATH" "$USER@$SERVER:$REMOTE_PATH"; }"#,
        ]
        for entry in script {
            if let line = entry as? String {
                lines.append(line)
            } else if let pipe = entry as? [String: Any], let name = pipe["pipe"] as? String {
                let variables = (pipe["variables"] as? [String: Any]) ?? [:]
                let function =
                    name.hasPrefix("atlassian/ssh-run")
                    ? "pipe_ssh_run" : name.hasPrefix("atlassian/rsync-deploy") ? "pipe_rsync_deploy" : "false"
                let assignments = variables.keys.sorted().map { key in
                    let value = String(describing: variables[key] ?? "")
                        .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                        .replacingOccurrences(of: "`", with: "\\`")
                    return "\(key)=\"\(value)\""
                }
                lines.append("( " + assignments.joined(separator: "; ") + "; \(function) )")
            }
        }
        return lines.joined(separator: "\n")
    }
}
