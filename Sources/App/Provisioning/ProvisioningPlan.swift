import Foundation

/// Whether a pipeline's repository holds what Pipewright last provisioned (docs/provisioning.md "Drift").
enum ProvisioningStatus: String, Sendable, Codable {
    /// The last apply or plan found nothing to do.
    case inSync = "in_sync"
    /// A plan found an item to create, update or resolve, or a pinned host key changed since.
    case drifted
    /// Never provisioned by Pipewright.
    case never
}

/// `GET /api/pipelines/{id}/provisioning`: the items in apply order (Pipelines, environment, key pair,
/// known hosts, variables).
struct ProvisioningPlan: Sendable {
    var pipelineID: Int
    /// `workspace/repo_slug`.
    var repository: String
    var items: [ProvisioningItem]
    /// The status stored for the pipeline after this plan.
    var status: ProvisioningStatus

    /// Whether an apply would write nothing and nothing is in conflict.
    var isInSync: Bool { items.allSatisfy { $0.action == .none } }
}

/// `POST /api/pipelines/{id}/provision`: what happened to each item.
struct ProvisioningRun: Sendable {
    /// One item's result.
    struct ItemResult: Sendable {
        enum Outcome: Sendable, Equatable {
            case created
            case updated
            case unchanged
            /// Not written: the item's conflict says why.
            case conflict
            /// The Bitbucket request failed: the stable code and a safe sentence.
            case failed(code: String, message: String)
        }

        var item: ProvisioningItem
        var outcome: Outcome

        /// `created`, `updated`, `unchanged`, `conflict`, `failed`.
        var status: String {
            switch outcome {
            case .created: "created"
            case .updated: "updated"
            case .unchanged: "unchanged"
            case .conflict: "conflict"
            case .failed: "failed"
            }
        }

        var succeeded: Bool {
            switch outcome {
            case .created, .updated, .unchanged: true
            case .conflict, .failed: false
            }
        }
    }

    var pipelineID: Int
    var repository: String
    var results: [ItemResult]
    var status: ProvisioningStatus

    /// Every item is in the desired state now.
    var ok: Bool { results.allSatisfy(\.succeeded) }
    /// Items overwritten in Bitbucket (each gets its own audit entry).
    var replaced: [ItemResult] { results.filter { $0.outcome == .updated } }
}

/// Options of an apply.
struct ProvisioningOptions: Sendable {
    /// Overwrite a key pair Pipewright did not put there (its fingerprint is in the plan).
    var replaceForeignKeyPair = false
    /// When the pipeline's key is not RSA: generate an RSA-4096 key, deploy it to the pipeline's servers and
    /// make it the pipeline's key before provisioning.
    var generateRSAKey = false
}
