import Fluent
import Foundation
import SQLKit

/// The columns of an execution the realtime subscribe path reads: id, pipeline, status, Bitbucket run and
/// steps, read with one plain SQL query instead of a Fluent `Execution`.
///
/// Why: building a Fluent model reflects over all of its properties (21 for `Execution`), once per model
/// instance and again for every key-path filter; with 1,000 viewers connecting at once that reflection was
/// most of the service's CPU per subscription (docs/scaling.md "Fan-out per instance").
struct ExecutionHead: Sendable {
    var id: Int
    var pipelineID: Int
    var status: Execution.Status
    var bitbucketUUID: String?
    var stepsJSON: String

    /// The steps as last stored by the monitor (`Execution.steps`).
    var steps: [ExecutionStep] { Execution.decodeSteps(stepsJSON) }

    init(id: Int, pipelineID: Int, status: Execution.Status, bitbucketUUID: String?, stepsJSON: String) {
        self.id = id
        self.pipelineID = pipelineID
        self.status = status
        self.bitbucketUUID = bitbucketUUID
        self.stepsJSON = stepsJSON
    }

    init(_ execution: Execution) throws {
        self.init(
            id: try execution.requireID(), pipelineID: execution.$pipeline.id, status: execution.status,
            bitbucketUUID: execution.bitbucketUUID, stepsJSON: execution.stepsJSON)
    }

    /// The execution `id`, or `nil` when there is none.
    static func find(_ id: Int, on db: any Database) async throws -> ExecutionHead? {
        // Both drivers (SQLite, PostgreSQL) are SQL databases.
        guard let sql = db as? any SQLDatabase else { throw AppError.notReady("The database does not speak SQL.") }
        guard
            let row = try await sql.raw(
                "SELECT id, pipeline_id, status, bitbucket_uuid, steps_json FROM executions WHERE id = \(bind: id)"
            ).first()
        else { return nil }
        return ExecutionHead(
            id: try row.decode(column: "id", as: Int.self),
            pipelineID: try row.decode(column: "pipeline_id", as: Int.self),
            status: try row.decode(column: "status", as: Execution.Status.self),
            bitbucketUUID: try row.decode(column: "bitbucket_uuid", as: String?.self),
            stepsJSON: try row.decode(column: "steps_json", as: String.self))
    }
}
