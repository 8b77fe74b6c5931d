import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Fluent
import Foundation
import PipewrightCore
import Testing
import Vapor
import VaporTesting

@testable import App

/// Connections, detection, generated config and pull requests through the HTTP API against the
/// in-repo fake Bitbucket (the same client code that talks to the real API).
@Suite struct BitbucketFlowTests {
    static let email = "dev@acme.test"
    static let token = "ATATT3xFfGF0-test-token-\(UUID().uuidString)"

    static let nodeApp: [String: String] = [
        "package.json":
            #"{"name": "web", "scripts": {"build": "next build", "start": "next start", "test": "jest"}, "dependencies": {"next": "14.2.0", "react": "18.0.0"}, "engines": {"node": "20"}}"#,
        "package-lock.json": "{}",
        "pages/index.js": "export default function Home() { return null }",
        "README.md": "# web",
    ]

    /// A test Bitbucket transport that moves `branch` on the fake right before the commit is posted.
    struct MovingBranchTransport: BitbucketHTTPTransport {
        let inner: any BitbucketHTTPTransport
        let fake: FakeBitbucketServer
        let branch: String

        func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
            -> BitbucketHTTPResponse
        {
            if request.method == "POST", request.url.hasSuffix("/src") {
                _ = await fake.addBranch(
                    workspace: "acme", slug: "web", name: branch, from: branch, files: ["moved.txt": "x"])
            }
            return try await inner.send(request, timeout: timeout)
        }
    }

    /// Runs `body` with a fake holding `acme/web`, an app whose Bitbucket client retries fast, and a
    /// member-owned connection, key, server and pipeline (ids passed to `body`).
    func withPipeline(
        token: String = token, branch: String = "main", files: [String: String] = nodeApp,
        transport: (@Sendable (any BitbucketHTTPTransport, FakeBitbucketServer) -> any BitbucketHTTPTransport)? = nil,
        _ body: (TestContext, FakeBitbucketServer, Int) async throws -> Void
    ) async throws {
        let fake = try await FakeBitbucketServer.start()
        do {
            _ = await fake.addRepository(workspace: "acme", slug: "web", mainBranch: "main", files: files)
            await fake.acceptedAPIToken(email: Self.email, token: Self.token)
            let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
            let base = AsyncHTTPClientTransport(httpClient: httpClient)
            let chosen = transport?(base, fake) ?? base
            try await withTestApp(
                configure: { $0.bitbucketAPIURL = fake.baseURL },
                services: { services in
                    services.makeBitbucketClient = { url, credentials, logger in
                        LiveBitbucketClient(
                            baseURL: url, credentials: credentials, transport: chosen,
                            retryPolicy: RetryPolicy(
                                maxAttempts: 3, baseDelay: .milliseconds(5), cap: .milliseconds(20)),
                            logger: logger)
                    }
                }
            ) { ctx in
                var ids: [Int] = []
                let requests: [(String, [String: Any])] = [
                    (
                        "api/connections",
                        [
                            "name": "acme", "workspace": "acme",
                            "auth": ["type": "api_token", "email": Self.email, "token": token],
                        ]
                    ),
                    ("api/ssh-keys", ["name": "deploy", "key_type": "ed25519"]),
                    ("api/servers", ["host": "203.0.113.10", "port": 22, "username": "deploy"]),
                ]
                for (path, payload) in requests {
                    try await ctx.app.testing().test(
                        .POST, path, headers: .json(ctx.memberAuth), body: try jsonBody(payload)
                    ) { res async throws in
                        #expect(res.status == .created, "\(path) \(res.body.string)")
                        ids.append(try #require(try res.json()["id"] as? Int))
                    }
                }
                var pipelineID = 0
                let pipeline: [String: Any] = [
                    "name": "web", "connection_id": ids[0], "repo_slug": "web", "branch": branch,
                    "deploy": [
                        "server_ids": [ids[2]], "ssh_key_id": ids[1], "deploy_path": "/srv/web", "app_port": 3000,
                        "domain": "web.example.com",
                    ],
                ]
                try await ctx.app.testing().test(
                    .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(pipeline)
                ) { res async throws in
                    #expect(res.status == .created, "\(res.body.string)")
                    pipelineID = try #require(try res.json()["id"] as? Int)
                }
                try await body(ctx, fake, pipelineID)
            }
            try await httpClient.shutdown()
            try await fake.stop()
        } catch {
            try? await fake.stop()
            throw error
        }
    }

    func createPR(_ ctx: TestContext, _ id: Int, _ body: [String: Any], status: HTTPStatus) async throws -> [String:
        Any]
    {
        var json: [String: Any] = [:]
        try await ctx.app.testing().test(
            .POST, "api/pipelines/\(id)/create-pr", headers: .json(ctx.memberAuth), body: try jsonBody(body)
        ) { res async throws in
            #expect(res.status == status, "\(res.body.string)")
            #expect(!res.body.string.contains(Self.token))
            json = try res.json()
        }
        return json
    }

    @Test func seedStep5_oneCommitWithBothFiles_onePR_mainUntouched() async throws {
        try await withPipeline { ctx, fake, id in
            let mainBefore = await fake.branchHead(workspace: "acme", slug: "web", branch: "main")
            let commitsBefore = await fake.commits(workspace: "acme", slug: "web").count
            let json = try await createPR(
                ctx, id, ["title": "Add CI/CD Pipeline", "include_nginx_config": true], status: .created)
            #expect(json["created"] as? Bool == true)
            let pr = try #require(json["pull_request"] as? [String: Any])
            #expect(pr["title"] as? String == "Add CI/CD Pipeline")
            #expect(pr["source_branch"] as? String == "pipewright/add-pipeline")
            #expect(pr["destination_branch"] as? String == "main")
            #expect((json["files"] as? [String])?.count == 2)
            #expect(await fake.commits(workspace: "acme", slug: "web").count == commitsBefore + 1)
            #expect(await fake.branchHead(workspace: "acme", slug: "web", branch: "main") == mainBefore)
            let yaml = try #require(
                await fake.fileAt(
                    workspace: "acme", slug: "web", ref: "pipewright/add-pipeline", path: "bitbucket-pipelines.yml"))
            #expect(yaml.contains("name: Build") && yaml.contains("name: Test") && yaml.contains("name: Deploy"))
            #expect(yaml.contains("deployment: production"))
            let nginxPath = try #require((json["files"] as? [String])?.first { $0.hasPrefix("deploy/nginx/") })
            let nginx = try #require(
                await fake.fileAt(workspace: "acme", slug: "web", ref: "pipewright/add-pipeline", path: nginxPath))
            #expect(nginx.contains("server_name web.example.com") && nginx.contains("proxy_pass http://127.0.0.1:3000"))
            let prs = await fake.pullRequests(workspace: "acme", slug: "web")
            #expect(prs.count == 1)
            let description = try #require(prs.first?.description)
            #expect(description.contains("deploy@203.0.113.10:22"))
            #expect(!description.contains(Self.token) && !description.contains("PRIVATE KEY"))
            // Every request to Bitbucket used Basic email:token; the multipart commit was one request.
            let posts = await fake.requests().filter { $0.method == "POST" && $0.path.hasSuffix("/src") }
            #expect(posts.count == 1)
        }
    }

    @Test func secondCreatePR_updatesSamePR_withOneMoreCommit() async throws {
        try await withPipeline { ctx, fake, id in
            let first = try await createPR(ctx, id, ["title": "Add CI/CD Pipeline"], status: .created)
            let firstID = try #require((first["pull_request"] as? [String: Any])?["id"] as? Int)
            let commits = await fake.commits(workspace: "acme", slug: "web").count
            let second = try await createPR(
                ctx, id, ["title": "Add CI/CD Pipeline v2", "description": "custom text"], status: .ok)
            #expect(second["created"] as? Bool == false)
            #expect((second["pull_request"] as? [String: Any])?["id"] as? Int == firstID)
            #expect(await fake.commits(workspace: "acme", slug: "web").count == commits + 1)
            let open = await fake.pullRequests(workspace: "acme", slug: "web").filter { $0.state == "OPEN" }
            #expect(open.count == 1)
            #expect(open.first?.title == "Add CI/CD Pipeline v2")
            #expect(open.first?.description == "custom text")
        }
    }

    @Test func branchWithSlash_worksForReadsAndForThePR() async throws {
        try await withPipeline(branch: "feature/ci-setup") { ctx, fake, id in
            _ = await fake.addBranch(
                workspace: "acme", slug: "web", name: "feature/ci-setup", from: "main", files: ["extra.txt": "x"])
            try await ctx.app.testing().test(.POST, "api/pipelines/\(id)/detect", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok, "\(res.body.string)")
                let stack = try #require(try res.json()["stack"] as? [String: Any])
                #expect(stack["language"] as? String == "node")
                #expect(stack["framework"] as? String == "next")
                #expect(((stack["evidence"] as? [[String: Any]])?.isEmpty) == false)
            }
            let json = try await createPR(
                ctx, id, ["branch": "feature/ci-pipeline", "destination_branch": "feature/ci-setup"], status: .created)
            #expect((json["pull_request"] as? [String: Any])?["destination_branch"] as? String == "feature/ci-setup")
            #expect(
                await fake.fileAt(workspace: "acme", slug: "web", ref: "feature/ci-pipeline", path: "extra.txt") == "x")
        }
    }

    @Test func wrongToken_is502AuthFailed_withAPITokenHint_andNoTokenInResponse() async throws {
        try await withPipeline(token: "wrong-token-value") { ctx, _, id in
            try await ctx.app.testing().test(.POST, "api/pipelines/\(id)/detect", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .badGateway)
                #expect(res.errorCode == "bitbucket_auth_failed")
                #expect(res.body.string.contains("API token"))
                #expect(!res.body.string.contains("wrong-token-value"))
            }
            let connectionID = try #require(try await Connection.query(on: ctx.app.db).first()?.id)
            try await ctx.app.testing().test(.POST, "api/connections/\(connectionID)/verify", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok)
                let json = try res.json()
                #expect(json["ok"] as? Bool == false)
                #expect((json["error"] as? [String: Any])?["code"] as? String == "bitbucket_auth_failed")
                #expect(!res.body.string.contains("wrong-token-value"))
            }
            let connection = try #require(try await Connection.find(connectionID, on: ctx.app.db))
            #expect(connection.lastVerifiedAt == nil && connection.accountName == nil)
        }
    }

    @Test func verify_withRightToken_reportsAccount() async throws {
        try await withPipeline { ctx, _, _ in
            let connectionID = try #require(try await Connection.query(on: ctx.app.db).first()?.id)
            try await ctx.app.testing().test(.POST, "api/connections/\(connectionID)/verify", headers: ctx.memberAuth) {
                res async throws in
                let json = try res.json()
                #expect(json["ok"] as? Bool == true)
                #expect((json["account"] as? [String: Any])?["display_name"] as? String != nil)
            }
        }
    }

    @Test func unknownRepository_is404RepositoryNotFound() async throws {
        try await withPipeline { ctx, _, existing in
            // A pipeline's repository cannot change (issue 13 item 6): a second pipeline names the unknown one.
            let pipeline = try #require(try await Pipeline.find(existing, on: ctx.app.db))
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/pipelines", headers: .json(ctx.memberAuth),
                body: try jsonBody([
                    "name": "nope", "connection_id": pipeline.$connection.id, "repo_slug": "nope",
                    "deploy": [
                        "server_ids": pipeline.serverIDs, "ssh_key_id": pipeline.$sshKey.id, "deploy_path": "/srv/nope",
                    ],
                ])
            ) { res async throws in
                #expect(res.status == .created, "\(res.body.string)")
                id = try #require(try res.json()["id"] as? Int)
            }
            try await ctx.app.testing().test(.POST, "api/pipelines/\(id)/detect", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .notFound)
                #expect(res.errorCode == "repository_not_found")
            }
        }
    }

    @Test func branchMovedDuringCommit_is409BranchMoved_andNoPR() async throws {
        try await withPipeline(transport: { inner, fake in
            MovingBranchTransport(inner: inner, fake: fake, branch: "pipewright/add-pipeline")
        }) { ctx, fake, id in
            _ = await fake.addBranch(workspace: "acme", slug: "web", name: "pipewright/add-pipeline", from: "main")
            let json = try await createPR(ctx, id, [:], status: .conflict)
            #expect((json["error"] as? [String: Any])?["code"] as? String == "branch_moved")
            #expect(await fake.pullRequests(workspace: "acme", slug: "web").isEmpty)
        }
    }

    @Test func rateLimited_isRetried_thenGivesUpWith503RetryAfter() async throws {
        try await withPipeline { ctx, fake, id in
            await fake.failNext(2, with: .tooManyRequests)
            try await ctx.app.testing().test(.POST, "api/pipelines/\(id)/detect", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok, "\(res.body.string)")
            }
            await fake.failNext(1000, with: .tooManyRequests)
            try await ctx.app.testing().test(.POST, "api/pipelines/\(id)/detect", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .serviceUnavailable)
                #expect(res.errorCode == "bitbucket_rate_limited")
                #expect(res.headers.first(name: .retryAfter) != nil)
            }
        }
    }

    @Test func config_returnsValidatedFiles_andVariables_withoutSecrets() async throws {
        try await withPipeline { ctx, _, id in
            try await ctx.app.testing().test(.GET, "api/pipelines/\(id)/config", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .ok, "\(res.body.string)")
                let json = try res.json()
                let files = try #require(json["files"] as? [[String: Any]])
                #expect(files.map { $0["path"] as? String }.contains("bitbucket-pipelines.yml"))
                let validation = try #require(json["validation"] as? [[String: Any]])
                #expect(validation.allSatisfy { $0["ok"] as? Bool == true })
                #expect(!res.body.string.contains(Self.token) && !res.body.string.contains("PRIVATE KEY"))
                #expect(((json["repository_variables"] as? [[String: Any]])?.isEmpty) == false)
            }
        }
    }

    @Test func createPR_invalidDestination_is400_beforeAnyBitbucketCall() async throws {
        try await withPipeline { ctx, fake, id in
            await fake.clearRequests()
            let json = try await createPR(ctx, id, ["destination_branch": "x y"], status: .badRequest)
            #expect((json["error"] as? [String: Any])?["code"] as? String == "invalid_field")
            #expect(await fake.requests().isEmpty)
        }
    }

    @Test func unreachableBitbucket_failsFast_withBitbucketUnreachable() async throws {
        // Nothing listens on port 9: connection refused must not be re-dialled until a timeout.
        try await withTestApp { ctx in
            var connectionID = 0
            try await ctx.app.testing().test(
                .POST, "api/connections", headers: .json(ctx.memberAuth),
                body: try jsonBody([
                    "name": "x", "workspace": "acme", "auth": ["type": "access_token", "token": "t0k3n-unreachable"],
                ])
            ) { res async throws in connectionID = try #require(try res.json()["id"] as? Int) }
            let started = ContinuousClock.now
            try await ctx.app.testing().test(.POST, "api/connections/\(connectionID)/verify", headers: ctx.memberAuth) {
                res async throws in
                let json = try res.json()
                #expect(json["ok"] as? Bool == false)
                #expect((json["error"] as? [String: Any])?["code"] as? String == "bitbucket_unreachable")
                #expect(!res.body.string.contains("t0k3n-unreachable"))
            }
            #expect(ContinuousClock.now - started < .seconds(40))
        }
    }
}
