import Crypto
import Fluent
import Foundation
import PipewrightCore
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 13 item 6: what exists can be edited (connections, servers, pipelines, webhook secrets), a
/// pipeline with history is only deleted when confirmed, and every change is in the audit log.
@Suite struct EditResourceTests {
    @discardableResult
    func call(
        _ ctx: TestContext, _ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil,
        headers: HTTPHeaders
    ) async throws -> (status: HTTPStatus, code: String, json: [String: Any], text: String) {
        var result: (HTTPStatus, String, [String: Any], String) = (.ok, "", [:], "")
        var headers = headers
        if body != nil { headers.contentType = .json }
        try await ctx.app.testing().test(method, path, headers: headers, body: try body.map(jsonBody)) {
            res async throws in
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]) ?? [:]
            result = (res.status, res.errorCode, json, res.body.string)
        }
        return result
    }

    func actions(_ ctx: TestContext, _ type: String) async throws -> [String] {
        try await AuditEntry.query(on: ctx.app.db).filter(\.$resourceType == type).sort(\.$id).all().map(\.action)
    }

    @Test func connection_renameAndReplaceToken_sealedAndReverified() async throws {
        let flow = BitbucketFlowTests()
        try await flow.withPipeline(token: "ATATT-expired-token-value") { ctx, _, pipelineID in
            let pipeline = try #require(try await Pipeline.find(pipelineID, on: ctx.app.db))
            let id = pipeline.$connection.id
            let renamed = try await call(
                ctx, .PATCH, "api/connections/\(id)", ["name": "acme prod"], headers: ctx.memberAuth)
            #expect(renamed.status == .ok && renamed.json["verification"] is NSNull)
            #expect((renamed.json["connection"] as? [String: Any])?["name"] as? String == "acme prod")
            // The stored token is refused by Bitbucket; replacing it re-verifies at once.
            let before = try #require(try await Connection.find(id, on: ctx.app.db)?.sealedToken)
            let replaced = try await call(
                ctx, .PATCH, "api/connections/\(id)",
                ["auth": ["type": "api_token", "email": BitbucketFlowTests.email, "token": BitbucketFlowTests.token]],
                headers: ctx.memberAuth)
            #expect(replaced.status == .ok, "\(replaced.text)")
            #expect((replaced.json["verification"] as? [String: Any])?["ok"] as? Bool == true, "\(replaced.text)")
            #expect(!replaced.text.contains(BitbucketFlowTests.token))
            let stored = try #require(try await Connection.find(id, on: ctx.app.db))
            #expect(stored.sealedToken != before && stored.sealedToken?.contains(BitbucketFlowTests.token) == false)
            let opened = try ctx.app.services.vault.openText(stored.sealedToken, for: .connectionToken, row: id)
            #expect(opened.value == BitbucketFlowTests.token)
            #expect(stored.lastVerifiedAt != nil)
            // A bad token is stored too, and the verification says why.
            let bad = try await call(
                ctx, .PATCH, "api/connections/\(id)", ["auth": ["type": "access_token", "token": "nope-nope"]],
                headers: ctx.memberAuth)
            #expect((bad.json["verification"] as? [String: Any])?["ok"] as? Bool == false, "\(bad.text)")
            // Validation names the field; the viewer may not; an unknown id is a 404.
            let invalid = try await call(
                ctx, .PATCH, "api/connections/\(id)", ["auth": ["type": "api_token", "token": "x"]],
                headers: ctx.memberAuth)
            #expect(invalid.code == "invalid_field")
            #expect(
                try await call(ctx, .PATCH, "api/connections/\(id)", ["name": "v"], headers: ctx.viewerAuth).code
                    == "forbidden")
            #expect(
                try await call(ctx, .PATCH, "api/connections/999", ["name": "v"], headers: ctx.memberAuth).status
                    == .notFound)
            #expect(try await SecretInventory.verify(with: ctx.app.services.masterKey, on: ctx.app.db).failures.isEmpty)
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "connection.update")
                .sort(\.$id).all()
            #expect(entries.map(\.outcome) == [.success, .success, .success, .failure, .denied, .failure])
            #expect(entries[1].details["verified"] == "true" && entries[2].details["verified"] == "false")
            #expect(entries.allSatisfy { !$0.detailsJSON.contains(BitbucketFlowTests.token) })
        }
    }

    @Test func server_nameAndNotes_editable_andAudited() async throws {
        try await withTestApp { ctx in
            let created = try await call(
                ctx, .POST, "api/servers", ["host": "203.0.113.5", "username": "deploy", "notes": "rack 4"],
                headers: ctx.memberAuth)
            let id = try #require(created.json["id"] as? Int)
            #expect(created.json["notes"] as? String == "rack 4")
            let updated = try await call(
                ctx, .PATCH, "api/servers/\(id)", ["name": "web-1", "notes": "rack 5\nbehind the VPN"],
                headers: ctx.memberAuth)
            #expect(updated.json["name"] as? String == "web-1")
            #expect(updated.json["notes"] as? String == "rack 5\nbehind the VPN")
            let cleared = try await call(ctx, .PATCH, "api/servers/\(id)", ["notes": ""], headers: ctx.memberAuth)
            #expect(cleared.json.keys.contains("notes") && cleared.json["notes"] is NSNull)
            let tooLong = try await call(
                ctx, .PATCH, "api/servers/\(id)", ["notes": String(repeating: "x", count: 2001)],
                headers: ctx.memberAuth)
            #expect(tooLong.code == "invalid_field")
            let bidi = try await call(
                ctx, .PATCH, "api/servers/\(id)", ["notes": "a\u{202E}b"], headers: ctx.memberAuth)
            #expect(bidi.code == "invalid_field")
            // Notes are shown to every signed-in user: no private key in them.
            let pem = try await call(
                ctx, .PATCH, "api/servers/\(id)", ["notes": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n"],
                headers: ctx.memberAuth)
            #expect(pem.code == "invalid_field")
            #expect(try await call(ctx, .DELETE, "api/servers/\(id)", headers: ctx.memberAuth).status == .noContent)
            #expect(
                try await actions(ctx, "server")
                    == [
                        "server.create", "server.update", "server.update", "server.update", "server.update",
                        "server.update", "server.delete",
                    ])
        }
    }

    @Test func pipeline_patch_revalidatesEveryField_andKeepsTheRepository() async throws {
        try await withTestApp { ctx in
            let (pipelineID, _) = try await LogEndpointTests().seed(ctx, statuses: [])
            let path = "api/pipelines/\(pipelineID)"
            let good = try await call(
                ctx, .PATCH, path,
                [
                    "name": "web (prod)", "branch": "release",
                    "deploy": [
                        "server_ids": [1], "ssh_key_id": 1, "deploy_path": "/srv/web2", "app_port": 8080,
                        "domain": "web.example.com",
                    ],
                ], headers: ctx.memberAuth)
            #expect(good.status == .ok, "\(good.text)")
            #expect(good.json["branch"] as? String == "release" && good.json["name"] as? String == "web (prod)")
            // Each refusal names its field and saves nothing (the name in the same body is not applied).
            let refusals: [([String: Any], String)] = [
                (["name": "x", "branch": "a..b"], "branch"),
                (["name": "x", "repo_slug": "other"], "repo_slug"),
                (["name": "x", "workspace": "elsewhere"], "workspace"),
                (
                    ["name": "x", "deploy": ["server_ids": [1], "ssh_key_id": 1, "deploy_path": "~/app"]],
                    "deploy.deploy_path"
                ),
                (
                    [
                        "name": "x",
                        "deploy": ["server_ids": [1], "ssh_key_id": 1, "deploy_path": "/srv/w", "domain": "a..b"],
                    ],
                    "deploy.domain"
                ),
                (["name": ""], "name"),
            ]
            for (body, field) in refusals {
                let refused = try await call(ctx, .PATCH, path, body, headers: ctx.memberAuth)
                let details = (refused.json["error"] as? [String: Any])?["details"] as? [String: String]
                #expect(refused.status == .badRequest && details?["field"] == field, "\(body): \(refused.text)")
            }
            let unknown = try await call(
                ctx, .PATCH, path, ["deploy": ["server_ids": [99], "ssh_key_id": 1, "deploy_path": "/srv/w"]],
                headers: ctx.memberAuth)
            #expect(unknown.status == .unprocessableEntity)
            // The same repository may be sent back unchanged (PUT of a whole object).
            let same = try await call(
                ctx, .PUT, path, ["repo_slug": "web", "workspace": "acme"], headers: ctx.memberAuth)
            #expect(same.status == .ok)
            let stored = try #require(try await Pipeline.find(pipelineID, on: ctx.app.db))
            #expect(stored.name == "web (prod)" && stored.repoSlug == "web" && stored.deployPath == "/srv/web2")
            let updates = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "pipeline.update").all()
            #expect(updates.count == refusals.count + 3)
            #expect(updates.first?.details["fields"] == "name,branch,deploy")
        }
    }

    @Test func webhookSecret_rotate_newOneShownOnce_oldOneStopsWorking() async throws {
        try await withTestApp { ctx in
            var oldSecret = ""
            let (pipelineID, _) = try await LogEndpointTests().seed(ctx, statuses: [])
            let pipeline = try #require(try await Pipeline.find(pipelineID, on: ctx.app.db))
            oldSecret = try ctx.app.services.vault.openText(
                pipeline.sealedWebhookSecret, for: .webhookSecret, row: pipelineID
            ).value
            func webhook(_ secret: String) async throws -> HTTPStatus {
                let body = ByteBuffer(string: #"{"push": {}}"#)
                let mac = HMAC<SHA256>.authenticationCode(
                    for: Array(body.readableBytesView), using: SymmetricKey(data: Array(secret.utf8)))
                var status = HTTPStatus.ok
                try await ctx.app.testing().test(
                    .POST, "api/webhooks/bitbucket/\(pipelineID)",
                    headers: ["X-Hub-Signature": "sha256=" + mac.map { String(format: "%02x", $0) }.joined()],
                    body: body
                ) { res async throws in status = res.status }
                return status
            }
            #expect(try await webhook(oldSecret) == .accepted)
            let rotated = try await call(
                ctx, .POST, "api/pipelines/\(pipelineID)/webhook-secret/rotate", headers: ctx.memberAuth)
            #expect(rotated.status == .ok)
            let newSecret = try #require(rotated.json["webhook_secret"] as? String)
            #expect(
                newSecret != oldSecret && (rotated.json["webhook_url"] as? String)?.hasSuffix("/\(pipelineID)") == true)
            #expect(try await webhook(oldSecret) == .unauthorized)
            #expect(try await webhook(newSecret) == .accepted)
            let shown = try await call(ctx, .GET, "api/pipelines/\(pipelineID)", headers: ctx.memberAuth)
            #expect(!shown.text.contains(newSecret))
            #expect(
                try await call(ctx, .POST, "api/pipelines/\(pipelineID)/webhook-secret/rotate", headers: ctx.viewerAuth)
                    .code == "forbidden")
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(
                \.$action == "pipeline.webhook_secret_rotate"
            )
            .all()
            #expect(entries.map(\.outcome) == [.success, .denied])
            #expect(entries.allSatisfy { !$0.detailsJSON.contains(newSecret) })
        }
    }

    @Test func deletePipeline_withHistory_needsConfirmByName_thenErasesExecutionsAndLogs() async throws {
        try await withTestApp { ctx in
            let (pipelineID, executions) = try await LogEndpointTests().seed(ctx, statuses: [.success, .failed])
            try await LogEndpointTests().ingest(ctx, executions[0], step: "Build", "compiling\n")
            #expect(ctx.app.services.logStore.hasLog(execution: executions[0]))
            let path = "api/pipelines/\(pipelineID)"
            for confirm in ["", "?confirm=WEB", "?confirm=wrong"] {
                let refused = try await call(ctx, .DELETE, path + confirm, headers: ctx.memberAuth)
                #expect(refused.status == .conflict && refused.code == "confirmation_required", "\(confirm)")
                let details = (refused.json["error"] as? [String: Any])?["details"] as? [String: String]
                #expect(details == ["name": "web", "executions": "2", "stored_logs": "1"])
                #expect(
                    ((refused.json["error"] as? [String: Any])?["message"] as? String)?.contains("2 execution") == true)
            }
            #expect(try await Execution.query(on: ctx.app.db).count() == 2)
            #expect(try await call(ctx, .DELETE, path + "?confirm=web", headers: ctx.viewerAuth).code == "forbidden")
            #expect(try await call(ctx, .DELETE, path + "?confirm=web", headers: ctx.memberAuth).status == .noContent)
            #expect(try await Execution.query(on: ctx.app.db).count() == 0)
            #expect(!ctx.app.services.logStore.hasLog(execution: executions[0]))
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "pipeline.delete")
                .sort(\.$id).all()
            #expect(entries.map(\.outcome) == [.failure, .failure, .failure, .denied, .success])
            #expect(entries.last?.details == ["name": "web", "executions": "2", "stored_logs": "1"])
            // Without history no confirmation is needed.
            let fresh = try await call(
                ctx, .POST, "api/pipelines",
                [
                    "name": "web", "connection_id": 1, "repo_slug": "web",
                    "deploy": ["server_ids": [1], "ssh_key_id": 1, "deploy_path": "/srv/web"],
                ], headers: ctx.memberAuth)
            let empty = try #require(fresh.json["id"] as? Int, "\(fresh.text)")
            #expect(
                try await call(ctx, .DELETE, "api/pipelines/\(empty)", headers: ctx.memberAuth).status == .noContent)
        }
    }

    /// The dashboard's connection form goes through the same audit as `POST /api/connections`, and its pages
    /// wait for a forced password change like the API.
    @Test func dashboard_connectionCreateIsAudited_andPagesWaitForAForcedPasswordChange() async throws {
        try await withTestApp { ctx in
            let session = try await cookieLogin(ctx)
            let form = [
                "name=acme", "workspace=acme", "auth_type=access_token", "token=dash-token-value",
                "csrf_token=\(session.csrfToken)",
            ].joined(separator: "&")
            try await ctx.app.testing().test(
                .POST, "/connections",
                headers: ["Cookie": session.cookie, "Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form)
            ) { res async throws in
                #expect(res.status == .seeOther, "\(res.body.string.prefix(300))")
            }
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "connection.create").all()
            #expect(entries.count == 1 && entries.first?.actorUsername == "member" && entries.first?.resourceID != nil)
            #expect(entries.allSatisfy { !$0.detailsJSON.contains("dash-token-value") })
            // A reset: the old session ends; a new one with the one-time password is sent to the password
            // form from every page, other posts are 403, and the form ends the wait.
            let reset = try await call(ctx, .POST, "api/users/\(ctx.memberID)/password-reset", headers: ctx.adminAuth)
            let oneTime = try #require(reset.json["one_time_password"] as? String)
            let fresh = try await cookieLogin(ctx, password: oneTime)
            let formHeaders: HTTPHeaders = [
                "Cookie": fresh.cookie, "Content-Type": "application/x-www-form-urlencoded",
            ]
            try await ctx.app.testing().test(.GET, "/keys", headers: ["Cookie": fresh.cookie]) { res async throws in
                #expect(res.status == .seeOther)
                #expect(res.headers.first(name: .location) == "/account/password")
            }
            try await ctx.app.testing().test(
                .POST, "/keys/generate", headers: formHeaders,
                body: ByteBuffer(string: "name=k&csrf_token=\(fresh.csrfToken)")
            ) { res async throws in
                #expect(res.status == .forbidden)
                #expect(res.body.string.contains("password_change_required"))
            }
            try await ctx.app.testing().test(.GET, "/account/password", headers: ["Cookie": fresh.cookie]) {
                res async throws in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Your password was set by an admin"))
            }
            let oneTimeEncoded = oneTime.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? oneTime
            try await ctx.app.testing().test(
                .POST, "/account/password", headers: formHeaders,
                body: ByteBuffer(
                    string: "current_password=\(oneTimeEncoded)&new_password=short&csrf_token=\(fresh.csrfToken)")
            ) { res async throws in
                #expect(res.status == .badRequest)
                #expect(!res.body.string.contains(oneTime))
            }
            try await ctx.app.testing().test(
                .POST, "/account/password", headers: formHeaders,
                body: ByteBuffer(
                    string: "current_password=\(oneTimeEncoded)&new_password=quiet-harbour-lantern-42"
                        + "&csrf_token=\(fresh.csrfToken)")
            ) { res async throws in
                #expect(res.status == .seeOther, "\(res.body.string.prefix(300))")
                #expect(res.headers.first(name: .location) == "/account?notice=password")
            }
            try await ctx.app.testing().test(.GET, "/keys", headers: ["Cookie": fresh.cookie]) { res async throws in
                #expect(res.status == .ok)
            }
        }
    }

    /// Every change of connections, pipelines, servers, keys and tokens writes an entry (the users' are in
    /// `UserAdministrationTests`).
    @Test func everyChange_isAudited() async throws {
        try await withTestApp { ctx in
            let (pipelineID, _) = try await LogEndpointTests().seed(ctx, statuses: [])
            let pipeline = try #require(try await Pipeline.find(pipelineID, on: ctx.app.db))
            let connectionID = pipeline.$connection.id
            _ = try await call(
                ctx, .PATCH, "api/ssh-keys/\(pipeline.$sshKey.id)", ["comment": "c"], headers: ctx.memberAuth)
            _ = try await call(ctx, .PATCH, "api/connections/\(connectionID)", ["name": "n"], headers: ctx.memberAuth)
            _ = try await call(ctx, .DELETE, "api/pipelines/\(pipelineID)", headers: ctx.memberAuth)
            _ = try await call(ctx, .DELETE, "api/connections/\(connectionID)", headers: ctx.memberAuth)
            let tokens = try await call(ctx, .POST, "api/tokens", ["name": "ci"], headers: ctx.memberAuth)
            _ = try await call(
                ctx, .DELETE, "api/tokens/\(try #require(tokens.json["id"] as? Int))", headers: ctx.memberAuth)
            let all = Set(try await AuditEntry.query(on: ctx.app.db).all().map(\.action))
            for action in [
                "connection.create", "connection.update", "connection.delete", "ssh_key.create", "ssh_key.update",
                "server.create", "pipeline.create", "pipeline.delete", "token.create", "token.revoke",
            ] {
                #expect(all.contains(action), "\(action) missing from \(all.sorted())")
            }
        }
    }
}
