import Bitbucket
import BitbucketFake
import Foundation
import PipewrightCore
import Testing

@Suite struct BitbucketRepositoryTests {
    @Test func repository_returnsFullNameUUIDAndMainBranch() async throws {
        try await withFakeBitbucket { server in
            await server.addRepository(workspace: "acme", slug: "web", mainBranch: "master", files: ["README.md": "hi"])
            await server.addRepository(workspace: "acme", slug: "empty", files: [:])
            let client = makeClient(server)
            let repository = try await client.repository(workspace: "acme", slug: "web")
            #expect(repository.fullName == "acme/web")
            #expect(repository.mainBranch == "master")
            #expect(repository.uuid.hasPrefix("{"))
            let empty = try await client.repository(workspace: "acme", slug: "empty")
            #expect(empty.mainBranch == nil)
            // A braced UUID in the path is percent-encoded exactly once.
            let byUUID = try await client.repository(workspace: "acme", slug: repository.uuid)
            #expect(byUUID.fullName == "acme/web")
            let path = await server.requests().last?.path ?? ""
            #expect(path.contains("%7B") && path.contains("%7D") && !path.contains("{") && !path.contains("%257B"))
        }
    }

    @Test func repository_unknown_throwsNotFound() async throws {
        try await withFakeBitbucket { server in
            let client = makeClient(server)
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.repository(workspace: "acme", slug: "nope")
            }
            guard case .notFound(let message)? = error else {
                Issue.record("expected notFound, got \(String(describing: error))")
                return
            }
            #expect(message.contains("acme/nope"))
            #expect(error?.code == "bitbucket_not_found")
            #expect(await server.requests().count == 1)  // 404 is not retried
        }
    }

    @Test func branch_withSlash_isRequestedSegmentBySegment() async throws {
        try await withFakeBitbucket { server in
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            let head = await server.addBranch(
                workspace: "acme", slug: "web", name: "feature/ci-setup", from: "main", files: ["ci.txt": "x"])
            let client = makeClient(server)
            let branch = try await client.branch(workspace: "acme", slug: "web", name: "feature/ci-setup")
            #expect(branch?.name == "feature/ci-setup")
            #expect(branch?.target.hash == head)
            #expect(branch?.target.parentHashes.count == 1)
            #expect(await server.requests().last?.path == "/2.0/repositories/acme/web/refs/branches/feature/ci-setup")
            let missing = try await client.branch(workspace: "acme", slug: "web", name: "feature/none")
            #expect(missing == nil)
        }
    }

    @Test func listDirectory_andFileContents_readTheTree() async throws {
        try await withFakeBitbucket { server in
            let root = await server.addRepository(
                workspace: "acme", slug: "web",
                files: [
                    "package.json": "{\"name\":\"web\"}", "src/index.js": "console.log(1)", "src/lib/util.js": "x",
                    "README.md": "# Web",
                ])
            let commit = try #require(root)
            let client = makeClient(server)
            let top = try await client.listDirectory(
                workspace: "acme", slug: "web", commit: commit, path: "", maxDepth: 1)
            #expect(top.map(\.path) == ["README.md", "package.json", "src"])
            #expect(top.last?.kind == .directory)
            #expect(top.first?.size == 5)
            #expect(await server.requests().last?.path == "/2.0/repositories/acme/web/src/\(commit)/")
            let deep = try await client.listDirectory(
                workspace: "acme", slug: "web", commit: commit, path: "src", maxDepth: 3)
            #expect(deep.map(\.path) == ["src/index.js", "src/lib", "src/lib/util.js"])
            #expect(await server.requests().last?.queryValue("max_depth") == "3")
            let bytes = try await client.fileContents(
                workspace: "acme", slug: "web", commit: commit, path: "package.json")
            #expect(bytes.map { String(decoding: $0, as: UTF8.self) } == "{\"name\":\"web\"}")
            let missing = try await client.fileContents(workspace: "acme", slug: "web", commit: commit, path: "go.mod")
            #expect(missing == nil)
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.listDirectory(
                    workspace: "acme", slug: "web", commit: commit, path: "nope", maxDepth: 1)
            }
            #expect(error?.code == "bitbucket_not_found")
        }
    }

    @Test func listDirectory_followsNextVerbatim_25ItemsPagelen10() async throws {
        try await withFakeBitbucket { server in
            let files = Dictionary(uniqueKeysWithValues: (1...25).map { (String(format: "file%02d.txt", $0), "\($0)") })
            let commit = try #require(await server.addRepository(workspace: "acme", slug: "web", files: files))
            await server.setPagination(maxPagelen: 10)
            let entries = try await makeClient(server).listDirectory(
                workspace: "acme", slug: "web", commit: commit, path: "", maxDepth: 1)
            #expect(entries.count == 25)
            #expect(Set(entries.map(\.path)).count == 25)
            let requests = await server.requests()
            #expect(requests.count == 3)
            #expect(requests.map { $0.queryValue("page") } == [nil, "2", "3"])
            for request in requests {
                #expect(request.queryValues("pagelen").count == 1)
                #expect(request.queryValues("page").count <= 1)
            }
        }
    }

    @Test func listDirectory_withoutNext_requestsNextPageItself() async throws {
        try await withFakeBitbucket { server in
            let files = Dictionary(uniqueKeysWithValues: (1...25).map { (String(format: "f%02d", $0), "\($0)") })
            let commit = try #require(await server.addRepository(workspace: "acme", slug: "web", files: files))
            await server.setPagination(omitNext: true, maxPagelen: 10)
            let entries = try await makeClient(server).listDirectory(
                workspace: "acme", slug: "web", commit: commit, path: "", maxDepth: 1)
            #expect(entries.count == 25)
            let requests = await server.requests()
            #expect(requests.map { $0.queryValue("page") } == [nil, "2", "3"])
        }
    }
}
