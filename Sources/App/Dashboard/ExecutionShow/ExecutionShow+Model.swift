import Fluent
import Foundation
import LogStore

/// `/executions/{id}`: one execution and its log viewer.
enum ExecutionShow {
    /// Lines a step shows at once in the first page (the viewer fetches more by seq while scrolling).
    static let windowSize = 200

    struct Model: Sendable, Equatable {
        var id: Int
        var pipelineID: Int
        var pipelineName: String
        var repository: String
        var branch: String
        var commit: String?
        /// The first line of the commit's message, when Bitbucket reported it.
        var commitMessage: String? = nil
        var status: String
        var isFinished: Bool
        var buildNumber: Int?
        var bitbucketURL: String?
        var triggeredBy: String
        var createdAt: Date?
        var startedAt: Date?
        var finishedAt: Date?
        var errorReason: String?
        var steps: [Step]
        var attempts: [Attempt]
        var statistics: Statistics
        var firstError: FirstError?
        /// The highest stored seq when the page was rendered: live updates resume after it.
        var highestSeq: Int
        var search: Search?
        /// Whether the viewer may stop or rerun (the server checks again on submit).
        var canChange: Bool

        struct Step: Sendable, Equatable {
            var name: String
            var status: String?
            var durationSeconds: Double?
            var lines: Int
            var errors: Int
            var warnings: Int
            var firstSeq: Int?
            var lastSeq: Int?
            var isOpen: Bool
            var window: Window?
        }

        /// Consecutive rendered lines of one step.
        struct Window: Sendable, Equatable {
            /// `LogLineHTML.rows` of the lines.
            var rowsHTML: String
            var firstSeq: Int?
            var lastSeq: Int?
            var hasBefore: Bool
            var hasAfter: Bool
        }

        struct Attempt: Sendable, Equatable {
            var number: Int
            var startedAt: Date
            var outcome: String?
            var httpStatus: Int?
            var error: String?
            var nextRetryAt: Date?
        }

        struct Statistics: Sendable, Equatable {
            var totalLines: Int
            var errors: Int
            var warnings: Int
            var byLevel: [(level: String, count: Int)]
            var durationSeconds: Double?
            var droppedBytes: Int64

            static func == (lhs: Statistics, rhs: Statistics) -> Bool {
                lhs.totalLines == rhs.totalLines && lhs.errors == rhs.errors && lhs.warnings == rhs.warnings
                    && lhs.byLevel.map(\.level) == rhs.byLevel.map(\.level)
                    && lhs.byLevel.map(\.count) == rhs.byLevel.map(\.count)
                    && lhs.durationSeconds == rhs.durationSeconds && lhs.droppedBytes == rhs.droppedBytes
            }
        }

        struct FirstError: Sendable, Equatable {
            var seq: Int
            var step: String
            var text: String
        }

        struct Search: Sendable, Equatable {
            var text: String
            var isRegex: Bool
            var level: String?
            var step: String?
            var total: Int
            var page: Int
            var perPage: Int
            /// The regex budget ran out: `total` counts the lines scanned so far.
            var isPartial: Bool
            var matches: [Match]
            var error: String?
        }

        struct Match: Sendable, Equatable {
            var seq: Int
            var step: String
            /// The line rendered with its highlights.
            var html: String
        }
    }
}

extension ExecutionShow.Model {
    /// The model from stored rows and statistics; `windows` maps step names to the window each open step shows.
    init(
        execution: Execution, pipeline: Pipeline, attempts: [TriggerAttempt], statistics: LogStatistics,
        highestSeq: Int, windows: [String: Window], canChange: Bool
    ) throws {
        let known = execution.steps
        var names = known.map(\.name)
        for name in statistics.stepOrder where !names.contains(name) { names.append(name) }
        let steps = names.map { name in
            let step = known.first { $0.name == name }
            let figures = statistics.bySteps[name]
            return Step(
                name: name, status: step?.status, durationSeconds: step?.durationS ?? figures?.durationSeconds,
                lines: figures?.lines ?? 0, errors: figures?.errors ?? 0, warnings: figures?.warnings ?? 0,
                firstSeq: figures?.firstSeq, lastSeq: figures?.lastSeq, isOpen: windows[name] != nil,
                window: windows[name])
        }
        self.init(
            id: try execution.requireID(), pipelineID: try pipeline.requireID(), pipelineName: pipeline.name,
            repository: "\(pipeline.workspace)/\(pipeline.repoSlug)", branch: execution.branch,
            commit: execution.commit,
            commitMessage: execution.commitMessage.flatMap {
                $0.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init)
            },
            status: execution.status.rawValue, isFinished: execution.status.isTerminal,
            buildNumber: execution.buildNumber, bitbucketURL: execution.bitbucketURL, triggeredBy: execution.triggerBy,
            createdAt: execution.createdAt, startedAt: execution.startedAt, finishedAt: execution.finishedAt,
            errorReason: execution.errorReason, steps: steps,
            attempts: attempts.map {
                Attempt(
                    number: $0.number, startedAt: $0.startedAt, outcome: $0.outcome?.rawValue,
                    httpStatus: $0.httpStatus,
                    error: $0.error, nextRetryAt: $0.nextRetryAt)
            },
            statistics: Statistics(
                totalLines: statistics.totalLines, errors: statistics.byLevel[.error] ?? 0,
                warnings: statistics.byLevel[.warn] ?? 0,
                byLevel: LogLevel.allCases.reversed().map { ($0.rawValue, statistics.byLevel[$0] ?? 0) },
                durationSeconds: statistics.durationSeconds, droppedBytes: statistics.droppedBytes),
            firstError: statistics.firstError.map { FirstError(seq: $0.seq, step: $0.step, text: $0.text) },
            highestSeq: highestSeq, search: nil, canChange: canChange)
    }
}
