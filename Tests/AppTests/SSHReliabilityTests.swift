import Fluent
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12: what a deploy or test reports is what the real `sshd` does.
@Suite struct SSHReliabilityTests {
    // MARK: - Helpers

    func createKey(_ ctx: TestContext, type: String = "ed25519", size: Int? = nil) async throws -> Int {
        var body: [String: Any] = ["name": "k-\(UUID().uuidString.prefix(6))", "key_type": type]
        if let size { body["key_size"] = size }
        let json = try await send(ctx, .POST, "api/ssh-keys", body, status: .created)
        return try #require(json["id"] as? Int)
    }

    func target(_ fixture: SSHDFixture, _ user: SSHDFixtureUser, password: String? = nil) -> [String: Any] {
        var target: [String: Any] = ["host": fixture.host, "port": fixture.port, "username": user.name]
        if let password { target["password"] = password }
        return target
    }

    @discardableResult
    func send(
        _ ctx: TestContext, _ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil,
        status: HTTPStatus = .ok, auth: HTTPHeaders? = nil
    ) async throws -> [String: Any] {
        var json: [String: Any] = [:]
        let auth = auth ?? ctx.memberAuth
        let headers = body == nil ? auth : .json(auth)
        try await ctx.app.testing().test(method, path, headers: headers, body: try body.map(jsonBody)) {
            res async throws in
            #expect(res.status == status, "\(method) \(path): \(res.body.string)")
            json = (try? res.json()) ?? [:]
        }
        return json
    }

    func firstResult(_ json: [String: Any]) throws -> [String: Any] {
        try #require((json["results"] as? [[String: Any]])?.first, "\(json)")
    }

    func errorCode(_ result: [String: Any]) -> String? {
        (result["error"] as? [String: Any])?["code"] as? String
    }

    func ledgerStatus(_ ctx: TestContext, key: Int) async throws -> String? {
        let json = try await send(ctx, .GET, "api/ssh-keys/\(key)")
        return ((json["deployments"] as? [[String: Any]])?.first)?["status"] as? String
    }

    // MARK: - Item 3: servers that accept only ssh-rsa (SHA-1) signatures

    @Test func sha1OnlyServer_isUnsupportedSignatureAlgorithm_untilLegacyOptIn() async throws {
        try await SSHDFixture.withFixture(extraConfiguration: ["PubkeyAcceptedAlgorithms ssh-rsa"]) { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let key = try await createKey(ctx, type: "rsa", size: 2048)
                // The password login writes the line; a login with the key signs with rsa-sha2-512, refused.
                let deploy = try await send(
                    ctx, .POST, "api/ssh-keys/\(key)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                let deployed = try firstResult(deploy)
                // The line is written, but the verifying login with the key is refused: not "deployed".
                #expect(deployed["status"] as? String == "failed")
                #expect(errorCode(deployed) == "unsupported_signature_algorithm", "\(deployed)")
                #expect(try await ledgerStatus(ctx, key: key) == "unknown")
                let serverID = try #require((deployed["server"] as? [String: Any])?["id"] as? Int)
                #expect(fixture.authorizedKeys(of: user)?.contains("ssh-rsa ") == true)

                let test = try firstResult(try await send(ctx, .POST, "api/ssh-keys/\(key)/test", [:]))
                #expect(test["ok"] as? Bool == false)
                #expect(errorCode(test) == "unsupported_signature_algorithm", "\(test)")
                let details = try #require((test["error"] as? [String: Any])?["details"] as? [String: Any])
                #expect((details["remedy"] as? String)?.contains("legacy_rsa_sha1") == true)
                // Not "missing": the line is there, the server only refuses the signature algorithm.
                #expect(try await ledgerStatus(ctx, key: key) != "missing")
                #expect(
                    await fixture.waitForLog(
                        containing: "signature algorithm rsa-sha2-512 not in PubkeyAcceptedAlgorithms"))

                // The per-server opt-in, visible in the record and audited.
                let updated = try await send(ctx, .PATCH, "api/servers/\(serverID)", ["legacy_rsa_sha1": true])
                #expect(updated["legacy_rsa_sha1"] as? Bool == true)
                let shown = try await send(ctx, .GET, "api/servers/\(serverID)")
                #expect(shown["legacy_rsa_sha1"] as? Bool == true)
                let audit = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "server.update").all()
                #expect(audit.count == 1)
                #expect(audit.first?.details["legacy_rsa_sha1"] == "true")
                #expect(audit.first?.resourceID == serverID)

                let retest = try firstResult(try await send(ctx, .POST, "api/ssh-keys/\(key)/test", [:]))
                #expect(retest["ok"] as? Bool == true, "\(retest)")
                #expect(retest["remote_user"] as? String == user.name)
                #expect(try await ledgerStatus(ctx, key: key) == "present")
            }
        }
    }

    @Test func legacyOptIn_isPerServer_andDefaultsOff() async throws {
        try await withTestApp { ctx in
            let created = try await send(
                ctx, .POST, "api/servers",
                ["host": "127.0.0.1", "port": 2201, "username": "u1", "legacy_rsa_sha1": true],
                status: .created)
            #expect(created["legacy_rsa_sha1"] as? Bool == true)
            let plain = try await send(
                ctx, .POST, "api/servers", ["host": "127.0.0.1", "port": 2202, "username": "u1"], status: .created)
            #expect(plain["legacy_rsa_sha1"] as? Bool == false)
            let id = try #require(created["id"] as? Int)
            let off = try await send(ctx, .PATCH, "api/servers/\(id)", ["legacy_rsa_sha1": false])
            #expect(off["legacy_rsa_sha1"] as? Bool == false)
            let actions = try await AuditEntry.query(on: ctx.app.db).sort(\.$id).all().map(\.action)
            #expect(actions == ["server.create", "server.create", "server.update"])
        }
    }

    // MARK: - Item 8: interrupted authorized_keys edits

    @Test func deployCutOffAfterTheAppend_isUnknown_andTheNextTestReconciles() async throws {
        // sshd runs the edit, then (while the flag exists) keeps the session open until Pipewright gives up.
        let hangDirectory = "/tmp/pwt-hang-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: hangDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: hangDirectory) }
        let flag = "\(hangDirectory)/hang"
        #expect(FileManager.default.createFile(atPath: flag, contents: Data()))
        let forceCommand = "ForceCommand eval \"$SSH_ORIGINAL_COMMAND\"; [ ! -e \(flag) ] || sleep 60"
        try await SSHDFixture.withFixture(extraConfiguration: [forceCommand]) { fixture in
            try await withTestApp(configure: { $0.sshCommandTimeout = .seconds(4) }) { ctx in
                let user = fixture.users[0]
                let key = try await createKey(ctx)
                let deploy = try await send(
                    ctx, .POST, "api/ssh-keys/\(key)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                let result = try firstResult(deploy)
                #expect(result["status"] as? String == "unknown", "\(result)")
                #expect(errorCode(result) == "outcome_unknown")
                #expect(deploy["ok"] as? Bool == false)
                // The key did get added: "failed" would have been wrong.
                let stored = try await StoredKey.find(key, on: ctx.app.db)
                let blob = try #require(stored?.publicKey.split(separator: " ").dropFirst().first)
                #expect(fixture.authorizedKeys(of: user)?.contains(blob) == true)
                #expect(try await ledgerStatus(ctx, key: key) == "unknown")

                try FileManager.default.removeItem(atPath: flag)
                let test = try firstResult(try await send(ctx, .POST, "api/ssh-keys/\(key)/test", [:]))
                #expect(test["ok"] as? Bool == true, "\(test)")
                #expect(try await ledgerStatus(ctx, key: key) == "present")
            }
        }
    }

    @Test func staleTemporaryFileOfAKilledEdit_isRemovedByTheNextEdit() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                try fixture.writeAuthorizedKeys("# keep me\n", for: user)
                // A remove whose connection was killed before its trap ran: pid 999999999 cannot exist.
                let stale = "\(user.home)/.ssh/.authorized_keys.pipewright.999999999"
                #expect(FileManager.default.createFile(atPath: stale, contents: Data("# half\n".utf8)))
                #expect(chown(stale, user.uid, user.gid) == 0)
                let key = try await createKey(ctx)
                let deploy = try await send(
                    ctx, .POST, "api/ssh-keys/\(key)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                #expect(deploy["ok"] as? Bool == true, "\(deploy)")
                #expect(!FileManager.default.fileExists(atPath: stale))
                #expect(fixture.authorizedKeys(of: user)?.hasPrefix("# keep me\n") == true)
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(user.home)/.ssh")
                    .filter { $0.hasPrefix(".authorized_keys.pipewright.") }
                #expect(leftovers.isEmpty)
            }
        }
    }

    // MARK: - Item 1: "deployed" means a fresh login with the key worked

    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) & 0o7777
    }

    @Test func groupWritableHome_isRemotePermissions_andFixPermissionsRepairsOnlyThat() async throws {
        // Debian's sshd lets a group-writable home pass when the group is the user's private group; a
        // group shared with another account is refused as upstream OpenSSH refuses any group write bit.
        try await SSHDFixture.withFixture(users: 2) { fixture in
            try await withTestApp { ctx in
                let (user, other) = (fixture.users[0], fixture.users[1])
                #expect(chown(user.home, user.uid, other.gid) == 0)
                #expect(chmod(user.home, 0o775) == 0)
                let key = try await createKey(ctx)
                let body: [String: Any] = ["servers": [target(fixture, user, password: user.password.value)]]
                let deploy = try await send(ctx, .POST, "api/ssh-keys/\(key)/deploy", body)
                let result = try firstResult(deploy)
                #expect(result["status"] as? String == "failed", "\(result)")
                #expect(errorCode(result) == "remote_permissions")
                let details = try #require((result["error"] as? [String: Any])?["details"] as? [String: Any])
                #expect(details["path"] as? String == user.home)
                #expect(details["mode"] as? String == "0775")
                #expect(details["owner"] as? String == user.name)
                #expect((details["requirement"] as? String)?.contains("StrictModes") == true)
                #expect(await fixture.waitForLog(containing: "bad ownership or modes"))
                #expect(try await ledgerStatus(ctx, key: key) == "unknown")
                #expect(try mode(user.home) == 0o775)  // nothing is repaired unless asked

                var repair = body
                repair["fix_permissions"] = true
                let fixed = try await send(ctx, .POST, "api/ssh-keys/\(key)/deploy", repair)
                let fixedResult = try firstResult(fixed)
                #expect(fixed["ok"] as? Bool == true, "\(fixed)")
                #expect(fixedResult["status"] as? String == "already_present")
                #expect(try mode(user.home) == 0o755)  // only the group write bit went
                #expect(try mode("\(user.home)/.ssh") == 0o700)
                #expect(try await ledgerStatus(ctx, key: key) == "present")
                let pem = try #require(
                    try await send(ctx, .GET, "api/ssh-keys/\(key)/private", auth: ctx.adminAuth)["private_key"]
                        as? String)
                #expect(try loginWithKey(pem, host: fixture.host, port: fixture.port, user: user.name) == user.name)
            }
        }
    }

    @Test func homeOfAnotherOwner_isReported_andNeverChowned() async throws {
        try await SSHDFixture.withFixture(users: 2) { fixture in
            try await withTestApp { ctx in
                let (user, other) = (fixture.users[0], fixture.users[1])
                #expect(chown(user.home, other.uid, other.gid) == 0)
                #expect(chmod(user.home, 0o777) == 0)
                let key = try await createKey(ctx)
                let deploy = try await send(
                    ctx, .POST, "api/ssh-keys/\(key)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)], "fix_permissions": true])
                let result = try firstResult(deploy)
                #expect(errorCode(result) == "remote_permissions", "\(result)")
                let details = try #require((result["error"] as? [String: Any])?["details"] as? [String: Any])
                #expect(details["owner"] as? String == other.name)
                // Not the account's own directory: neither chowned nor chmodded.
                let attributes = try FileManager.default.attributesOfItem(atPath: user.home)
                #expect((attributes[.ownerAccountID] as? Int).map(UInt32.init) == other.uid)
                #expect(try mode(user.home) == 0o777)
            }
        }
    }
    // MARK: - Item 1: the same verification after rotate

    /// A rotation whose successor cannot log in (this sshd accepts only ECDSA public keys, and the
    /// successor of an ECDSA key is Ed25519) fails on that server: the old key is not retired, stays in
    /// the ledger as present and still logs in; the successor's ledger row says `unknown`.
    @Test func rotate_whoseSuccessorCannotLogIn_fails_andKeepsTheOldKeyWorking() async throws {
        try await SSHDFixture.withFixture(extraConfiguration: ["PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256"]) {
            fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "pw-ecdsa-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let keyPath = directory.appendingPathComponent("id").path
                let keygen = try runProgram(
                    "/usr/bin/ssh-keygen", ["-q", "-t", "ecdsa", "-b", "256", "-N", "", "-C", "old", "-f", keyPath])
                #expect(keygen.status == 0, "\(keygen.stderr)")
                let oldPEM = try String(contentsOfFile: keyPath, encoding: .utf8)
                let imported = try await send(
                    ctx, .POST, "api/ssh-keys/import", ["name": "ecdsa-old", "private_key": oldPEM], status: .created)
                let oldID = try #require(imported["id"] as? Int)
                let deploy = try await send(
                    ctx, .POST, "api/ssh-keys/\(oldID)/deploy",
                    ["servers": [target(fixture, user, password: user.password.value)]])
                #expect(try firstResult(deploy)["status"] as? String == "deployed", "\(deploy)")

                let rotated = try await send(ctx, .POST, "api/ssh-keys/\(oldID)/rotate")
                #expect(rotated["ok"] as? Bool == false, "\(rotated)")
                #expect(rotated["retired_key_id"] is NSNull, "\(rotated)")
                let result = try firstResult(rotated)
                #expect(result["status"] as? String == "failed", "\(result)")
                #expect(errorCode(result) == "auth_failed", "\(result)")
                let successor = try #require(rotated["key"] as? [String: Any])
                let successorDeployments = try #require(successor["deployments"] as? [[String: Any]])
                #expect(successorDeployments.map { $0["status"] as? String } == ["unknown"], "\(successor)")

                let old = try await send(ctx, .GET, "api/ssh-keys/\(oldID)")
                #expect(old["status"] as? String == "active")
                #expect(try await ledgerStatus(ctx, key: oldID) == "present")
                #expect(try loginWithKey(oldPEM, host: fixture.host, port: fixture.port, user: user.name) == user.name)
                #expect(await fixture.waitForLog(containing: "ssh-ed25519"))
            }
        }
    }
}
