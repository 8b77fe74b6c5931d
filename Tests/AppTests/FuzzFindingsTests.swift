import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// Regressions for what scripts/fuzz (schemathesis) found, one test per finding.
@Suite struct FuzzFindingsTests {
    /// `DELETE /api/servers/{id}?force=null` deleted the server: the flag was only parsed when keys were
    /// recorded there, so a malformed value passed unnoticed. Every flag is validated.
    @Test func serverDelete_malformedForceFlag_is400_andKeepsTheServer() async throws {
        try await withTestApp { ctx in
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/servers", headers: .json(ctx.memberAuth),
                body: try jsonBody(["host": "127.0.0.1", "port": 22, "username": "deploy"])
            ) { res async throws in
                #expect(res.status == .created)
                id = try #require(try res.json()["id"] as? Int)
            }
            try await ctx.app.testing().test(.DELETE, "api/servers/\(id)?force=null", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .badRequest)
                #expect(res.errorCode == "invalid_field")
            }
            try await ctx.app.testing().test(.GET, "api/servers/\(id)", headers: ctx.memberAuth) { res async throws in
                #expect(res.status == .ok)
            }
            try await ctx.app.testing().test(.DELETE, "api/servers/\(id)?force=false", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .noContent)
            }
        }
    }
}
