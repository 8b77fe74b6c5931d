import Fluent
import Foundation

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
        var webhookURL: String
        var provisioningStatus: String
        var recent: [Recent]
        var preview: Preview?
        var plan: [PlanRow]?
        var pullRequest: PullRequest?
        var provisionResults: [PlanRow]?
        var error: String?

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
