import AsyncHTTPClient
import Bitbucket
import BitbucketFake
import Foundation
import PipewrightCore
import Testing

@Suite struct BitbucketCommitTests {
    static let pipelinesYAML =
        "image: atlassian/default-image:4\npipelines:\n  default:\n    - step:\n        name: Build\n        script:\n          - make\n"
    static let nginxConf = "server {\n  listen 80;\n}\n"

    @Test func createCommit_twoFilesOnNewBranch_makesOneCommit_mainUntouched() async throws {
        try await withFakeBitbucket { server in
            let root = try #require(
                await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"]))
            let client = makeClient(server)
            let branch = try await client.createCommit(
                workspace: "acme", slug: "web", branch: "deploy/pipeline-config", parents: [root],
                message: "Add Bitbucket Pipelines config", author: "Pipewright <bot@example.com>",
                files: [
                    ("bitbucket-pipelines.yml", Array(Self.pipelinesYAML.utf8)),
                    ("deploy/nginx/web.conf", Array(Self.nginxConf.utf8)),
                ])
            #expect(branch.name == "deploy/pipeline-config")
            #expect(branch.target.parentHashes == [root])
            let commits = await server.commits(workspace: "acme", slug: "web")
            #expect(commits.count == 2)
            #expect(commits.last?.message == "Add Bitbucket Pipelines config")
            #expect(commits.last?.author == "Pipewright <bot@example.com>")
            #expect(
                await server.branchHead(workspace: "acme", slug: "web", branch: "deploy/pipeline-config")
                    == branch.target.hash)
            #expect(await server.branchHead(workspace: "acme", slug: "web", branch: "main") == root)
            #expect(
                await server.fileAt(
                    workspace: "acme", slug: "web", ref: "deploy/pipeline-config", path: "bitbucket-pipelines.yml")
                    == Self.pipelinesYAML)
            #expect(
                await server.fileAt(
                    workspace: "acme", slug: "web", ref: "deploy/pipeline-config", path: "deploy/nginx/web.conf")
                    == Self.nginxConf)
            #expect(
                await server.fileAt(workspace: "acme", slug: "web", ref: "deploy/pipeline-config", path: "README.md")
                    == "hi")
            #expect(
                await server.fileAt(workspace: "acme", slug: "web", ref: "main", path: "bitbucket-pipelines.yml") == nil
            )
        }
    }

    @Test func createCommit_sendsMultipartWithSlashNamedFileParts_andFormFieldsOnly() async throws {
        try await withFakeBitbucket { server in
            let root = try #require(
                await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"]))
            _ = try await makeClient(server).createCommit(
                workspace: "acme", slug: "web", branch: "deploy/x", parents: [root], message: "m",
                files: [("bitbucket-pipelines.yml", Array("a".utf8)), ("deploy/nginx/web.conf", Array("b".utf8))])
            let post = try #require(await server.requests().first { $0.method == "POST" })
            #expect(post.path == "/2.0/repositories/acme/web/src")
            // branch/message/parents never in the query (a query `branch` is ignored by Bitbucket)
            #expect(post.rawQuery == nil)
            let contentType = try #require(post.header("Content-Type"))
            #expect(contentType.hasPrefix("multipart/form-data; boundary="))
            let boundary = try #require(FakeFormParser.boundary(fromContentType: contentType))
            let fields = try #require(FakeFormParser.parseMultipart(post.body, boundary: boundary))
            #expect(
                fields.map(\.name) == [
                    "/bitbucket-pipelines.yml", "/deploy/nginx/web.conf", "message", "branch", "parents",
                ])
            #expect(fields[0].filename == "bitbucket-pipelines.yml")
            #expect(fields[1].filename == "web.conf")
            #expect(fields[1].text == "b")
            #expect(fields.first { $0.name == "branch" }?.text == "deploy/x")
            #expect(fields.first { $0.name == "parents" }?.text == root)
            #expect(!fields.contains { $0.name == "files" })  // `files` deletes; never sent when only writing
            #expect(post.header("Authorization")?.hasPrefix("Basic ") == true)
        }
    }

    @Test func createCommit_staleParents_throwsConflict() async throws {
        try await withFakeBitbucket { server in
            let root = try #require(
                await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"]))
            let client = makeClient(server)
            let first = try await client.createCommit(
                workspace: "acme", slug: "web", branch: "deploy/x", parents: [root], message: "one",
                files: [("a.txt", Array("1".utf8))])
            // The branch now exists at `first`; asserting the old root as its tip must fail.
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.createCommit(
                    workspace: "acme", slug: "web", branch: "deploy/x", parents: [root], message: "two",
                    files: [("a.txt", Array("2".utf8))])
            }
            guard case .conflict? = error else {
                Issue.record("expected conflict, got \(String(describing: error))")
                return
            }
            #expect(await server.branchHead(workspace: "acme", slug: "web", branch: "deploy/x") == first.target.hash)
            #expect(await server.requests().filter { $0.method == "POST" }.count == 2)  // POST never retried
            // With the right parent it lands on top.
            let second = try await client.createCommit(
                workspace: "acme", slug: "web", branch: "deploy/x", parents: [first.target.hash], message: "two",
                files: [("a.txt", Array("2".utf8))])
            #expect(second.target.parentHashes == [first.target.hash])
        }
    }

    @Test func createCommit_delete_sendsFilesFieldAndRemovesThePath() async throws {
        try await withFakeBitbucket { server in
            let root = try #require(
                await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi", "old.txt": "x"]))
            _ = try await makeClient(server).createCommit(
                workspace: "acme", slug: "web", branch: "main", parents: [root], message: "cleanup", author: nil,
                changes: [
                    .delete(path: "old.txt"), .write(path: "new.txt", contents: Array("n".utf8), executable: true),
                ])
            #expect(await server.fileAt(workspace: "acme", slug: "web", ref: "main", path: "old.txt") == nil)
            #expect(await server.fileAt(workspace: "acme", slug: "web", ref: "main", path: "new.txt") == "n")
            #expect(await server.fileAt(workspace: "acme", slug: "web", ref: "main", path: "README.md") == "hi")
        }
    }

    // MARK: - Fake fidelity (raw requests, no client)

    @Test func fake_postSrc_rejectsJSON_andIgnoresQueryBranch() async throws {
        try await withFakeBitbucket { server in
            let root = try #require(
                await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"]))
            let transport = AsyncHTTPClientTransport(httpClient: sharedHTTPClient)
            let auth = "Basic " + Data("\(testEmail):\(testToken)".utf8).base64EncodedString()
            let json = try await transport.send(
                BitbucketHTTPRequest(
                    method: "POST", url: server.baseURL + "/repositories/acme/web/src",
                    headers: ["Authorization": auth, "Content-Type": "application/json"], body: Array("{}".utf8)),
                timeout: .seconds(10))
            #expect(json.status == 400)
            #expect(String(decoding: json.body, as: UTF8.self).contains("Unsupported Content-Type"))
            // `branch` in the query is ignored: the commit lands on main (node-bitbucket#8).
            let urlencoded = try await transport.send(
                BitbucketHTTPRequest(
                    method: "POST", url: server.baseURL + "/repositories/acme/web/src?branch=feature%2Fx",
                    headers: ["Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"],
                    body: Array("%2Fci.yml=a%3A+1&message=Add+ci".utf8)),
                timeout: .seconds(10))
            #expect(urlencoded.status == 201)
            #expect(urlencoded.body.isEmpty)
            #expect(await server.branchHead(workspace: "acme", slug: "web", branch: "feature/x") == nil)
            #expect(await server.branchHead(workspace: "acme", slug: "web", branch: "main") != root)
            #expect(await server.fileAt(workspace: "acme", slug: "web", ref: "main", path: "ci.yml") == "a: 1")
        }
    }

    @Test func fake_branches_createListDelete() async throws {
        try await withFakeBitbucket { server in
            let root = try #require(
                await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"]))
            let transport = AsyncHTTPClientTransport(httpClient: sharedHTTPClient)
            let auth = "Bearer \(testAccessToken)"
            func send(_ method: String, _ path: String, _ body: String? = nil) async throws -> BitbucketHTTPResponse {
                try await transport.send(
                    BitbucketHTTPRequest(
                        method: method, url: server.baseURL + path,
                        headers: ["Authorization": auth, "Content-Type": "application/json"],
                        body: body.map { Array($0.utf8) }),
                    timeout: .seconds(10))
            }
            let body = "{\"name\":\"deploy/a\",\"target\":{\"hash\":\"\(root)\"}}"
            #expect(try await send("POST", "/repositories/acme/web/refs/branches", body).status == 201)
            #expect(try await send("POST", "/repositories/acme/web/refs/branches", body).status == 400)
            let list = try await send("GET", "/repositories/acme/web/refs/branches?q=name%20~%20%22deploy%2F%22")
            let text = String(decoding: list.body, as: UTF8.self)
            #expect(text.contains("\"deploy/a\"") && !text.contains("\"name\":\"main\""))
            #expect(try await send("DELETE", "/repositories/acme/web/refs/branches/main").status == 400)
            #expect(try await send("DELETE", "/repositories/acme/web/refs/branches/deploy/a").status == 204)
            #expect(try await send("GET", "/repositories/acme/web/refs/branches/deploy/a").status == 404)
        }
    }
}
