import Vapor

/// HTTP mapping of provisioning refusals (docs/API.md "Provisioning"): the pipeline refers to something
/// that is gone (422), or a generated RSA key did not reach every server (409).
extension ProvisioningError: APIErrorConvertible {
    var status: HTTPResponseStatus {
        switch self {
        case .keyUnavailable, .serverMissing: .unprocessableEntity
        case .rsaKeyNotDeployed: .conflict
        }
    }

    var code: String {
        switch self {
        case .keyUnavailable: "key_unavailable"
        case .serverMissing: "server_missing"
        case .rsaKeyNotDeployed: "rsa_key_not_deployed"
        }
    }

    var message: String {
        switch self {
        case .keyUnavailable(let id): "The pipeline's SSH key \(id) is gone; set another deploy.ssh_key_id."
        case .serverMissing(let id): "Server \(id) of the pipeline no longer exists; update deploy.server_ids."
        case .rsaKeyNotDeployed(let id, _):
            "The generated RSA key \(id) could not be deployed to every server of the pipeline; the pipeline keeps its key."
        }
    }

    var details: [String: String] {
        switch self {
        case .keyUnavailable(let id): ["ssh_key_id": String(id)]
        case .serverMissing(let id): ["server_id": String(id)]
        case .rsaKeyNotDeployed(let id, let targets):
            ["ssh_key_id": String(id), "targets": targets.joined(separator: ",")]
        }
    }
}
