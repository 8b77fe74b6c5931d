import Fluent
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// The SSH key workflow through the HTTP API against real `sshd` instances on 127.0.0.1.
@Suite struct SSHDeploymentTests {
    /// Creates a key through the API and returns its id.
    func createKey(_ ctx: TestContext, type: String = "ed25519", size: Int? = nil, comment: String? = nil) async throws
        -> Int
    {
        var body: [String: Any] = ["name": "k-\(UUID().uuidString.prefix(6))", "key_type": type]
        if let size { body["key_size"] = size }
        if let comment { body["comment"] = comment }
        var id = 0
        try await ctx.app.testing().test(
            .POST, "api/ssh-keys", headers: .json(ctx.memberAuth), body: try jsonBody(body)
        ) { res async throws in
            #expect(res.status == .created)
            id = try #require(try res.json()["id"] as? Int)
        }
        return id
    }

    func target(_ fixture: SSHDFixture, _ user: SSHDFixtureUser, password: String? = nil) -> [String: Any] {
        var target: [String: Any] = ["host": fixture.host, "port": fixture.port, "username": user.name]
        if let password { target["password"] = password }
        return target
    }

    /// POSTs `body` to `path` and returns the JSON response.
    func post(_ ctx: TestContext, _ path: String, _ body: [String: Any] = [:], status: HTTPStatus = .ok) async throws
        -> [String: Any]
    {
        var json: [String: Any] = [:]
        try await ctx.app.testing().test(.POST, path, headers: .json(ctx.memberAuth), body: try jsonBody(body)) {
            res async throws in
            #expect(res.status == status, "\(path): \(res.body.string)")
            json = try res.json()
        }
        return json
    }

    func results(_ json: [String: Any]) throws -> [[String: Any]] {
        try #require(json["results"] as? [[String: Any]])
    }

    /// Export is admin-only (docs/API.md "Users and roles").
    func exportPrivateKey(_ ctx: TestContext, _ id: Int) async throws -> String {
        var pem = ""
        try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)/private", headers: ctx.adminAuth) {
            res async throws in
            pem = try #require(try res.json()["private_key"] as? String)
        }
        return pem
    }

    @Test(arguments: [("ed25519", nil), ("rsa", 2048), ("rsa", 4096)] as [(String, Int?)])
    func passwordDeploy_thenKeyLogin_works(type: String, size: Int?) async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx, type: type, size: size)
                let deploy = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                #expect(deploy["ok"] as? Bool == true)
                #expect(try results(deploy).first?["status"] as? String == "deployed")
                let pem = try await exportPrivateKey(ctx, id)
                #expect(try loginWithKey(pem, host: fixture.host, port: fixture.port, user: user.name) == user.name)
                let test = try await post(ctx, "api/ssh-keys/\(id)/test")
                let first = try #require(try results(test).first)
                #expect(first["ok"] as? Bool == true)
                #expect(first["remote_user"] as? String == user.name)
                // The ledger shows the deployment and the server's host key got pinned.
                try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)", headers: ctx.memberAuth) {
                    res async throws in
                    let deployments = try #require(try res.json()["deployments"] as? [[String: Any]])
                    #expect(deployments.count == 1)
                    #expect(deployments.first?["status"] as? String == "present")
                    #expect(deployments.first?["method"] as? String == "password")
                    #expect(deployments.first?["last_verified_at"] as? String != nil)
                }
                let pins = try await PinnedHostKey.query(on: ctx.app.db).all().map(\.fingerprintSHA256)
                #expect(pins.contains(await fixture.hostKeyFingerprint))
                #expect(!(try #require(fixture.authorizedKeys(of: user))).contains("PRIVATE"))
            }
        }
    }

    @Test func wrongPassword_isAuthFailed_afterExactlyOneAttempt() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                let deploy = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy", ["servers": [target(fixture, user, password: "wrong-password")]])
                #expect(deploy["ok"] as? Bool == false)
                let result = try #require(try results(deploy).first)
                #expect(result["status"] as? String == "failed")
                #expect((result["error"] as? [String: Any])?["code"] as? String == "auth_failed")
                _ = await fixture.waitForLog(containing: "Failed password")
                #expect(fixture.failedPasswordAttempts(for: user) == 1)
                #expect(try await KeyDeployment.query(on: ctx.app.db).count() == 0)
            }
        }
    }

    @Test func deployTwice_leavesOneLine_andUndeployKeepsOtherLinesInOrder() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx, comment: "shared-comment")
                let other = try KeyGenerator.generate(type: .ed25519).publicKey(comment: "shared-comment")
                    .authorizedKeysLine
                let restricted = try KeyGenerator.generate(type: .ed25519).publicKey(comment: "ci").authorizedKeysLine
                let original =
                    "# managed by hand\n\(other)\nfrom=\"10.0.0.0/8\",no-pty \(restricted)\n# last line without newline"
                try fixture.writeAuthorizedKeys(original, for: user)
                let body: [String: Any] = ["servers": [target(fixture, user, password: user.password.value)]]
                _ = try await post(ctx, "api/ssh-keys/\(id)/deploy", body)
                let second = try await post(ctx, "api/ssh-keys/\(id)/deploy", body)
                #expect(try results(second).first?["status"] as? String == "already_present")
                let record = try #require(try await StoredKey.find(id, on: ctx.app.db))
                let deployed = try #require(fixture.authorizedKeys(of: user))
                #expect(deployed.components(separatedBy: record.publicKey).count == 2)
                #expect(deployed.hasPrefix(original + "\n"))
                let undeploy = try await post(
                    ctx, "api/ssh-keys/\(id)/undeploy", ["servers": [target(fixture, user)], "force": true])
                #expect(try results(undeploy).first?["status"] as? String == "removed")
                #expect(fixture.authorizedKeys(of: user) == original + "\n")
                #expect(try await KeyDeployment.query(on: ctx.app.db).count() == 0)
            }
        }
    }

    @Test func changedHostKey_isRefusedWithoutSendingPassword_untilAdminAccepts() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                let body: [String: Any] = ["servers": [target(fixture, user, password: user.password.value)]]
                _ = try await post(ctx, "api/ssh-keys/\(id)/deploy", body)
                let pinned = await fixture.hostKeyFingerprint
                try await fixture.regenerateHostKey()
                let presented = await fixture.hostKeyFingerprint
                #expect(pinned != presented)
                let attemptsBefore = fixture.failedPasswordAttempts(for: user)
                let logBefore = fixture.log().components(separatedBy: "Accepted password").count
                let deploy = try await post(ctx, "api/ssh-keys/\(id)/deploy", body)
                let error = try #require(try results(deploy).first?["error"] as? [String: Any])
                #expect(error["code"] as? String == "host_key_mismatch")
                let details = try #require(error["details"] as? [String: String])
                #expect(details.values.contains { $0.contains(pinned) })
                #expect(details.values.contains { $0.contains(presented) })
                let test = try await post(ctx, "api/ssh-keys/\(id)/test")
                #expect(
                    (try results(test).first?["error"] as? [String: Any])?["code"] as? String == "host_key_mismatch")
                #expect(fixture.failedPasswordAttempts(for: user) == attemptsBefore)
                #expect(fixture.log().components(separatedBy: "Accepted password").count == logBefore)
                // A member cannot accept; an admin can, for the presented fingerprint only.
                let serverID = try #require(try await Server.query(on: ctx.app.db).first()?.id)
                try await ctx.app.testing().test(
                    .POST, "api/servers/\(serverID)/host-keys/accept", headers: .json(ctx.memberAuth),
                    body: try jsonBody(["fingerprint_sha256": presented])
                ) { res async throws in #expect(res.status == .notFound || res.status == .forbidden) }
                try await ctx.app.testing().test(
                    .POST, "api/servers/\(serverID)/host-keys/accept", headers: .json(ctx.adminAuth),
                    body: try jsonBody(["fingerprint_sha256": pinned])
                ) { res async throws in #expect(res.status == .conflict) }
                try await ctx.app.testing().test(
                    .POST, "api/servers/\(serverID)/host-keys/accept", headers: .json(ctx.adminAuth),
                    body: try jsonBody(["fingerprint_sha256": presented])
                ) { res async throws in
                    #expect(res.status == .ok)
                    let keys = try #require(try res.json()["host_keys"] as? [[String: Any]])
                    #expect(keys.map { $0["fingerprint_sha256"] as? String } == [presented])
                    #expect(keys.first?["approved_by"] as? String == "admin")
                }
                let again = try await post(ctx, "api/ssh-keys/\(id)/test")
                #expect(try results(again).first?["ok"] as? Bool == true)
            }
        }
    }

    @Test func hostileTargets_are400InvalidTarget_andNothingRuns() async throws {
        let marker = "/tmp/pw-proxycommand-\(UUID().uuidString)"
        try await withTestApp { ctx in
            let id = try await createKey(ctx)
            let targets: [[String: Any]] = [
                ["host": "-oProxyCommand=touch \(marker)", "username": "deploy", "password": "x"],
                ["host": "127.0.0.1", "username": "deploy\nroot", "password": "x"],
                ["host": "127.0.0.1", "port": 0, "username": "deploy"],
                ["host": "127.0.0.1", "port": 70000, "username": "deploy"],
                ["host": "", "username": "deploy"],
                ["host": "127.0.0.1", "username": "-oProxyCommand=id"],
            ]
            for target in targets {
                for action in ["deploy", "undeploy"] {
                    let json = try await post(
                        ctx, "api/ssh-keys/\(id)/\(action)", ["servers": [target]], status: .badRequest)
                    #expect((json["error"] as? [String: Any])?["code"] as? String == "invalid_target")
                }
            }
            #expect(!FileManager.default.fileExists(atPath: marker))
            #expect(try await Server.query(on: ctx.app.db).count() == 0)
        }
    }

    @Test func shellMetacharactersInComment_areDeployedVerbatim() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let comment = "'; touch ~/pwned; echo ' $(id) `id` \"q\""
                let id = try await createKey(ctx, comment: comment)
                let deploy = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                #expect(deploy["ok"] as? Bool == true)
                let record = try #require(try await StoredKey.find(id, on: ctx.app.db))
                #expect(record.publicKey.hasSuffix(" " + comment))
                #expect(fixture.authorizedKeys(of: user)?.contains(record.publicKey + "\n") == true)
                #expect(!FileManager.default.fileExists(atPath: user.home + "/pwned"))
            }
        }
    }

    @Test func undeployOnlyKey_wouldLockOut_unlessForce() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                _ = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                let refused = try await post(ctx, "api/ssh-keys/\(id)/undeploy", ["servers": [target(fixture, user)]])
                #expect(
                    (try results(refused).first?["error"] as? [String: Any])?["code"] as? String == "would_lock_out")
                #expect(try await KeyDeployment.query(on: ctx.app.db).count() == 1)
                // A second key deployed there makes removal safe.
                let second = try await createKey(ctx)
                let viaKey = try await post(ctx, "api/ssh-keys/\(second)/deploy", ["servers": [target(fixture, user)]])
                #expect(try results(viaKey).first?["status"] as? String == "deployed")
                let removed = try await post(ctx, "api/ssh-keys/\(id)/undeploy", ["servers": [target(fixture, user)]])
                #expect(try results(removed).first?["status"] as? String == "removed")
                let pem = try await exportPrivateKey(ctx, id)
                #expect(try loginWithKey(pem, host: fixture.host, port: fixture.port, user: user.name) == nil)
            }
        }
    }

    @Test func deployToFiveServersAtOnce_recordsFiveLedgerEntries() async throws {
        var fixtures: [SSHDFixture] = []
        defer { for fixture in fixtures { Task { await fixture.stop() } } }
        for _ in 0..<5 { fixtures.append(try await SSHDFixture.start()) }
        try await withTestApp { ctx in
            let id = try await createKey(ctx)
            let targets = fixtures.map { target($0, $0.users[0], password: $0.users[0].password.value) }
            let deploy = try await post(ctx, "api/ssh-keys/\(id)/deploy", ["servers": targets])
            #expect(deploy["ok"] as? Bool == true)
            #expect(try results(deploy).map { $0["status"] as? String } == Array(repeating: "deployed", count: 5))
            #expect(try await KeyDeployment.query(on: ctx.app.db).filter(\.$key.$id == id).count() == 5)
        }
        for fixture in fixtures { await fixture.stop() }
        fixtures = []
    }

    @Test func rotate_replacesKeyEverywhere_andRetiresOldKey() async throws {
        try await SSHDFixture.withFixture(users: 2) { fixture in
            try await withTestApp { ctx in
                let id = try await createKey(ctx)
                let targets = fixture.users.map { target(fixture, $0, password: $0.password.value) }
                _ = try await post(ctx, "api/ssh-keys/\(id)/deploy", ["servers": targets])
                let oldPEM = try await exportPrivateKey(ctx, id)
                let rotated = try await post(ctx, "api/ssh-keys/\(id)/rotate")
                #expect(rotated["ok"] as? Bool == true)
                #expect(rotated["retired_key_id"] as? Int == id)
                let newKey = try #require(rotated["key"] as? [String: Any])
                let newID = try #require(newKey["id"] as? Int)
                #expect((newKey["deployments"] as? [Any])?.count == 2)
                let newPEM = try await exportPrivateKey(ctx, newID)
                for user in fixture.users {
                    #expect(
                        try loginWithKey(newPEM, host: fixture.host, port: fixture.port, user: user.name) == user.name)
                    #expect(try loginWithKey(oldPEM, host: fixture.host, port: fixture.port, user: user.name) == nil)
                }
                try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)", headers: ctx.memberAuth) {
                    res async throws in
                    #expect(try res.json()["status"] as? String == "retired")
                    #expect((try res.json()["deployments"] as? [Any])?.isEmpty == true)
                }
            }
        }
    }

    @Test func concurrentRotations_onlyOneRuns() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                _ = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            var status = HTTPStatus.internalServerError
                            try await ctx.app.testing().test(
                                .POST, "api/ssh-keys/\(id)/rotate", headers: ctx.memberAuth
                            ) { res async throws in
                                status = res.status
                            }
                            return status
                        }
                    }
                    return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .ok }.count == 1)
                #expect(statuses.filter { $0 == .conflict }.count == 5)
                #expect(try await StoredKey.query(on: ctx.app.db).filter(\.$status == .active).count() == 1)
                let lines = try #require(fixture.authorizedKeys(of: user)).split(separator: "\n")
                #expect(lines.count == 1)
            }
        }
    }

    @Test func serverDelete_inUseIs409_andPinsSurviveDeletion() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                _ = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                let serverID = try #require(try await Server.query(on: ctx.app.db).first()?.id)
                try await ctx.app.testing().test(.DELETE, "api/servers/\(serverID)", headers: ctx.memberAuth) {
                    res async throws in
                    #expect(res.status == .conflict)
                    #expect(res.errorCode == "server_in_use")
                }
                try await ctx.app.testing().test(.DELETE, "api/servers/\(serverID)?force=true", headers: ctx.memberAuth)
                { res async throws in
                    #expect(res.status == .noContent)
                }
                // Re-adding the server does not re-trust a changed host key: the pin belongs to host:port.
                try await fixture.regenerateHostKey()
                let deploy = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                #expect(
                    (try results(deploy).first?["error"] as? [String: Any])?["code"] as? String == "host_key_mismatch")
                #expect(fixture.failedPasswordAttempts(for: user) == 0)
            }
        }
    }

    @Test func delete_inUse_is409_removeFromServersCleansUp() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                _ = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                try await ctx.app.testing().test(.DELETE, "api/ssh-keys/\(id)", headers: ctx.memberAuth) {
                    res async throws in
                    #expect(res.status == .conflict)
                    #expect(res.errorCode == "key_in_use")
                }
                let line = try #require(try await StoredKey.find(id, on: ctx.app.db)).publicKey
                try await ctx.app.testing().test(
                    .DELETE, "api/ssh-keys/\(id)?remove_from_servers=true", headers: ctx.memberAuth
                ) { res async throws in
                    #expect(res.status == .noContent)
                }
                #expect(fixture.authorizedKeys(of: user)?.contains(line) == false)
                #expect(try await StoredKey.find(id, on: ctx.app.db) == nil)
            }
        }
    }

    @Test func keyRemovedByHand_testMarksDeploymentMissing() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                _ = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                try fixture.writeAuthorizedKeys("", for: user)
                let test = try await post(ctx, "api/ssh-keys/\(id)/test")
                #expect((try results(test).first?["error"] as? [String: Any])?["code"] as? String == "auth_failed")
                let deployment = try #require(try await KeyDeployment.query(on: ctx.app.db).first())
                #expect(deployment.status == .missing)
            }
        }
    }
}
