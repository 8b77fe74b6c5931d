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
    /// Pipelines deploy with the key (their `deploy.ssh_key_id`); nothing was changed.
    case keyUsedByPipelines(pipelines: Int)
    /// Pipelines deploy to the server (their `deploy.server_ids`); nothing was changed.
    case serverUsedByPipelines(pipelines: Int)
    /// Keys are recorded on the server that would be deleted.
    case serverInUse(deployments: Int)
    /// The server does not present a host key with the approved fingerprint.
    case hostKeyNotPresented(presented: [String])
    /// Pipelines use the connection that would be deleted.
    case connectionInUse(pipelines: Int)
    /// The change would leave no admin who is neither disabled nor deleted.
    case lastAdmin
    /// An admin tried to demote, disable, delete or reset their own account through the API.
    case ownAccount
    /// Deleting a pipeline with executions needs `?confirm=<pipeline name>`; nothing was deleted.
    case pipelineHasHistory(name: String, executions: Int, logs: Int)
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
        case .keyInUse, .keyUsedByPipelines: "key_in_use"
        case .serverUsedByPipelines: "server_in_use"
        case .serverInUse: "server_in_use"
        case .hostKeyNotPresented: "host_key_not_presented"
        case .connectionInUse: "connection_in_use"
        case .lastAdmin: "last_admin"
        case .ownAccount: "own_account"
        case .pipelineHasHistory: "confirmation_required"
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
        case .keyUsedByPipelines(let pipelines):
            "\(pipelines) pipeline(s) deploy with this key; give them another key first (nothing was changed)."
        case .serverUsedByPipelines(let pipelines):
            "\(pipelines) pipeline(s) deploy to this server; remove it from them first (nothing was changed)."
        case .serverInUse(let deployments):
            "\(deployments) key(s) are recorded on this server; undeploy them first or pass force=true."
        case .hostKeyNotPresented: "The server does not present a host key with that fingerprint."
        case .connectionInUse(let pipelines): "\(pipelines) pipeline(s) use this connection; delete them first."
        case .lastAdmin:
            "This would leave no active admin; make another user admin first (nothing was changed)."
        case .ownAccount:
            "You cannot demote, disable, delete or reset your own account; another admin (or the CLI) can."
        case .pipelineHasHistory(let name, let executions, _):
            "Deleting pipeline '\(name)' erases its \(executions) execution(s) and their logs; repeat with "
                + "?confirm=<the pipeline's name> to delete it (nothing was deleted)."
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
        case .keyUsedByPipelines(let pipelines), .serverUsedByPipelines(let pipelines):
            return ["pipelines": String(pipelines)]
        case .keyUsedByPipelines(let pipelines):
            "\(pipelines) pipeline(s) deploy with this key; give them another key first (nothing was changed)."
        case .serverUsedByPipelines(let pipelines):
            "\(pipelines) pipeline(s) deploy to this server; remove it from them first (nothing was changed)."
        case .serverInUse(let deployments): return ["deployments": String(deployments)]
        case .hostKeyNotPresented(let presented): return ["presented": presented.joined(separator: ",")]
        case .connectionInUse(let pipelines): return ["pipelines": String(pipelines)]
        case .pipelineHasHistory(let name, let executions, let logs):
            return ["name": name, "executions": String(executions), "stored_logs": String(logs)]
        case .duplicateUser, .keyRetired, .executionFinished, .executionTriggering, .lastAdmin, .ownAccount:
            return [:]
        }
    }
}
