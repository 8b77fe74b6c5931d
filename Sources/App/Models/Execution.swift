import Fluent
import Foundation
import PipewrightCore

/// One run of a pipeline on Bitbucket, from the first trigger attempt to its final status (docs/API.md
/// "Triggering and executions").
///
/// `@unchecked Sendable`: see `User`.
final class Execution: Model, @unchecked Sendable {
    static let schema = "executions"

    /// Status machine (docs/API.md "Triggering and executions"): `TRIGGERING` → `PENDING` →
    /// `BUILDING`/`TESTING`/`DEPLOYING` → `SUCCESS`/`FAILED`/`STOPPED`/`ERROR`.
    enum Status: String, Codable, Sendable, CaseIterable {
        case triggering = "TRIGGERING"
        case pending = "PENDING"
        case building = "BUILDING"
        case testing = "TESTING"
        case deploying = "DEPLOYING"
        case success = "SUCCESS"
        case failed = "FAILED"
        case stopped = "STOPPED"
        case error = "ERROR"

        /// No further change will happen.
        var isTerminal: Bool { [.success, .failed, .stopped, .error].contains(self) }
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    // reference fields
    @Parent(key: "owner_id") var owner: User
    @Parent(key: "pipeline_id") var pipeline: Pipeline

    // data fields
    @OptionalField(key: "bitbucket_build_number") var buildNumber: Int?
    @OptionalField(key: "bitbucket_url") var bitbucketURL: String?
    @OptionalField(key: "bitbucket_uuid") var bitbucketUUID: String?
    @Field(key: "branch") var branch: String
    @OptionalField(key: "commit") var commit: String?
    /// The built commit's message as Bitbucket reports it (at most 2,000 characters), once the monitor saw it.
    @OptionalField(key: "commit_message") var commitMessage: String?
    @OptionalField(key: "error_reason") var errorReason: String?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    /// `Idempotency-Key` header of the triggering request, unique per pipeline.
    @OptionalField(key: "idempotency_key") var idempotencyKey: String?
    @Field(key: "max_retries") var maxRetries: Int
    @OptionalField(key: "pattern") var pattern: String?
    @Field(key: "retry") var retry: Bool
    @OptionalField(key: "started_at") var startedAt: Date?
    @Field(key: "status") var status: Status
    /// Steps as last seen (JSON array of `ExecutionStep`).
    @Field(key: "steps_json") var stepsJSON: String
    @Field(key: "trigger_at") var triggerAt: Date
    @Field(key: "trigger_by") var triggerBy: String
    /// Base64 of the sealed pipeline variables (JSON), needed again only for retries.
    @OptionalField(key: "sealed_variables") var sealedVariables: String?

    @Children(for: \.$execution) var attempts: [TriggerAttempt]

    init() {}

    /// The steps as last stored by the monitor (empty before the first poll); the one place
    /// `steps_json` is read and written.
    var steps: [ExecutionStep] {
        get { Self.decodeSteps(stepsJSON) }
        set {
            stepsJSON = (try? JSONEncoder.iso8601.encode(newValue)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        }
    }

    /// `steps_json` as steps (empty when unreadable).
    static func decodeSteps(_ json: String) -> [ExecutionStep] {
        (try? JSONDecoder.iso8601.decode([ExecutionStep].self, from: Data(json.utf8))) ?? []
    }
}

/// One step of an execution as last seen on Bitbucket.
struct ExecutionStep: Codable, Sendable, Equatable {
    var uuid: String
    var name: String
    var status: String
    var startedAt: Date?
    var durationS: Double?
}
