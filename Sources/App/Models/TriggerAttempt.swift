import Fluent
import Foundation
import PipewrightCore

/// One POST to Bitbucket's pipelines endpoint (or the lookup that replaced it), with its outcome.
///
/// `@unchecked Sendable`: see `User`.
final class TriggerAttempt: Model, @unchecked Sendable {
    static let schema = "trigger_attempts"

    /// `succeeded` or `failed`.
    enum Outcome: String, Codable, Sendable {
        case succeeded, failed
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?

    // reference fields
    @Parent(key: "execution_id") var execution: Execution

    // data fields
    @OptionalField(key: "error") var error: String?
    @OptionalField(key: "finished_at") var finishedAt: Date?
    @OptionalField(key: "http_status") var httpStatus: Int?
    @Field(key: "n") var number: Int
    @OptionalField(key: "next_retry_at") var nextRetryAt: Date?
    @OptionalField(key: "outcome") var outcome: Outcome?
    @Field(key: "started_at") var startedAt: Date

    init() {}
}
