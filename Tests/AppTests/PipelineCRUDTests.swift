import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite struct PipelineCRUDTests {
    /// Creates a connection, a key and a server for the member; returns their ids.
    func fixtures(_ ctx: TestContext, token: String = "ATATT-secret-token-value") async throws -> (
        connection: Int, key: Int, server: Int
    ) {
        var ids: [Int] = []
        let requests: [(String, [String: Any])] = [
            (
                "api/connections",
                [
                    "name": "acme", "workspace": "acme",
                    "auth": ["type": "api_token", "email": "dev@acme.test", "token": token],
                ]
            ),
            ("api/ssh-keys", ["name": "deploy", "key_type": "ed25519"]),
            ("api/servers", ["host": "127.0.0.1", "port": 2222, "username": "deploy"]),
        ]
        for (path, body) in requests {
            try await ctx.app.testing().test(.POST, path, headers: .json(ctx.memberAuth), body: try jsonBody(body)) {
                res async throws in
                #expect(res.status == .created, "\(path): \(res.body.string)")
                ids.append(try #require(try res.json()["id"] as? Int))
            }
        }
        return (ids[0], ids[1], ids[2])
    }

    @Test func connection_tokenIsSealedAndNeverReturned() async throws {
        try await withTestApp { ctx in
            let token = "ATATT-very-secret-\(UUID().uuidString)"
            let ids = try await fixtures(ctx, token: token)
            for path in ["api/connections", "api/connections/\(ids.connection)"] {
                try await ctx.app.testing().test(.GET, path, headers: ctx.memberAuth) { res async throws in
                    #expect(res.status == .ok)
                    #expect(!res.body.string.contains(token))
                    #expect(res.body.string.contains("\"auth_type\":\"api_token\""))
                }
            }
            let stored = try #require(try await Connection.find(ids.connection, on: ctx.app.db))
            #expect(stored.sealedToken?.contains(token) == false)
            #expect(try await SecretInventory.verify(with: ctx.app.services.masterKey, on: ctx.app.db).failures.isEmpty)
        }
    }

    /// A key or server a pipeline deploys with cannot be deleted: refused with the usual `*_in_use` code
    /// before anything changes (a key is not removed from its servers first).
    @Test func deleteKeyOrServer_usedByAPipeline_is409_andChangesNothing() async throws {
        try await withTestApp { ctx in
            let ids = try await fixtures(ctx)
            try await ctx.app.testing().test(
                .POST, "api/pipelines", headers: .json(ctx.memberAuth),
                body: try jsonBody([
                    "name": "web", "connection_id": ids.connection, "repo_slug": "web",
                    "deploy": ["server_ids": [ids.server], "ssh_key_id": ids.key, "deploy_path": "/srv/web"],
                ])
            ) { res async throws in #expect(res.status == .created) }
            for query in ["", "?remove_from_servers=true", "?force=true"] {
                try await ctx.app.testing().test(.DELETE, "api/ssh-keys/\(ids.key)\(query)", headers: ctx.memberAuth) {
                    res async throws in
                    #expect(res.status == .conflict, "\(query)")
                    #expect(res.errorCode == "key_in_use")
                    let body = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body))
                    #expect(body.error.details["pipelines"] == "1")
                }
            }
            for query in ["", "?force=true"] {
                try await ctx.app.testing().test(.DELETE, "api/servers/\(ids.server)\(query)", headers: ctx.memberAuth)
                { res async throws in
                    #expect(res.status == .conflict, "\(query)")
                    #expect(res.errorCode == "server_in_use")
                }
            }
            #expect(try await StoredKey.find(ids.key, on: ctx.app.db) != nil)
            #expect(try await Server.find(ids.server, on: ctx.app.db) != nil)
        }
    }

    @Test func connection_validation() async throws {
        try await withTestApp { ctx in
            let bad: [([String: Any], String)] = [
                (["name": "x", "workspace": "acme", "auth": ["type": "api_token", "token": "t"]], "auth.email"),
                (["name": "x", "workspace": "acme", "auth": ["type": "app_password", "token": "t"]], "auth.type"),
                (["name": "x", "workspace": "ac me", "auth": ["type": "access_token", "token": "t"]], "workspace"),
                (["name": "x", "workspace": "acme", "auth": ["type": "access_token", "token": ""]], "auth.token"),
            ]
            for (body, field) in bad {
                try await ctx.app.testing().test(
                    .POST, "api/connections", headers: .json(ctx.memberAuth), body: try jsonBody(body)
                ) { res async throws in
                    #expect(res.status == .badRequest)
                    #expect(
                        try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error.details["field"]
                            == field)
                }
            }
        }
    }

    @Test func pipeline_create_returnsWebhookSecretOnce_andValidatesReferences() async throws {
        try await withTestApp { ctx in
            let ids = try await fixtures(ctx)
            var body: [String: Any] = [
                "name": "web", "connection_id": ids.connection, "repo_slug": "web", "branch": "main",
                "deploy": [
                    "server_ids": [ids.server], "ssh_key_id": ids.key, "deploy_path": "/srv/web", "app_port": 3000,
                    "domain": "web.example.com",
                ],
            ]
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(body)
            ) { res async throws in
                #expect(res.status == .created, "\(res.body.string)")
                let json = try res.json()
                id = try #require(json["id"] as? Int)
                #expect((json["webhook_secret"] as? String)?.count ?? 0 >= 32)
                #expect((json["webhook_url"] as? String)?.hasSuffix("/api/webhooks/bitbucket/\(id)") == true)
                #expect(json["workspace"] as? String == "acme")
            }
            try await ctx.app.testing().test(.GET, "api/pipelines/\(id)", headers: ctx.memberAuth) { res async throws in
                #expect(try res.json()["webhook_secret"] == nil)
            }
            // An unknown key, an unknown server, and a bad path are refused; another user's key is the team's and
            // may be used (issue 13 item 1).
            var adminKey = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.adminAuth),
                body: try jsonBody(["name": "a", "key_type": "ed25519"])
            ) { res async throws in
                adminKey = try #require(try res.json()["id"] as? Int)
            }
            let cases: [([String: Any], HTTPStatus, String)] = [
                (
                    ["server_ids": [ids.server], "ssh_key_id": 9999, "deploy_path": "/srv"], .unprocessableEntity,
                    "deploy.ssh_key_id"
                ),
                (
                    ["server_ids": [9999], "ssh_key_id": ids.key, "deploy_path": "/srv"], .unprocessableEntity,
                    "deploy.server_ids"
                ),
                (
                    ["server_ids": [ids.server], "ssh_key_id": ids.key, "deploy_path": "srv; rm -rf /"], .badRequest,
                    "deploy.deploy_path"
                ),
                (
                    ["server_ids": [ids.server], "ssh_key_id": ids.key, "deploy_path": "/srv", "domain": "a.com"],
                    .badRequest, "deploy.app_port"
                ),
                (["server_ids": [], "ssh_key_id": ids.key, "deploy_path": "/srv"], .badRequest, "deploy.server_ids"),
            ]
            for (deploy, status, field) in cases {
                body["deploy"] = deploy
                try await ctx.app.testing().test(
                    .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(body)
                ) { res async throws in
                    #expect(res.status == status, "\(field)")
                    #expect(
                        try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error.details["field"]
                            == field)
                }
            }
            body["deploy"] = ["server_ids": [ids.server], "ssh_key_id": adminKey, "deploy_path": "/srv"]
            try await ctx.app.testing().test(
                .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(body)
            ) { res async throws in
                #expect(res.status == .created, "\(res.body.string)")
            }
            // Branch names with '/' are fine; broken ones are not.
            body["deploy"] = ["server_ids": [ids.server], "ssh_key_id": ids.key, "deploy_path": "/srv"]
            for (branch, status) in [
                ("feature/ci-setup", HTTPStatus.created), ("bad..branch", .badRequest), ("-x", .badRequest),
                ("a b", .badRequest),
            ] {
                body["branch"] = branch
                try await ctx.app.testing().test(
                    .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(body)
                ) { res async throws in
                    #expect(res.status == status, "\(branch)")
                }
            }
            // The connection is in use.
            try await ctx.app.testing().test(.DELETE, "api/connections/\(ids.connection)", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .conflict)
                #expect(res.errorCode == "connection_in_use")
            }
        }
    }
}
