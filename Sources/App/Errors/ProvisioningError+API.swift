import Vapor

/// HTTP mapping of provisioning refusals (docs/API.md "Provisioning"): the pipeline refers to something
/// that is gone, so 422 with the domain's code.
extension ProvisioningError: APIErrorConvertible {
    var status: HTTPResponseStatus { .unprocessableEntity }

    var code: String {
        switch self {
        case .keyUnavailable: "key_unavailable"
        case .serverMissing: "server_missing"
        }
    }

    var message: String {
        switch self {
        case .keyUnavailable(let id): "The pipeline's SSH key \(id) is gone; set another deploy.ssh_key_id."
        case .serverMissing(let id): "Server \(id) of the pipeline no longer exists; update deploy.server_ids."
        }
    }

    var details: [String: String] {
        switch self {
        case .keyUnavailable(let id): ["ssh_key_id": String(id)]
        case .serverMissing(let id): ["server_id": String(id)]
        }
    }
}
