import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/pipelines/{id}/trigger` body (docs/API.md "Triggering and executions").
struct TriggerPipelineRequest: Content {
    struct Variable: Content {
        var key: String
        var value: String
        var secured: Bool?
    }

    var branch: String?
    var commit: String?
    var pattern: String?
    var variables: [Variable]?
    var retry: Bool?
    var maxRetries: Int?
}

/// An execution as shown to clients (docs/API.md "Triggering and executions").
struct ExecutionResponse: Content {
    struct BitbucketRef: Content {
        var uuid: String
        var buildNumber: Int?
        var url: String?
    }

    struct Trigger: Content {
        var by: String
        var at: Date
        var retry: Bool
        var maxRetries: Int
    }

    struct Attempt: Content {
        var n: Int
        var startedAt: Date
        var finishedAt: Date?
        var outcome: String?
        var httpStatus: Int?
        var error: String?
        var nextRetryAt: Date?
    }

    var id: Int
    var pipelineId: Int
    var status: String
    var bitbucket: BitbucketRef?
    var branch: String
    var commit: String?
    var trigger: Trigger
    var attempts: [Attempt]
    var steps: [ExecutionStep]
    var error: String?
    var startedAt: Date?
    var finishedAt: Date?
    var durationS: Double?

    init(_ execution: Execution, attempts: [TriggerAttempt]) throws {
        id = try execution.requireID()
        pipelineId = execution.$pipeline.id
        status = execution.status.rawValue
        bitbucket = execution.bitbucketUUID.map {
            BitbucketRef(uuid: $0, buildNumber: execution.buildNumber, url: execution.bitbucketURL)
        }
        branch = execution.branch
        commit = execution.commit
        trigger = Trigger(
            by: execution.triggerBy, at: execution.triggerAt, retry: execution.retry, maxRetries: execution.maxRetries)
        self.attempts = attempts.sorted { $0.number < $1.number }.map {
            Attempt(
                n: $0.number, startedAt: $0.startedAt, finishedAt: $0.finishedAt, outcome: $0.outcome?.rawValue,
                httpStatus: $0.httpStatus, error: $0.error, nextRetryAt: $0.nextRetryAt)
        }
        steps = execution.steps
        error = execution.errorReason
        startedAt = execution.startedAt
        finishedAt = execution.finishedAt
        if let start = execution.startedAt, let end = execution.finishedAt {
            durationS = end.timeIntervalSince(start)
        }
    }

    /// Every documented field is always present, `null` when it has no value (an untriggered execution
    /// has `"bitbucket": null`); the synthesized encoder would leave them out (issue 12 item 11).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(pipelineId, forKey: .pipelineId)
        try container.encode(status, forKey: .status)
        try container.encode(bitbucket, forKey: .bitbucket)
        try container.encode(branch, forKey: .branch)
        try container.encode(commit, forKey: .commit)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(steps, forKey: .steps)
        try container.encode(error, forKey: .error)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(durationS, forKey: .durationS)
    }
}

extension JSONDecoder {
    /// A decoder for our own stored JSON (ISO 8601 dates, camelCase keys as encoded by `JSONEncoder.iso8601`).
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension JSONEncoder {
    /// An encoder for our own stored JSON.
    static var iso8601: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
