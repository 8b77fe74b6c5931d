import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Foundation
import PipewrightCore
import PipewrightTesting
import Testing

/// The repository-configuration endpoints (reference §3): the client against the fake over HTTP, the fake's
/// rules, and the client's models against recorded examples of the real API.
@Suite struct BitbucketPipelinesSetupTests {
    static let rsaPublicKey =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC5YgyJeo89DXQpjkBKtJzpaB0sl0bCdGZrHai4LLY5BoKcuPc/GR41ut3c4AAnLk/KbqxSBuQFggNFUeLa9C0ALUxPMVU7AZG3DPY1ZVt3KTvqF4pLe41X+XoF3AFnthjf9FediVSIztBGatlU7IOPIf2Qp1X1HjbSZVxEl6GskCgsP4BDeluXP1qEXW7F3IimaTeTALG37yn2dhQTyyXDMgw0j+sjal0QehoDSphtW25ITQz01nffq4darSTpVznhZKmysjLgB0MzdFpIpZ+JjENRz1/VtC86tFHDPv2wghl3GvcyEJ36sXnWxirHzQb8ixLT6AMblCNw4CbNaw7h deploy"
    static let privateKey =
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    /// `ssh-ed25519` blob (from `ssh-keyscan`).
    static let ed25519Blob = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

    func withRepository(_ body: (FakeBitbucketServer, LiveBitbucketClient) async throws -> Void) async throws {
        try await withFakeBitbucket { server in
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            try await body(server, makeClient(server))
        }
    }

    @Test func pipelinesConfig_is404BeforeFirstPut_thenEnabled() async throws {
        try await withRepository { server, client in
            #expect(try await client.pipelinesConfiguration(workspace: "acme", slug: "web") == nil)
            let enabled = try await client.enablePipelines(workspace: "acme", slug: "web")
            #expect(enabled.enabled)
            #expect(try await client.pipelinesConfiguration(workspace: "acme", slug: "web")?.enabled == true)
            let put = try #require(await server.requests().last { $0.method == "PUT" })
            #expect(put.path == "/2.0/repositories/acme/web/pipelines_config")
            #expect(FakeJSON.parse(put.body)?["enabled"]?.boolValue == true)
        }
    }

    @Test func variables_createDuplicate409_updateByUUIDPastPageOne_securedValueNeverReturned() async throws {
        try await withRepository { server, client in
            await server.setPagination(maxPagelen: 10)
            for index in 0..<14 {
                _ = try await client.createRepositoryVariable(
                    workspace: "acme", slug: "web", variable: .init(key: "FILL_\(index)", value: "v"))
            }
            let target = try await client.createRepositoryVariable(
                workspace: "acme", slug: "web", variable: .init(key: "DEPLOY_HOST_1", value: "10.0.0.5"))
            #expect(target.uuid.hasPrefix("{") && target.value == "10.0.0.5")
            let duplicate = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.createRepositoryVariable(
                    workspace: "acme", slug: "web", variable: .init(key: "DEPLOY_HOST_1", value: "x"))
            }
            guard case .conflict = duplicate else { Issue.record("\(String(describing: duplicate))"); return }
            let all = try await client.repositoryVariables(workspace: "acme", slug: "web")
            #expect(all.count == 15)
            let found = try #require(all.first { $0.key == "DEPLOY_HOST_1" })
            let updated = try await client.updateRepositoryVariable(
                workspace: "acme", slug: "web", uuid: found.uuid,
                variable: .init(key: "DEPLOY_HOST_1", value: "10.0.0.6"))
            #expect(updated.value == "10.0.0.6")
            // The UUID travels braced and percent-encoded.
            #expect(await server.requests().contains { $0.method == "PUT" && $0.path.contains("%7B") })

            let secret = try await client.createRepositoryVariable(
                workspace: "acme", slug: "web", variable: .init(key: "TOKEN", secret: Secret("s3cr3t-value")))
            #expect(secret.secured && secret.value == nil)
            let listed = try await client.repositoryVariables(workspace: "acme", slug: "web")
            #expect(listed.first { $0.key == "TOKEN" }?.value == nil)
            #expect(
                await server.pipelinesSetup(workspace: "acme", slug: "web")?.variables.last?.value == "s3cr3t-value")

            let unbraced = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.updateRepositoryVariable(
                    workspace: "acme", slug: "web", uuid: "not-a-uuid", variable: .init(key: "X", value: "y"))
            }
            guard case .notFound(let message) = unbraced else {
                Issue.record("\(String(describing: unbraced))"); return
            }
            #expect(message.contains("not a valid uuid"))
        }
    }

    @Test func keyPair_404WhenAbsent_putRSA_privateKeyNeverReturned_ed25519Refused() async throws {
        try await withRepository { server, client in
            #expect(try await client.sshKeyPair(workspace: "acme", slug: "web") == nil)
            let pair = try await client.replaceSSHKeyPair(
                workspace: "acme", slug: "web", privateKey: Secret(Self.privateKey), publicKey: Self.rsaPublicKey)
            #expect(pair.publicKey == Self.rsaPublicKey)
            #expect(try await client.sshKeyPair(workspace: "acme", slug: "web")?.publicKey == Self.rsaPublicKey)
            // The raw answer holds no private key.
            let response = try await sharedHTTPClient.execute(
                {
                    var request = HTTPClientRequest(
                        url: server.baseURL + "/repositories/acme/web/pipelines_config/ssh/key_pair")
                    request.headers.add(
                        name: "Authorization",
                        value: "Basic " + Data("\(testEmail):\(testToken)".utf8).base64EncodedString())
                    return request
                }(), timeout: .seconds(10))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(body.contains("public_key") && !body.contains("PRIVATE"))
            #expect(await server.pipelinesSetup(workspace: "acme", slug: "web")?.keyPair?.privateKey == Self.privateKey)

            let ed25519 = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.replaceSSHKeyPair(
                    workspace: "acme", slug: "web", privateKey: Secret(Self.privateKey),
                    publicKey: "ssh-ed25519 \(Self.ed25519Blob) x")
            }
            guard case .badRequest = ed25519 else { Issue.record("\(String(describing: ed25519))"); return }
            await server.setAcceptsEd25519KeyPairs(true)
            _ = try await client.replaceSSHKeyPair(
                workspace: "acme", slug: "web", privateKey: Secret(Self.privateKey),
                publicKey: "ssh-ed25519 \(Self.ed25519Blob) x")
        }
    }

    @Test func knownHosts_bracketedPortHostname_duplicate409_fingerprintsFromKey_update() async throws {
        try await withRepository { server, client in
            let hostname = BitbucketKnownHost.hostname(host: "127.0.0.1", port: 2222)
            #expect(hostname == "[127.0.0.1]:2222")
            #expect(BitbucketKnownHost.hostname(host: "deploy.example.com", port: 22) == "deploy.example.com")
            let key = BitbucketKnownHost.PublicKey(keyType: "ssh-ed25519", key: Self.ed25519Blob)
            let created = try await client.createKnownHost(
                workspace: "acme", slug: "web", hostname: hostname, publicKey: key)
            #expect(created.hostname == hostname && created.publicKey.key == Self.ed25519Blob)
            let expected = try HostKeyFingerprint.sha256(ofBase64: Self.ed25519Blob)
            #expect(created.publicKey.sha256Fingerprint == expected)
            let duplicate = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.createKnownHost(workspace: "acme", slug: "web", hostname: hostname, publicKey: key)
            }
            guard case .conflict = duplicate else { Issue.record("\(String(describing: duplicate))"); return }
            let mismatched = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.createKnownHost(
                    workspace: "acme", slug: "web", hostname: "other",
                    publicKey: .init(keyType: "ssh-rsa", key: Self.ed25519Blob))
            }
            guard case .badRequest = mismatched else { Issue.record("\(String(describing: mismatched))"); return }
            let listed = try await client.knownHosts(workspace: "acme", slug: "web")
            #expect(listed.map(\.hostname) == [hostname])
            let updated = try await client.updateKnownHost(
                workspace: "acme", slug: "web", uuid: created.uuid, hostname: hostname, publicKey: key)
            #expect(updated.uuid == created.uuid)
            #expect(
                await server.pipelinesSetup(workspace: "acme", slug: "web")?.knownHosts.first?.knownHostsLine
                    == "[127.0.0.1]:2222 ssh-ed25519 \(Self.ed25519Blob)")
        }
    }

    @Test func environments_createWithType_duplicate409_deploymentVariables() async throws {
        try await withRepository { server, client in
            #expect(try await client.environments(workspace: "acme", slug: "web").isEmpty)
            let production = try await client.createEnvironment(
                workspace: "acme", slug: "web", name: "production", kind: .production)
            #expect(production.typeName == "Production")
            let duplicate = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.createEnvironment(
                    workspace: "acme", slug: "web", name: "Production", kind: .production)
            }
            guard case .conflict = duplicate else { Issue.record("\(String(describing: duplicate))"); return }
            let created = try await client.createDeploymentVariable(
                workspace: "acme", slug: "web", environmentUUID: production.uuid,
                variable: .init(key: "PORT", value: "3000"))
            let updated = try await client.updateDeploymentVariable(
                workspace: "acme", slug: "web", environmentUUID: production.uuid, uuid: created.uuid,
                variable: .init(key: "PORT", value: "3001"))
            #expect(updated.value == "3001")
            let listed = try await client.deploymentVariables(
                workspace: "acme", slug: "web", environmentUUID: production.uuid)
            #expect(listed.map(\.key) == ["PORT"])
            let body = try #require(
                await server.requests().first { $0.method == "POST" && $0.path.hasSuffix("/environments/") })
            #expect(FakeJSON.parse(body.body)?["environment_type"]?["rank"]?.intValue == 2)
        }
    }

    @Test func writeScopes_missing_is403WithRequiredScope() async throws {
        try await withFakeBitbucket { server in
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            await server.acceptedAccessToken("read-only", scopes: ["pipeline", "repository"])
            let client = makeClient(server, credentials: .accessToken(Secret("read-only")))
            let hosts = try await client.knownHosts(workspace: "acme", slug: "web")
            #expect(hosts.isEmpty)
            let refused = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.replaceSSHKeyPair(
                    workspace: "acme", slug: "web", privateKey: Secret(Self.privateKey), publicKey: Self.rsaPublicKey)
            }
            guard case .forbidden(_, let scopes) = refused else {
                Issue.record("\(String(describing: refused))"); return
            }
            #expect(scopes == ["pipeline:variable"])
            let admin = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.enablePipelines(workspace: "acme", slug: "web")
            }
            guard case .forbidden(_, let adminScopes) = admin else {
                Issue.record("\(String(describing: admin))"); return
            }
            #expect(adminScopes == ["repository:admin"])
        }
    }

    /// Examples of the real API's bodies (reference §3: Ansible's documented responses, Atlassian's spec).
    @Test func models_decodeRecordedExamples() throws {
        let knownHost = #"""
            {"type": "pipeline_known_host", "uuid": "{21cc0590-bebe-4fae-8baf-03722704119a7}", "hostname": "bitbucket.org",
             "public_key": {"type": "pipeline_ssh_public_key", "md5_fingerprint": "md5:97:8c:1b:f2:6f:14:6b:4b:3b:ec:aa:46:46:74:7c:40",
              "sha256_fingerprint": "SHA256:zzXQOXSFBEiUtuE8AikoYKwbHaxvSc0ojez9YXaGp1A", "key_type": "ssh-rsa",
              "key": "AAAAB3NzaC1yc2EAAAABIwAAAQEAubiN81eDcafrgMeLzaFPsw2kN"}}
            """#
        let host = try JSONDecoder().decode(BitbucketKnownHost.self, from: Data(knownHost.utf8))
        #expect(host.hostname == "bitbucket.org" && host.publicKey.keyType == "ssh-rsa")
        #expect(host.publicKey.sha256Fingerprint == "SHA256:zzXQOXSFBEiUtuE8AikoYKwbHaxvSc0ojez9YXaGp1A")
        let pair = try JSONDecoder().decode(
            BitbucketSSHKeyPair.self,
            from: Data(#"{"public_key":"ssh-rsa AAAAB3NzaC1yc2E…2E8HAeT","type":"pipeline_ssh_key_pair"}"#.utf8))
        #expect(pair.publicKey.hasPrefix("ssh-rsa "))
        let variable = try JSONDecoder().decode(
            BitbucketVariable.self,
            from: Data(
                #"{"type":"pipeline_variable","uuid":"{9ddb0507-439a-495a-99f3-5464f15128127}","key":"AWS_ACCESS_KEY_ID","value":"x7HU80-a2","secured":false}"#
                    .utf8))
        #expect(variable.value == "x7HU80-a2" && !variable.secured)
        let secured = try JSONDecoder().decode(
            BitbucketVariable.self,
            from: Data(#"{"type":"pipeline_variable","uuid":"{1}","key":"TOKEN","secured":true}"#.utf8))
        #expect(secured.value == nil)
        let config = try JSONDecoder().decode(
            BitbucketPipelinesConfiguration.self,
            from: Data(#"{"type": "repository_pipelines_configuration", "enabled": true, "repository": {}}"#.utf8))
        #expect(config.enabled)
        let environment = try JSONDecoder().decode(
            BitbucketEnvironment.self,
            from: Data(
                #"{"type": "deployment_environment", "uuid": "{e}", "name": "Production", "environment_type": {"type": "deployment_environment_type", "name": "Production", "rank": 2}}"#
                    .utf8))
        #expect(environment.typeName == "Production")
        #expect(BitbucketEnvironment.Kind(matching: "production") == .production)
    }
}

/// OpenSSH's SHA-256 fingerprint of a base64 key blob, computed independently of the fake (`ssh-keygen -l`).
enum HostKeyFingerprint {
    struct NotBase64: Error {}

    static func sha256(ofBase64 blob: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-fp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("key.pub").path
        try Data("ssh-ed25519 \(blob)\n".utf8).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-l", "-E", "sha256", "-f", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let fingerprint = output.split(separator: " ").dropFirst().first else { throw NotBase64() }
        return String(fingerprint)
    }
}
