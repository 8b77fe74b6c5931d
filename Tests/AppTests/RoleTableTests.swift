import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 13 item 1: the role × action table of docs/API.md "Users and roles", walked row by row over HTTP.
///
/// Every `Permission` has a probe: a request that reaches the permission check with a body that decodes
/// (so a refusal can only be the role's). A role without the permission gets 403 `forbidden` for a
/// resource it can see; a role with it gets anything but that. An unknown id stays a 404 for every role.
@Suite struct RoleTableTests {
    /// One row: the request that exercises `permission` on the seeded world.
    struct Probe {
        var method: HTTPMethod
        var path: String
        var body: [String: Any]? = nil
        var rawBody: String? = nil
    }

    /// The seeded world: the member's (a maintainer's) key, server, connection, pipeline and execution.
    struct World {
        var key: Int
        var server: Int
        var connection: Int
        var pipeline: Int
        var execution: Int
    }

    func seed(_ ctx: TestContext) async throws -> World {
        let (pipelineID, executions) = try await LogEndpointTests().seed(ctx, statuses: [.success])
        let pipeline = try #require(try await Pipeline.find(pipelineID, on: ctx.app.db))
        return World(
            key: pipeline.$sshKey.id, server: try #require(pipeline.serverIDs.first),
            connection: pipeline.$connection.id, pipeline: pipelineID, execution: executions[0])
    }

    /// The probe of each permission (`nil`: not a refusal, see below).
    func probe(_ permission: Permission, _ world: World) -> Probe? {
        switch permission {
        case .manageOwnAccount: Probe(method: .POST, path: "api/tokens", body: ["name": "probe"])
        case .changeKeys: Probe(method: .PATCH, path: "api/ssh-keys/\(world.key)", body: ["comment": "probe"])
        case .operateKeys: Probe(method: .POST, path: "api/ssh-keys/\(world.key)/deploy", body: ["servers": []])
        case .exportPrivateKeys: Probe(method: .GET, path: "api/ssh-keys/\(world.key)/private")
        case .changeServers: Probe(method: .PATCH, path: "api/servers/\(world.server)", body: ["notes": "probe"])
        case .acceptHostKeys:
            Probe(
                method: .POST, path: "api/servers/\(world.server)/host-keys/accept",
                body: ["fingerprint_sha256": "not-a-fingerprint"])
        case .changeConnections:
            Probe(method: .PATCH, path: "api/connections/\(world.connection)", body: ["name": "probe"])
        case .changePipelines: Probe(method: .PATCH, path: "api/pipelines/\(world.pipeline)", body: ["name": "probe"])
        case .writeRepositories:
            Probe(method: .POST, path: "api/pipelines/\(world.pipeline)/create-pr", body: ["branch": ".."])
        case .triggerExecutions:
            Probe(method: .POST, path: "api/pipelines/\(world.pipeline)/trigger", body: ["branch": ".."])
        case .ingestLogs: Probe(method: .POST, path: "api/executions/\(world.execution)/logs", rawBody: "x\n")
        case .manageUsers: Probe(method: .GET, path: "api/users")
        case .rotateMasterKey: Probe(method: .POST, path: "api/admin/master-key/rotate")
        // Not a refusal but a filter: checked in `auditEntries_adminsSeeAll_othersTheirOwn`.
        case .readAllAuditEntries: nil
        }
    }

    func send(_ ctx: TestContext, _ probe: Probe, as auth: HTTPHeaders) async throws -> (HTTPStatus, String) {
        var result: (HTTPStatus, String) = (.ok, "")
        var headers = auth
        var body: ByteBuffer?
        if let json = probe.body {
            headers.contentType = .json
            body = try jsonBody(json)
        } else if let raw = probe.rawBody {
            headers.contentType = .plainText
            body = ByteBuffer(string: raw)
        }
        try await ctx.app.testing().test(probe.method, probe.path, headers: headers, body: body) { res async throws in
            result = (res.status, res.errorCode)
        }
        return result
    }

    @Test func everyPermission_rowByRow_forbiddenExactlyForRolesBelowIt() async throws {
        try await withTestApp { ctx in
            let world = try await seed(ctx)
            let roles: [(User.Role, HTTPHeaders)] = [
                (.viewer, ctx.viewerAuth), (.maintainer, ctx.memberAuth), (.admin, ctx.adminAuth),
            ]
            var probed = 0
            for permission in Permission.allCases {
                guard let probe = probe(permission, world) else { continue }
                probed += 1
                for (role, auth) in roles {
                    let (status, code) = try await send(ctx, probe, as: auth)
                    let refused = status == .forbidden && code == "forbidden"
                    #expect(
                        refused == !role.allows(permission),
                        "\(permission.rawValue) as \(role.rawValue): \(probe.method) \(probe.path) → \(status) \(code)")
                    #expect(status != .internalServerError)
                }
            }
            #expect(probed == Permission.allCases.count - 1)
        }
    }

    /// The same probes on an id that does not exist: 404 for every role, never a 403.
    @Test func unknownIDs_are404_forEveryRole() async throws {
        try await withTestApp { ctx in
            let missing = World(key: 9999, server: 9999, connection: 9999, pipeline: 9999, execution: 9999)
            for permission in Permission.allCases {
                guard let probe = probe(permission, missing), probe.path.contains("9999") else { continue }
                for auth in [ctx.viewerAuth, ctx.memberAuth, ctx.adminAuth] {
                    let (status, code) = try await send(ctx, probe, as: auth)
                    #expect(status == .notFound && code == "not_found", "\(probe.path) → \(status) \(code)")
                }
            }
        }
    }

    /// Reading is everyone's: a viewer sees the maintainer's key (public part), server, connection (no
    /// token), pipeline, execution and logs.
    @Test func viewer_readsEverythingTheTeamHas_butNoSecret() async throws {
        try await withTestApp { ctx in
            let world = try await seed(ctx)
            try await LogEndpointTests().ingest(ctx, world.execution, step: "Build", "hello\n")
            for path in [
                "api/ssh-keys", "api/ssh-keys/\(world.key)", "api/servers", "api/servers/\(world.server)",
                "api/connections", "api/connections/\(world.connection)", "api/pipelines",
                "api/pipelines/\(world.pipeline)", "api/pipelines/\(world.pipeline)/executions",
                "api/executions/\(world.execution)", "api/executions/\(world.execution)/logs",
                "api/pipelines/\(world.pipeline)/logs",
            ] {
                try await ctx.app.testing().test(.GET, path, headers: ctx.viewerAuth) { res async throws in
                    #expect(res.status == .ok, "\(path): \(res.status) \(res.body.string)")
                    #expect(!res.body.string.contains("t0k3n"), "\(path) shows the connection token")
                    #expect(!res.body.string.contains("PRIVATE KEY"), "\(path) shows a private key")
                    if path.hasSuffix("s") {
                        #expect((try res.json()["items"] as? [Any])?.isEmpty == false, "\(path) is empty")
                    }
                }
            }
        }
    }

    @Test func auditEntries_adminsSeeAll_othersTheirOwn() async throws {
        try await withTestApp { ctx in
            _ = try await seed(ctx)  // the member creates things: audited entries with the member as actor
            for (auth, seesMembers) in [(ctx.adminAuth, true), (ctx.viewerAuth, false), (ctx.memberAuth, true)] {
                try await ctx.app.testing().test(.GET, "api/audit?actor=member", headers: auth) { res async throws in
                    let total = try #require((try res.json()["pagination"] as? [String: Any])?["total"] as? Int)
                    #expect((total > 0) == seesMembers, "\(auth): \(total)")
                }
            }
            // The maintainer sees only their own entries, not the admin's.
            try await ctx.app.testing().test(
                .POST, "api/tokens", headers: .json(ctx.adminAuth),
                body: try jsonBody(["name": "admin-only"])
            ) { _ async throws in }
            try await ctx.app.testing().test(.GET, "api/audit?actor=admin", headers: ctx.memberAuth) {
                res async throws in
                #expect((try res.json()["pagination"] as? [String: Any])?["total"] as? Int == 0)
            }
            #expect(User.Role.admin.allows(.readAllAuditEntries) && !User.Role.maintainer.allows(.readAllAuditEntries))
        }
    }

    /// The table in docs/API.md and `Permission` say the same: every permission's name is in the doc, in a
    /// row whose ✓ columns start at its minimum role.
    @Test func table_matchesTheDocumentedRoles() throws {
        let doc = try String(
            contentsOfFile: #filePath.replacingOccurrences(
                of: "Tests/AppTests/RoleTableTests.swift", with: "docs/API.md"), encoding: .utf8)
        for permission in Permission.allCases where permission != .manageOwnAccount {
            let row = try #require(
                doc.split(separator: "\n").first { $0.contains("(`\(permission.rawValue)`)") },
                "docs/API.md has no row for \(permission.rawValue)")
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let marks = Array(cells.suffix(3))
            let expected = [User.Role.viewer, .maintainer, .admin].map { $0 >= permission.minimumRole ? "✓" : "—" }
            #expect(marks == expected, "\(permission.rawValue): \(marks)")
        }
        #expect(Permission.rotateMasterKey.minimumRole == .admin)
    }
}
