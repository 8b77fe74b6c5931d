import Fluent
import Foundation
import PipewrightCore

/// What Pipewright last provisioned in a pipeline's repository (docs/provisioning.md; schema 7).
///
/// `@unchecked Sendable`: see `User`.
final class PipelineProvisioning: Model, @unchecked Sendable {
    static let schema = "pipeline_provisionings"

    /// `in_sync` after an apply that left nothing to do; `drifted` when a plan found differences, an
    /// apply left conflicts or failures, or an accepted host-key change made a known host out of date.
    enum Status: String, Codable, Sendable {
        case inSync = "in_sync"
        case drifted
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?

    // reference fields
    @Parent(key: "pipeline_id") var pipeline: Pipeline

    // data fields
    /// When a plan last compared the repository with the desired state.
    @OptionalField(key: "checked_at") var checkedAt: Date?
    /// `SHA256:` fingerprint of the key pair Pipewright wrote to the repository, when it wrote one.
    @OptionalField(key: "key_pair_fingerprint") var keyPairFingerprint: String?
    /// When the last apply ran.
    @Field(key: "provisioned_at") var provisionedAt: Date
    @Field(key: "repo_slug") var repoSlug: String
    @Field(key: "status") var status: Status
    @Field(key: "workspace") var workspace: String

    init() {}

    /// The row of `pipelineID`, if it was ever provisioned.
    static func of(pipelineID: Int, on db: any Database) async throws -> PipelineProvisioning? {
        try await query(on: db).filter(\.$pipeline.$id == pipelineID).first()
    }

    /// Marks every pipeline deploying to a server at `host:port` as drifted: its known host no longer
    /// matches the pin (an accepted host-key change).
    static func markKnownHostsOutdated(host: String, port: Int, on db: any Database) async throws {
        let serverIDs = Set(
            try await Server.query(on: db).filter(\.$host == host).filter(\.$port == port).all().compactMap(\.id))
        guard !serverIDs.isEmpty else { return }
        let pipelineIDs = try await Pipeline.query(on: db).all()
            .filter { !serverIDs.isDisjoint(with: $0.serverIDs) }.compactMap(\.id)
        guard !pipelineIDs.isEmpty else { return }
        try await query(on: db).filter(\.$pipeline.$id ~~ pipelineIDs).set(\.$status, to: .drifted).update()
    }
}
