import Fluent
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// The audit log: one entry per audited action, no secrets, members see only their own entries,
/// filters and pagination.
@Suite struct AuditTests {
    /// Sends a request and returns status and JSON object body (empty for non-JSON bodies).
    @discardableResult
    static func call(
        _ ctx: TestContext, _ method: HTTPMethod, _ path: String, headers: HTTPHeaders, _ body: [String: Any]? = nil
    ) async throws -> (HTTPStatus, [String: Any]) {
        var result: (HTTPStatus, [String: Any]) = (.ok, [:])
        try await ctx.app.testing().test(
            method, path, headers: body == nil ? headers : .json(headers), body: try body.map { try jsonBody($0) }
        ) { res async throws in
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]) ?? [:]
            result = (res.status, json)
        }
        return result
    }

    static func audit(_ ctx: TestContext, _ query: String = "", auth: HTTPHeaders) async throws -> (
        HTTPStatus, [String: Any]
    ) {
        try await call(ctx, .GET, "api/audit\(query)", headers: auth)
    }

    static func items(_ json: [String: Any]) -> [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }

    /// Every SSH-related and account action, once each, against a real sshd; then the log holds exactly
    /// one entry per action and none contains a secret used in the test.
    @Test func everyAuditedAction_appearsExactlyOnce_andNoSecret() async throws {
        let passphrase = "pp-secret-\(UUID().uuidString)"
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let user = fixture.users[0]
                let member = ctx.memberAuth
                // Login (failure, then success), logout with the cookie session.
                let wrongPassword = "wrong-\(UUID().uuidString)"
                let (failed, _) = try await Self.call(
                    ctx, .POST, "api/auth/login", headers: [:], ["username": "member", "password": wrongPassword])
                #expect(failed == .unauthorized)
                let session = try await cookieLogin(ctx)
                let (cookie, csrf) = (session.cookie, session.csrfToken)
                let (loggedOut, _) = try await Self.call(
                    ctx, .POST, "api/auth/logout", headers: ["Cookie": cookie, "X-CSRF-Token": csrf])
                #expect(loggedOut == .noContent)
                // Tokens.
                let (_, token) = try await Self.call(ctx, .POST, "api/tokens", headers: member, ["name": "ci"])
                let tokenID = try #require(token["id"] as? Int)
                let tokenSecret = try #require(token["token"] as? String)
                #expect(try await Self.call(ctx, .DELETE, "api/tokens/\(tokenID)", headers: member).0 == .noContent)
                // Keys: create, import, export, deploy (password), test, rotate, undeploy, delete.
                let (_, created) = try await Self.call(
                    ctx, .POST, "api/ssh-keys", headers: member,
                    ["name": "a", "key_type": "ed25519", "passphrase": passphrase])
                let keyID = try #require(created["id"] as? Int)
                let importedPEM = try KeyGenerator.generate(type: .ed25519).openSSHPrivateKeyPEM(
                    comment: "imp", passphrase: nil
                ).value
                let (_, imported) = try await Self.call(
                    ctx, .POST, "api/ssh-keys/import", headers: member, ["name": "b", "private_key": importedPEM])
                let importedID = try #require(imported["id"] as? Int)
                // Export is for admins (docs/API.md "Users and roles").
                let (_, exported) = try await Self.call(
                    ctx, .GET, "api/ssh-keys/\(keyID)/private", headers: ctx.adminAuth)
                let exportedPEM = try #require(exported["private_key"] as? String)
                let target: [String: Any] = ["host": fixture.host, "port": fixture.port, "username": user.name]
                var withPassword = target
                withPassword["password"] = user.password.value
                let (_, deploy) = try await Self.call(
                    ctx, .POST, "api/ssh-keys/\(keyID)/deploy", headers: member, ["servers": [withPassword]])
                #expect(deploy["ok"] as? Bool == true, "\(deploy)")
                let (_, test) = try await Self.call(ctx, .POST, "api/ssh-keys/\(keyID)/test", headers: member, [:])
                #expect(test["ok"] as? Bool == true)
                let (_, rotated) = try await Self.call(ctx, .POST, "api/ssh-keys/\(keyID)/rotate", headers: member)
                #expect(rotated["ok"] as? Bool == true, "\(rotated)")
                let newKeyID = try #require((rotated["key"] as? [String: Any])?["id"] as? Int)
                let (_, undeploy) = try await Self.call(
                    ctx, .POST, "api/ssh-keys/\(newKeyID)/undeploy", headers: member,
                    ["servers": [target], "force": true])
                #expect(undeploy["ok"] as? Bool == true, "\(undeploy)")
                #expect(
                    try await Self.call(ctx, .DELETE, "api/ssh-keys/\(importedID)", headers: member).0 == .noContent)
                // Host-key accept (admin).
                let serverID = try #require(try await Server.query(on: ctx.app.db).first()?.id)
                let (accepted, _) = try await Self.call(
                    ctx, .POST, "api/servers/\(serverID)/host-keys/accept", headers: ctx.adminAuth,
                    ["fingerprint_sha256": await fixture.hostKeyFingerprint])
                #expect(accepted == .ok)

                let entries = try await AuditEntry.query(on: ctx.app.db).sort(\.$id).all()
                let expected: [(String, String)] = [
                    ("auth.login", "failure"), ("auth.login", "success"), ("auth.logout", "success"),
                    ("token.create", "success"), ("token.revoke", "success"),
                    ("ssh_key.create", "success"), ("ssh_key.import", "success"), ("ssh_key.export", "success"),
                    ("ssh_key.deploy", "success"), ("ssh_key.test", "success"), ("ssh_key.rotate", "success"),
                    ("ssh_key.undeploy", "success"), ("ssh_key.delete", "success"),
                    ("server.host_key_accept", "success"),
                ]
                #expect(entries.map(\.action) == expected.map(\.0))
                #expect(entries.map(\.outcome.rawValue) == expected.map(\.1))
                // Shapes: actor, resource, attempted username on the failed login.
                #expect(entries[0].actorID == nil && entries[0].details["username"] == "member")
                #expect(entries[1].actorUsername == "member")
                #expect(entries[5].resourceType == "ssh_key" && entries[5].resourceID == keyID)
                #expect(entries[8].details["targets"] == "\(user.name)@\(fixture.host):\(fixture.port)=deployed")
                #expect(entries[13].actorUsername == "admin" && entries[13].resourceID == serverID)
                // No secret anywhere in the log (as rendered by the API, too).
                let (_, all) = try await Self.audit(ctx, "?per_page=100", auth: ctx.adminAuth)
                let rendered = String(decoding: try JSONSerialization.data(withJSONObject: all), as: UTF8.self)
                let stored = entries.map { "\($0.action) \($0.detailsJSON) \($0.actorUsername ?? "") \($0.ip)" }.joined(
                    separator: "\n")
                let secrets = [
                    user.password.value, wrongPassword, "member-password-1", tokenSecret, ctx.memberToken,
                    ctx.adminToken,
                    passphrase, cookie.split(separator: "=").last.map(String.init) ?? "x", csrf,
                    ctx.app.services.masterKey.base64Representation.value,
                ]
                for secret in secrets {
                    #expect(!rendered.contains(secret), "secret in audit JSON")
                    #expect(!stored.contains(secret), "secret in audit table")
                }
                #expect(
                    !rendered.contains("PRIVATE KEY")
                        && !rendered.contains(String(exportedPEM.dropFirst(40).prefix(40))))
            }
        }
    }

    /// Trigger, stop, rerun and PR creation against the fake Bitbucket: one entry each, no token.
    @Test func bitbucketActions_areAuditedOnce() async throws {
        let suite = ExecutionTriggerTests()
        try await suite.withSetup { setup in
            let ctx = setup.ctx
            let id = try await suite.trigger(setup)
            _ = try await suite.waitFor(setup, id) { ($0["bitbucket"] as? [String: Any]) != nil }
            #expect(try await Self.call(ctx, .POST, "api/executions/\(id)/stop", headers: ctx.memberAuth).0 == .ok)
            #expect(
                try await Self.call(ctx, .POST, "api/executions/\(id)/rerun", headers: ctx.memberAuth).0 == .accepted)
            let (prStatus, _) = try await Self.call(
                ctx, .POST, "api/pipelines/\(setup.pipelineID)/create-pr", headers: ctx.memberAuth, [:])
            #expect(prStatus == .created)
            // (The setup created a key, a server, a connection and a pipeline through the API: those entries
            // are not part of this test.)
            let setupActions = ["ssh_key.create", "server.create", "connection.create", "pipeline.create"]
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(\.$action !~ setupActions).sort(\.$id)
                .all()
            #expect(
                entries.map(\.action) == [
                    "execution.trigger", "execution.stop", "execution.rerun", "pipeline.create_pr",
                ])
            #expect(entries.allSatisfy { $0.outcome == .success })
            #expect(entries[0].resourceType == "pipeline" && entries[0].resourceID == setup.pipelineID)
            #expect(entries[0].details["execution_id"] == String(id))
            let stored = entries.map(\.detailsJSON).joined()
            #expect(!stored.contains(ExecutionTriggerTests.token) && !stored.contains(setup.webhookSecret))
        }
    }

    @Test func membersSeeOnlyTheirOwnEntries_adminsSeeAll() async throws {
        try await withTestApp { ctx in
            _ = try await Self.call(ctx, .POST, "api/tokens", headers: ctx.memberAuth, ["name": "m"])
            _ = try await Self.call(ctx, .POST, "api/tokens", headers: ctx.adminAuth, ["name": "a1"])
            _ = try await Self.call(ctx, .POST, "api/tokens", headers: ctx.adminAuth, ["name": "a2"])
            let (status, mine) = try await Self.audit(ctx, auth: ctx.memberAuth)
            #expect(status == .ok)
            #expect(Self.items(mine).count == 1)
            #expect(Self.items(mine).allSatisfy { ($0["actor"] as? [String: Any])?["username"] as? String == "member" })
            #expect((mine["pagination"] as? [String: Any])?["total"] as? Int == 1)
            // Asking for someone else's entries gives nothing, not an error and not their entries.
            let (_, theirs) = try await Self.audit(ctx, "?actor=admin", auth: ctx.memberAuth)
            #expect(Self.items(theirs).isEmpty)
            let (_, all) = try await Self.audit(ctx, auth: ctx.adminAuth)
            #expect(Self.items(all).count == 3)
            let (_, adminOnly) = try await Self.audit(ctx, "?actor=admin", auth: ctx.adminAuth)
            #expect(Self.items(adminOnly).count == 2)
            let (_, byID) = try await Self.audit(ctx, "?actor=\(ctx.memberID)", auth: ctx.adminAuth)
            #expect(Self.items(byID).count == 1)
            // Entry shape.
            let entry = try #require(Self.items(mine).first)
            #expect(Set(entry.keys) == ["id", "at", "actor", "action", "resource", "ip", "outcome", "details"])
            #expect(entry["action"] as? String == "token.create")
            #expect((entry["resource"] as? [String: Any])?["type"] as? String == "token")
            #expect((entry["at"] as? String)?.hasSuffix("Z") == true)
            // Unauthenticated: 401; append-only: no route changes or deletes entries.
            #expect(try await Self.audit(ctx, auth: [:]).0 == .unauthorized)
            let entryID = try #require(entry["id"] as? Int)
            for method in [HTTPMethod.PUT, .PATCH, .DELETE, .POST] {
                let (status, json) = try await Self.call(
                    ctx, method, "api/audit/\(entryID)", headers: ctx.adminAuth, [:])
                #expect(status == .notFound || status == .methodNotAllowed)
                #expect(json["error"] != nil)
            }
            #expect(try await Self.call(ctx, .DELETE, "api/audit", headers: ctx.adminAuth).0 != .ok)
            #expect(try await AuditEntry.query(on: ctx.app.db).count() == 3)
        }
    }

    @Test func filtersAndPagination() async throws {
        try await withTestApp { ctx in
            for index in 0..<5 {
                _ = try await Self.call(ctx, .POST, "api/tokens", headers: ctx.adminAuth, ["name": "t\(index)"])
            }
            let (_, created) = try await Self.call(
                ctx, .POST, "api/ssh-keys", headers: ctx.adminAuth, ["name": "k", "key_type": "ed25519"])
            let keyID = try #require(created["id"] as? Int)
            _ = try await Self.call(
                ctx, .POST, "api/ssh-keys", headers: ctx.adminAuth, ["name": "", "key_type": "ed25519"])
            _ = try await Self.call(
                ctx, .POST, "api/auth/login", headers: [:], ["username": "ghost", "password": "nope-nope"])

            func count(_ query: String) async throws -> Int {
                let (status, json) = try await Self.audit(ctx, query, auth: ctx.adminAuth)
                #expect(status == .ok, "\(query)")
                return (json["pagination"] as? [String: Any])?["total"] as? Int ?? -1
            }
            #expect(try await count("") == 8)
            #expect(try await count("?action=token.create") == 5)
            #expect(try await count("?action=ssh_key.create") == 2)
            #expect(try await count("?action=ssh_key.create&outcome=failure") == 1)
            #expect(try await count("?outcome=success") == 6)
            #expect(try await count("?resource=ssh_key:\(keyID)") == 1)
            #expect(try await count("?resource=ssh_key") == 2)
            #expect(try await count("?resource=token") == 5)
            #expect(try await count("?actor=admin&action=token.create") == 5)
            #expect(try await count("?action=auth.login&outcome=failure") == 1)
            #expect(try await count("?from_date=2000-01-01&to_date=2999-12-31") == 8)
            #expect(try await count("?to_date=2000-01-01") == 0)
            #expect(try await count("?from_date=2999-01-01T00:00:00Z") == 0)
            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            #expect(try await count("?from_date=\(today)&to_date=\(today)") == 8)

            // Pagination: newest first, 3 per page.
            let (_, first) = try await Self.audit(ctx, "?per_page=3", auth: ctx.adminAuth)
            let pagination = try #require(first["pagination"] as? [String: Any])
            #expect(pagination["page"] as? Int == 1 && pagination["per_page"] as? Int == 3)
            #expect(pagination["total"] as? Int == 8 && pagination["pages"] as? Int == 3)
            #expect(Self.items(first).first?["action"] as? String == "auth.login")
            let (_, last) = try await Self.audit(ctx, "?per_page=3&page=3", auth: ctx.adminAuth)
            #expect(Self.items(last).count == 2)
            let ids = (Self.items(first) + Self.items(last)).compactMap { $0["id"] as? Int }
            #expect(ids == ids.sorted(by: >))
            let (_, beyond) = try await Self.audit(ctx, "?page=9", auth: ctx.adminAuth)
            #expect(Self.items(beyond).isEmpty)
            // per_page above 100 is clamped (docs/API.md "Lists"), as on every list.
            let (_, clamped) = try await Self.audit(ctx, "?per_page=5000", auth: ctx.adminAuth)
            #expect((clamped["pagination"] as? [String: Any])?["per_page"] as? Int == 100)

            // Every filter is validated, naming the field.
            for (query, field) in [
                ("?action=ssh_key.explode", "action"), ("?action=", "action"), ("?outcome=maybe", "outcome"),
                ("?resource=planet", "resource"), ("?resource=ssh_key:abc", "resource"),
                ("?resource=ssh_key:-1", "resource"),
                ("?from_date=yesterday", "from_date"), ("?to_date=2026-13-45", "to_date"),
                ("?from_date=2026-02-01&to_date=2026-01-01", "to_date"), ("?actor=0", "actor"),
                ("?actor=%0Aadmin", "actor"), ("?page=0", "page"), ("?page=-1", "page"), ("?page=x", "page"),
                ("?per_page=0", "per_page"),
                ("?actor=\(String(repeating: "a", count: 101))", "actor"),
            ] {
                try await ctx.app.testing().test(.GET, "api/audit\(query)", headers: ctx.adminAuth) {
                    res async throws in
                    #expect(res.status == .badRequest, "\(query)")
                    let error = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error
                    #expect(error.code == "invalid_field", "\(query)")
                    #expect(error.details["field"] == field, "\(query): \(error.details)")
                }
            }
        }
    }
}
