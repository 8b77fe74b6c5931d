import Foundation
import PipelineConfig
import Testing

@Suite struct PullRequestDescriptionTests {
    static let stack = DetectedStack(
        language: .node, framework: "next", runtimeVersion: "20", packageManager: "npm", installCommand: "npm ci",
        buildCommand: "npm run build", testCommand: "npm test", startCommand: "npm start",
        evidence: [
            Evidence(file: "package.json", reason: "depends on next"),
            Evidence(file: "package-lock.json", reason: "npm lock file"),
        ], score: 75)
    static let settings = DeploymentSettings(
        pipelineName: "Shop | Web",
        servers: [
            DeployServer(host: "web1.example.com", port: 22, username: "deploy"),
            DeployServer(host: "203.0.113.7", port: 2222, username: "ubuntu"),
        ], deployPath: "/srv/shop", appPort: 3000, domain: "shop.example.com")

    func render() -> String {
        PullRequestDescription.render(
            stack: Self.stack, settings: Self.settings,
            executions: [
                ExecutionSummary(
                    status: "SUCCESS", durationSeconds: 312, date: Date(timeIntervalSince1970: 1_767_225_600),
                    buildNumber: 42),
                ExecutionSummary(
                    status: "FAILED", durationSeconds: nil, date: Date(timeIntervalSince1970: 1_767_139_200)),
            ],
            validation: [
                ValidationResult(file: "bitbucket-pipelines.yml", messages: []),
                ValidationResult(
                    file: "deploy/nginx/shop.example.com.conf", messages: ["No 'listen' directive in a server block."]),
            ],
            variables: PipelinesYAMLGenerator.requiredVariables(for: Self.settings))
    }

    @Test func render_containsEverySection() {
        let text = render()
        for expected in [
            "## Detected stack", "- Language: `node`", "- Framework: `next`", "`package.json`: depends on next",
            "## Deployment", "`deploy@web1.example.com:22`", "`ubuntu@203.0.113.7:2222`", "- Path: `/srv/shop`",
            "- Domain: `shop.example.com`", "- Environment: `production` (branch `main`)",
            "## Repository variables to define", "| `DEPLOY_HOST_2` | `203.0.113.7` | no |",
            "## Validation", "- `bitbucket-pipelines.yml`: ✅ passed", "❌ failed", "No 'listen' directive",
            "## Recent executions", "| #42 | SUCCESS | 312 s | 2026-01-01T00:00:00Z |",
            "| — | FAILED | — | 2025-12-31T00:00:00Z |",
            "**Shop \\| Web**", "systemd unit `shop-web` that runs `npm start` in `/srv/shop`",
        ] {
            #expect(text.contains(expected), "missing \(expected)")
        }
    }

    @Test func render_isDeterministic() {
        #expect(render() == render())
    }

    @Test func render_hidesSecuredValuesAndFlattensInput() {
        let variables = [
            RequiredVariable(name: "API_TOKEN", description: "token\nwith newline", secured: true, value: "s3cr3t")
        ]
        var stack = Self.stack
        stack.evidence = [Evidence(file: "we`ird.json", reason: "line1\nline2")]
        let text = PullRequestDescription.render(stack: stack, settings: Self.settings, variables: variables)
        #expect(!text.contains("s3cr3t"))
        #expect(text.contains("token with newline"))
        #expect(text.contains("`we'ird.json`: line1 line2"))
        #expect(text.contains("None yet."))
        #expect(text.contains("Not run."))
    }
}
