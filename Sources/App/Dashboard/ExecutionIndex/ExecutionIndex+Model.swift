import Fluent
import Foundation
import PipewrightCore

/// `/executions`: executions across every pipeline, filtered by status, pipeline and branch, and the
/// trigger form.
enum ExecutionIndex {
    struct Model: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var id: Int
            var pipelineID: Int
            var pipelineName: String
            var branch: String
            var commit: String?
            var status: String
            var buildNumber: Int?
            var triggeredBy: String
            var createdAt: Date?
            var durationSeconds: Double?
            var attempts: Int
        }

        struct PipelineOption: Sendable, Equatable {
            var id: Int
            var name: String
            var defaultBranch: String
        }

        struct TriggerForm: Sendable, Equatable {
            var pipelineID: Int?
            var branch = ""
            var maxRetries = ""
        }

        var rows: [Row]
        var pipelines: [PipelineOption]
        var status: String
        var pipelineID: Int?
        var branch: String
        var page: Int
        var perPage: Int
        var total: Int
        var error: String?
        var form = TriggerForm()
    }
}

extension ExecutionIndex.Model {
    init(
        executions: [Execution], pipelines: [Pipeline], filter: ExecutionLauncher.ListFilter,
        page: PipewrightCore.PageRequest, total: Int, error: String?, form: TriggerForm
    ) throws {
        self.init(
            rows: try executions.map { execution in
                Row(
                    id: try execution.requireID(), pipelineID: execution.$pipeline.id,
                    pipelineName: execution.$pipeline.value?.name ?? "pipeline \(execution.$pipeline.id)",
                    branch: execution.branch, commit: execution.commit, status: execution.status.rawValue,
                    buildNumber: execution.buildNumber, triggeredBy: execution.triggerBy,
                    createdAt: execution.createdAt,
                    durationSeconds: execution.startedAt.flatMap { start in
                        (execution.finishedAt ?? (execution.status.isTerminal ? nil : Date())).map {
                            $0.timeIntervalSince(start)
                        }
                    },
                    attempts: execution.$attempts.value?.count ?? 0)
            },
            pipelines: try pipelines.map {
                PipelineOption(id: try $0.requireID(), name: $0.name, defaultBranch: $0.branch)
            },
            status: filter.status?.rawValue ?? "", pipelineID: filter.pipelineID, branch: filter.branch ?? "",
            page: page.page, perPage: page.perPage, total: total, error: error, form: form)
    }
}
