import Fluent
import Foundation
import PipelineConfig

/// `/pipelines/{id}`: one pipeline; on demand its generated configuration (`?preview=1`) and its
/// repository provisioning plan (`?plan=1`), both read from Bitbucket; the pull request and trigger forms.
enum PipelineShow {
    struct Model: Sendable, Equatable {
        var id: Int
        var name: String
        var repository: String
        var branch: String
        var deployPath: String
        var domain: String?
        var servers: [String]
        var keyID: Int?
        /// The key's name (`nil` when it is gone).
        var keyName: String? = nil
        var webhookURL: String
        var provisioningStatus: String
        var recent: [Recent]
        var preview: Preview?
        var plan: [PlanRow]?
        var pullRequest: PullRequest?
        var provisionResults: [PlanRow]?
        /// The stack read from the repository just now (`POST /pipelines/{id}/detect`).
        var detection: Detection?
        /// The webhook secret of a pipeline created by this request; shown this once.
        var createdWebhookSecret: String?
        var error: String?

        struct Detection: Sendable, Equatable {
            /// Label and value, e.g. `("Language", "node")`, only those detected.
            var facts: [Fact]
            var evidence: [Evidence]
            /// Other application directories of a monorepo (`directory: language`).
            var others: [String]
        }

        struct Fact: Sendable, Equatable {
            var label: String
            var value: String
        }

        struct Evidence: Sendable, Equatable {
            var file: String
            var reason: String
        }

        struct Recent: Sendable, Equatable {
            var id: Int
            var branch: String
            var status: String
            var createdAt: Date?
        }

        struct Preview: Sendable, Equatable {
            var files: [File]
            var variables: [String]
        }

        struct File: Sendable, Equatable {
            var path: String
            var content: String
            var ok: Bool
            var messages: [String]
        }

        struct PlanRow: Sendable, Equatable {
            var kind: String
            var name: String
            var action: String
            var detail: String?
        }

        struct PullRequest: Sendable, Equatable {
            var id: Int
            var url: String?
            var created: Bool
            var sourceBranch: String
        }
    }
}

extension PipelineShow.Model {
    init(_ pipeline: Pipeline, webhookURL: String, status: String, servers: [Server], recent: [Execution]) throws {
        self.init(
            id: try pipeline.requireID(), name: pipeline.name, repository: "\(pipeline.workspace)/\(pipeline.repoSlug)",
            branch: pipeline.branch, deployPath: pipeline.deployPath, domain: pipeline.domain,
            servers: servers.map { "\($0.username)@\($0.host):\($0.port)" }, keyID: pipeline.$sshKey.id,
            webhookURL: webhookURL, provisioningStatus: status,
            recent: recent.map {
                Recent(id: $0.id ?? 0, branch: $0.branch, status: $0.status.rawValue, createdAt: $0.createdAt)
            })
    }
}

extension PipelineShow.Model.Detection {
    init(_ report: DetectionReport) {
        guard let stack = report.primary else {
            self.init(facts: [], evidence: [], others: [])
            return
        }
        let facts: [(String, String?)] = [
            ("Language", stack.language.rawValue), ("Framework", stack.framework),
            ("Runtime version", stack.runtimeVersion), ("Package manager", stack.packageManager),
            ("Directory", stack.directory.isEmpty ? nil : stack.directory), ("Install", stack.installCommand),
            ("Build", stack.buildCommand), ("Test", stack.testCommand), ("Start", stack.startCommand),
        ]
        self.init(
            facts: facts.compactMap { label, value in value.map { .init(label: label, value: $0) } },
            evidence: stack.evidence.map { .init(file: $0.file, reason: $0.reason) },
            others: report.stacks.filter { $0 != stack }.map {
                "\($0.directory.isEmpty ? "/" : $0.directory): \($0.language.rawValue)"
            })
    }
}

extension PipelineShow.Model.PlanRow {
    init(_ item: ProvisioningItem) {
        var detail = item.reason ?? item.conflict?.message
        if detail == nil, item.desired.secured == true { detail = "secured" }
        self.init(kind: item.kind.rawValue, name: item.name, action: item.action.rawValue, detail: detail)
    }

    init(_ result: ProvisioningRun.ItemResult) {
        var detail = result.item.conflict?.message ?? result.item.reason
        if case .failed(let code, let message) = result.outcome { detail = "\(message) (\(code))" }
        self.init(kind: result.item.kind.rawValue, name: result.item.name, action: result.status, detail: detail)
    }
}
