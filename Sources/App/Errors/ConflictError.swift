import Vapor

/// Every 409 a request can get because of the state of a resource (not a concurrent operation:
/// that is `AppError.operationInProgress`). Codes are stable; docs/API.md lists them.
enum ConflictError: APIErrorConvertible, Equatable {
    /// The owner already has a key with this public key.
    case duplicateKey(existingID: Int?, fingerprintSHA256: String)
    /// A user with this name exists.
    case duplicateUser(String)
    /// The user already has a server with this `user@host:port`.
    case duplicateServer(target: String, existingID: Int)
    /// A retired key cannot be deployed or rotated again.
    case keyRetired(alreadyRotated: Bool)
    /// The key is still recorded on servers.
    case keyInUse(servers: Int)
    /// Keys are recorded on the server that would be deleted.
    case serverInUse(deployments: Int)
    /// The server does not present a host key with the approved fingerprint.
    case hostKeyNotPresented(presented: [String])
    /// Pipelines use the connection that would be deleted.
    case connectionInUse(pipelines: Int)
    /// Stop: the execution already ended.
    case executionFinished
    /// Stop: the execution has no Bitbucket pipeline yet.
    case executionTriggering

    var status: HTTPResponseStatus { .conflict }

    var code: String {
        switch self {
        case .duplicateKey: "duplicate_key"
        case .duplicateUser: "duplicate_user"
        case .duplicateServer: "duplicate_server"
        case .keyRetired: "key_retired"
        case .keyInUse: "key_in_use"
        case .serverInUse: "server_in_use"
        case .hostKeyNotPresented: "host_key_not_presented"
        case .connectionInUse: "connection_in_use"
        case .executionFinished: "execution_finished"
        case .executionTriggering: "execution_triggering"
        }
    }

    var message: String {
        switch self {
        case .duplicateKey(let id?, _): "You already have this key (id \(id))."
        case .duplicateKey(nil, _): "You already have this key."
        case .duplicateUser(let name): "User '\(name)' already exists."
        case .duplicateServer(let target, let id): "You already have \(target) (id \(id))."
        case .keyRetired(let alreadyRotated):
            alreadyRotated ? "This key is already retired." : "A retired key cannot be deployed."
        case .keyInUse(let servers):
            "The key is still deployed on \(servers) server(s); pass remove_from_servers=true or force=true."
        case .serverInUse(let deployments):
            "\(deployments) key(s) are recorded on this server; undeploy them first or pass force=true."
        case .hostKeyNotPresented: "The server does not present a host key with that fingerprint."
        case .connectionInUse(let pipelines): "\(pipelines) pipeline(s) use this connection; delete them first."
        case .executionFinished: "The execution has already finished."
        case .executionTriggering: "The pipeline is still being triggered; try again shortly."
        }
    }

    var details: [String: String] {
        switch self {
        case .duplicateKey(let id, let fingerprint):
            var details = ["fingerprint_sha256": fingerprint]
            if let id { details["existing_id"] = String(id) }
            return details
        case .duplicateServer(_, let id): return ["existing_id": String(id)]
        case .keyInUse(let servers): return ["servers": String(servers)]
        case .serverInUse(let deployments): return ["deployments": String(deployments)]
        case .hostKeyNotPresented(let presented): return ["presented": presented.joined(separator: ",")]
        case .connectionInUse(let pipelines): return ["pipelines": String(pipelines)]
        case .duplicateUser, .keyRetired, .executionFinished, .executionTriggering: return [:]
        }
    }
}
