import Foundation

/// Everything a signed-in user may be allowed to do, and the one table that decides it by role
/// (docs/API.md "Roles"). Services call `AuthenticatedUser.require(_:)` after they have found the resource,
/// so an unknown id stays a 404 and a visible one the role may not change is a 403 `forbidden`.
///
/// Reading is not listed: every signed-in user sees the team's keys (public parts), servers, connections
/// (never their tokens), pipelines, executions and logs.
enum Permission: String, CaseIterable, Sendable {
    /// Change their own password, create and revoke their own API tokens.
    case manageOwnAccount = "own_account.manage"
    /// Generate, import, rename and delete SSH keys.
    case changeKeys = "ssh_keys.change"
    /// Deploy, test, undeploy and rotate SSH keys on servers.
    case operateKeys = "ssh_keys.operate"
    /// Read a private key (`GET /api/ssh-keys/{id}/private`).
    case exportPrivateKeys = "ssh_keys.export"
    /// Create, edit and delete servers.
    case changeServers = "servers.change"
    /// Replace a server's pinned host key.
    case acceptHostKeys = "servers.accept_host_key"
    /// Create, edit (token included), verify and delete Bitbucket connections.
    case changeConnections = "connections.change"
    /// Create, edit and delete pipelines, rotate their webhook secret, detect their stack.
    case changePipelines = "pipelines.change"
    /// Write to a pipeline's Bitbucket repository: open (or update) its pull request, provision it
    /// (repository variables, SSH key pair, known hosts, deployment environment).
    case writeRepositories = "pipelines.write_repository"
    /// Trigger, re-run and stop executions.
    case triggerExecutions = "executions.trigger"
    /// Append step logs by hand (`POST /api/executions/{id}/logs`).
    case ingestLogs = "logs.ingest"
    /// List, create, edit, disable, delete users and reset their passwords.
    case manageUsers = "users.manage"
    /// Re-seal every secret under a new master key.
    case rotateMasterKey = "master_key.rotate"
    /// Read every audit entry (others read the entries where they are the actor).
    case readAllAuditEntries = "audit.read_all"

    /// The least role that has the permission; a role has every permission of the roles below it.
    var minimumRole: User.Role {
        switch self {
        case .manageOwnAccount:
            .viewer
        case .changeKeys, .operateKeys, .changeServers, .changeConnections, .changePipelines, .writeRepositories,
            .triggerExecutions:
            .maintainer
        case .exportPrivateKeys, .acceptHostKeys, .ingestLogs, .manageUsers, .rotateMasterKey, .readAllAuditEntries:
            .admin
        }
    }

    /// What the permission allows, as the 403 message says it ("Deploying SSH keys needs …").
    var activity: String {
        switch self {
        case .manageOwnAccount: "Managing your own account"
        case .changeKeys: "Changing SSH keys"
        case .operateKeys: "Deploying, testing, undeploying or rotating SSH keys"
        case .exportPrivateKeys: "Exporting private keys"
        case .changeServers: "Changing servers"
        case .acceptHostKeys: "Accepting host keys"
        case .changeConnections: "Changing Bitbucket connections"
        case .changePipelines: "Changing pipelines"
        case .writeRepositories: "Opening pull requests or provisioning repositories"
        case .triggerExecutions: "Triggering, re-running or stopping executions"
        case .ingestLogs: "Ingesting logs"
        case .manageUsers: "Managing users"
        case .rotateMasterKey: "Rotating the master key"
        case .readAllAuditEntries: "Reading every audit entry"
        }
    }
}

extension User.Role {
    /// Whether the role has `permission` (the table in `Permission.minimumRole`).
    func allows(_ permission: Permission) -> Bool { self >= permission.minimumRole }
}

extension AuthenticatedUser {
    /// Whether this user's role has `permission`.
    func may(_ permission: Permission) -> Bool { role.allows(permission) }

    /// - Throws: `AppError.forbidden` (403 `forbidden`) when the role lacks `permission`.
    func require(_ permission: Permission) throws {
        guard may(permission) else {
            throw AppError.forbidden(
                "\(permission.activity) needs the \(permission.minimumRole.rawValue) role; "
                    + "your role is \(role.rawValue).")
        }
    }
}
