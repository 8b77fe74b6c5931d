import Foundation
import Vapor

/// `POST /api/pipelines/{id}/provision` body (all optional; an empty body is allowed).
struct ProvisionRequest: Content {
    /// Overwrite a key pair Pipewright did not write (the plan shows its fingerprint).
    var replaceForeignKeyPair: Bool?
    /// When the pipeline's key is not RSA: generate an RSA-4096 key, deploy it and use it.
    var generateRsaKey: Bool?
}

/// The state of one item (docs/API.md "Provisioning"): only the fields of the item's kind are non-null.
/// Never holds a secret: secured variables have `secured: true` and `value: null`; a key pair only its public half.
struct ProvisionedStateResponse: Content, Equatable {
    var enabled: Bool?
    var value: String?
    var secured: Bool?
    var publicKey: String?
    var fingerprintSHA256: String?
    var keyType: String?
    var key: String?
    var environmentType: String?

    enum CodingKeys: String, CodingKey {
        case enabled, value, secured, key
        case publicKey = "public_key"
        case fingerprintSHA256 = "fingerprint_sha256"
        case keyType = "key_type"
        case environmentType = "environment_type"
    }
}

/// One item of a plan.
struct ProvisioningItemResponse: Content {
    var kind: String
    var name: String
    var desired: ProvisionedStateResponse
    var current: ProvisionedStateResponse?
    var action: String
    var reason: String?
    var conflict: OperationErrorResponse?
}

/// `GET /api/pipelines/{id}/provisioning`.
struct ProvisioningPlanResponse: Content {
    var pipelineId: Int
    var repository: String
    var provisioningStatus: String
    var inSync: Bool
    var items: [ProvisioningItemResponse]
}

/// One item's result of an apply.
struct ProvisioningResultResponse: Content {
    var kind: String
    var name: String
    var action: String
    var status: String
    var desired: ProvisionedStateResponse
    var error: OperationErrorResponse?
}

/// `POST /api/pipelines/{id}/provision` (and `provisioning` of a create-pr with `provision: true`).
struct ProvisionResponse: Content {
    var pipelineId: Int
    var repository: String
    var provisioningStatus: String
    var ok: Bool
    var results: [ProvisioningResultResponse]
}

/// One repository's part of a key rotation.
struct RepositoryKeyPairResponse: Content {
    var repository: String
    var pipelineIds: [Int]
    var status: String
    var error: OperationErrorResponse?
}

extension ProvisionedStateResponse {
    init(_ state: ProvisionedState) {
        self.init(
            enabled: state.enabled, value: state.secured == true ? nil : state.value, secured: state.secured,
            publicKey: state.publicKey, fingerprintSHA256: state.fingerprintSHA256, keyType: state.keyType,
            key: state.key, environmentType: state.environmentType)
    }
}

extension ProvisioningItemResponse {
    init(_ item: ProvisioningItem) {
        self.init(
            kind: item.kind.rawValue, name: item.name, desired: .init(item.desired),
            current: item.current.map { .init($0) },
            action: item.action.rawValue, reason: item.reason,
            conflict: item.conflict.map { OperationErrorResponse(code: $0.code, message: $0.message, details: nil) })
    }
}

extension ProvisioningPlanResponse {
    init(_ plan: ProvisioningPlan) {
        self.init(
            pipelineId: plan.pipelineID, repository: plan.repository, provisioningStatus: plan.status.rawValue,
            inSync: plan.isInSync, items: plan.items.map(ProvisioningItemResponse.init))
    }
}

extension ProvisioningResultResponse {
    init(_ result: ProvisioningRun.ItemResult) {
        var error: OperationErrorResponse?
        switch result.outcome {
        case .conflict:
            error = result.item.conflict.map {
                OperationErrorResponse(code: $0.code, message: $0.message, details: nil)
            }
        case .failed(let code, let message):
            error = OperationErrorResponse(code: code, message: message, details: nil)
        case .created, .updated, .unchanged:
            error = nil
        }
        self.init(
            kind: result.item.kind.rawValue, name: result.item.name, action: result.item.action.rawValue,
            status: result.status, desired: .init(result.item.desired), error: error)
    }
}

extension ProvisionResponse {
    init(_ run: ProvisioningRun) {
        self.init(
            pipelineId: run.pipelineID, repository: run.repository, provisioningStatus: run.status.rawValue, ok: run.ok,
            results: run.results.map(ProvisioningResultResponse.init))
    }
}

extension RepositoryKeyPairResponse {
    init(_ result: RepositoryKeyPairResult) {
        var error: OperationErrorResponse?
        if case .failed(let code, let message) = result.outcome {
            error = OperationErrorResponse(code: code, message: message, details: nil)
        }
        self.init(repository: result.repository, pipelineIds: result.pipelineIDs, status: result.status, error: error)
    }
}

// Every documented field is always present, `null` when it has no value (the synthesized encoder would
// leave them out; see `ExecutionResponse.encode(to:)`).

extension ProvisionedStateResponse {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(value, forKey: .value)
        try container.encode(secured, forKey: .secured)
        try container.encode(publicKey, forKey: .publicKey)
        try container.encode(fingerprintSHA256, forKey: .fingerprintSHA256)
        try container.encode(keyType, forKey: .keyType)
        try container.encode(key, forKey: .key)
        try container.encode(environmentType, forKey: .environmentType)
    }
}

extension ProvisioningItemResponse {
    enum CodingKeys: String, CodingKey { case kind, name, desired, current, action, reason, conflict }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        try container.encode(desired, forKey: .desired)
        try container.encode(current, forKey: .current)
        try container.encode(action, forKey: .action)
        try container.encode(reason, forKey: .reason)
        try container.encode(conflict, forKey: .conflict)
    }
}

extension ProvisioningResultResponse {
    enum CodingKeys: String, CodingKey { case kind, name, action, status, desired, error }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        try container.encode(action, forKey: .action)
        try container.encode(status, forKey: .status)
        try container.encode(desired, forKey: .desired)
        try container.encode(error, forKey: .error)
    }
}

extension RepositoryKeyPairResponse {
    enum CodingKeys: String, CodingKey { case repository, pipelineIds, status, error }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(repository, forKey: .repository)
        try container.encode(pipelineIds, forKey: .pipelineIds)
        try container.encode(status, forKey: .status)
        try container.encode(error, forKey: .error)
    }
}
