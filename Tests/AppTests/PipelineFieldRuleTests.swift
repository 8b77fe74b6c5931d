import Foundation
import PipelineConfig
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 12 item 10: each `deploy` field is checked once, at create/update, with the generator's own rule,
/// so a stored pipeline never fails config generation later.
@Suite struct PipelineFieldRuleTests {
    /// Values the old create/update rule let through and the generators refused (422 on every config call).
    static let refused: [(field: String, value: String)] = [
        ("domain", "web..example.com"), ("domain", "web.-example.com"), ("domain", "web-.example.com"),
        ("domain", String(repeating: "a", count: 64) + ".example.com"), ("deploy_path", "~/app"),
        ("deploy_path", "/srv/./web"), ("deploy_path", "/"), ("build_command", "   "),
        ("build_command", "echo password=hunter2"),
        ("start_command", "curl -H 'x: ATATT" + String(repeating: "x", count: 24) + "'"),
    ]

    @Test(arguments: 0..<refused.count)
    func createAndUpdate_refuseWhatTheGeneratorRefuses(_ index: Int) async throws {
        let (field, value) = Self.refused[index]
        try await withTestApp { ctx in
            let ids = try await PipelineCRUDTests().fixtures(ctx)
            var deploy: [String: Any] = [
                "server_ids": [ids.server], "ssh_key_id": ids.key, "deploy_path": "/srv/web", "app_port": 3000,
            ]
            deploy[field] = value
            let body: [String: Any] = [
                "name": "p", "connection_id": ids.connection, "repo_slug": "web", "deploy": deploy,
            ]
            try await ctx.app.testing().test(
                .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(body)
            ) {
                res async throws in
                #expect(res.status == .badRequest, "\(field)=\(value): \(res.body.string)")
                #expect(res.errorCode == "invalid_field")
                #expect(
                    try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error.details["field"]
                        == "deploy.\(field)")
            }
            var valid = body
            valid["deploy"] = [
                "server_ids": [ids.server], "ssh_key_id": ids.key, "deploy_path": "/srv/web", "app_port": 3000,
            ]
            var pipelineID = 0
            try await ctx.app.testing().test(
                .POST, "api/pipelines", headers: .json(ctx.memberAuth), body: try jsonBody(valid)
            ) {
                res async throws in
                #expect(res.status == .created)
                pipelineID = try #require(try res.json()["id"] as? Int)
            }
            try await ctx.app.testing().test(
                .PUT, "api/pipelines/\(pipelineID)", headers: .json(ctx.memberAuth),
                body: try jsonBody(["deploy": deploy])
            ) { res async throws in
                #expect(res.status == .badRequest, "\(field)=\(value): \(res.body.string)")
                #expect(
                    try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error.details["field"]
                        == "deploy.\(field)")
            }
        }
    }

    /// What the create rule accepts, the generators accept too.
    @Test func rules_areTheGenerators() throws {
        #expect(throws: PipelineConfigError.self) { try DeploymentFieldRules.checkDomain("web..example.com") }
        #expect(throws: PipelineConfigError.self) {
            try NginxConfigGenerator.generate(serverName: "web..example.com", appPort: 3000)
        }
        try DeploymentFieldRules.checkDomain("*.web.example.com")
        #expect(
            try NginxConfigGenerator.generate(serverName: "*.web.example.com", appPort: 3000).contains("server_name"))
    }
}
