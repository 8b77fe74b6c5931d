import Bitbucket
import BitbucketFake
import Foundation
import PipewrightCore
import Testing

@Suite struct BitbucketPullRequestTests {
    @Test func createListUpdate_roundTrip() async throws {
        try await withFakeBitbucket { server in
            let root = try #require(
                await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"]))
            let client = makeClient(server)
            _ = try await client.createCommit(
                workspace: "acme", slug: "web", branch: "deploy/pipeline-config", parents: [root], message: "m",
                files: [("bitbucket-pipelines.yml", Array("x".utf8))])
            let created = try await client.createPullRequest(
                workspace: "acme", slug: "web",
                draft: BitbucketPullRequestDraft(
                    title: "Add pipeline", description: "Generated.", sourceBranch: "deploy/pipeline-config",
                    destinationBranch: "main", closeSourceBranch: true))
            #expect(created.id == 1)
            #expect(created.state == .open)
            #expect(created.sourceBranch == "deploy/pipeline-config")
            #expect(created.destinationBranch == "main")
            #expect(created.closeSourceBranch)
            #expect(created.htmlURL == "https://bitbucket.org/acme/web/pull-requests/1")
            let post = try #require(await server.requests().last { $0.method == "POST" })
            let sent = try #require(FakeJSON.parse(post.body))
            #expect(sent["source"]?["branch"]?["name"]?.stringValue == "deploy/pipeline-config")
            #expect(sent["destination"]?["branch"]?["name"]?.stringValue == "main")
            #expect(sent["close_source_branch"]?.boolValue == true)

            let found = try await client.pullRequests(
                workspace: "acme", slug: "web", state: .open, sourceBranch: "deploy/pipeline-config",
                destinationBranch: "main")
            #expect(found.map(\.id) == [1])
            let list = try #require(await server.requests().last)
            #expect(
                list.queryValue("q")
                    == "source.branch.name=\"deploy/pipeline-config\" AND destination.branch.name=\"main\"")
            #expect(list.rawQuery?.contains("%22deploy%2Fpipeline-config%22") == true)
            #expect(list.queryValue("state") == "OPEN")
            let none = try await client.pullRequests(
                workspace: "acme", slug: "web", state: .open, sourceBranch: "other", destinationBranch: "main")
            #expect(none.isEmpty)

            let updated = try await client.updatePullRequest(
                workspace: "acme", slug: "web", id: 1, title: "Add pipeline (v2)", description: "Regenerated.")
            #expect(updated.title == "Add pipeline (v2)")
            #expect(updated.description == "Regenerated.")
            #expect(await server.pullRequests(workspace: "acme", slug: "web").first?.title == "Add pipeline (v2)")
            #expect(await server.requests().last?.method == "PUT")
        }
    }

    @Test func create_missingSourceBranch_throwsBadRequestWithFields() async throws {
        try await withFakeBitbucket { server in
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            let client = makeClient(server)
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.createPullRequest(
                    workspace: "acme", slug: "web",
                    draft: .init(title: "t", description: "", sourceBranch: "nope", destinationBranch: nil))
            }
            guard case .badRequest(let message, let fields)? = error else {
                Issue.record("expected badRequest, got \(String(describing: error))")
                return
            }
            #expect(message.contains("valid source branch"))
            #expect(fields["source"] == ["branch not found: nope"])
            #expect(error?.details["fields.source"] == "branch not found: nope")
        }
    }

    @Test func create_noChanges_throwsBadRequest() async throws {
        try await withFakeBitbucket { server in
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            await server.addBranch(workspace: "acme", slug: "web", name: "same", from: "main")
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await makeClient(server).createPullRequest(
                    workspace: "acme", slug: "web",
                    draft: .init(title: "t", description: "", sourceBranch: "same", destinationBranch: "main"))
            }
            #expect(error == .badRequest(message: "There are no changes to be pulled", fields: [:]))
        }
    }

    @Test func list_nextCarriesTheQuery_andIsUsedVerbatim() async throws {
        try await withFakeBitbucket { server in
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            for index in 1...25 {
                await server.addPullRequest(
                    workspace: "acme", slug: "web", title: "PR \(index)", source: "feature/x", destination: "main")
            }
            await server.addPullRequest(
                workspace: "acme", slug: "web", title: "other", source: "feature/y", destination: "main")
            await server.setPagination(maxPagelen: 10)
            let found = try await makeClient(server).pullRequests(
                workspace: "acme", slug: "web", state: nil, sourceBranch: "feature/x", destinationBranch: "main")
            #expect(found.count == 25)
            #expect(Set(found.map(\.id)).count == 25)
            let requests = await server.requests()
            #expect(requests.count == 3)
            for request in requests {
                #expect(request.queryValues("q").count == 1)
                #expect(request.queryValues("pagelen").count == 1)
                #expect(request.queryValues("page").count <= 1)
                #expect(!request.path.hasSuffix("/"))
            }
        }
    }
}
