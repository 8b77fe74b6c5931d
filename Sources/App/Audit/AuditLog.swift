import Fluent
import Foundation
import PipewrightCore
import Vapor

/// The audited actions (docs/API.md "Audit log"). The raw value is the `action` of an entry and of `?action=`.
enum AuditAction: String, CaseIterable, Sendable {
    case login = "auth.login"
    case logout = "auth.logout"
    case keyCreate = "ssh_key.create"
    case keyImport = "ssh_key.import"
    case keyExport = "ssh_key.export"
    case keyDeploy = "ssh_key.deploy"
    case keyUndeploy = "ssh_key.undeploy"
    case keyTest = "ssh_key.test"
    case keyRotate = "ssh_key.rotate"
    case keyDelete = "ssh_key.delete"
    case keyUpdate = "ssh_key.update"
    case hostKeyAccept = "server.host_key_accept"
    case serverCreate = "server.create"
    case serverUpdate = "server.update"
    case serverDelete = "server.delete"
    case connectionCreate = "connection.create"
    case connectionUpdate = "connection.update"
    case connectionVerify = "connection.verify"
    case connectionDelete = "connection.delete"
    case pipelineCreate = "pipeline.create"
    case pipelineUpdate = "pipeline.update"
    case pipelineDelete = "pipeline.delete"
    case webhookSecretRotate = "pipeline.webhook_secret_rotate"
    case trigger = "execution.trigger"
    case rerun = "execution.rerun"
    case stop = "execution.stop"
    case pullRequestCreate = "pipeline.create_pr"
    case provision = "pipeline.provision"
    case provisioningItemReplace = "pipeline.provisioning_item_replace"
    case tokenCreate = "token.create"
    case tokenRevoke = "token.revoke"
    case userCreate = "user.create"
    case userUpdate = "user.update"
    case userDelete = "user.delete"
    case userPasswordReset = "user.password_reset"
    case passwordChange = "auth.password_change"
    case masterKeyRotate = "master_key.rotate"
    case databaseCopy = "database.copy"
}

/// What an entry is about: `{"type": "ssh_key", "id": 7}`.
struct AuditResource: Sendable, Equatable {
    /// `ssh_key`, `server`, `pipeline`, `execution`, `token`, `user`.
    var type: String
    var id: Int?
}

/// What a handler tells the audit log while it runs (created resource id, details, outcome).
///
/// Details are plain strings chosen by the handler: never put a password, token, private key or
/// passphrase in them (a test greps every entry for the secrets it used).
final class AuditNote: @unchecked Sendable {
    var resource: AuditResource?
    var details: [String: String]
    /// `nil`: success when the handler returns, failure/denied when it throws.
    var outcome: AuditEntry.Outcome?
    /// Overrides the request's user (login: the user who just signed in).
    var actor: (id: Int, username: String)?

    init(resource: AuditResource?, details: [String: String]) {
        self.resource = resource
        self.details = details
    }
}

/// Writes audit entries. Append-only by construction: this type only inserts, and no route updates or
/// deletes entries.
enum AuditLog {
    /// Runs `body` and records exactly one entry for it: `success` (or the outcome `body` set) when it
    /// returns; when it throws, `denied` for 403/429 refusals and `failure` otherwise, with the error
    /// code in `details.error`. A rate-limit rejection after the first one of a lockout is not recorded
    /// (a flood must not flood the log).
    static func audited<T>(
        _ req: Request, _ action: AuditAction, resource: AuditResource? = nil, details: [String: String] = [:],
        _ body: (AuditNote) async throws -> T
    ) async throws -> T {
        let note = AuditNote(resource: resource, details: details)
        do {
            let result = try await body(note)
            await record(req, action, note: note, outcome: note.outcome ?? .success)
            return result
        } catch {
            if let limited = error as? RateLimitedError, !limited.first { throw error }
            let rendered = APIErrorMiddleware.render(error)
            note.details["error"] = rendered.code
            if rendered.code == "target_not_allowed", let target = rendered.details["target"] {
                note.details["target"] = target
            }
            let denied = rendered.status == .forbidden || rendered.status == .tooManyRequests
            await record(req, action, note: note, outcome: denied ? .denied : .failure)
            throw error
        }
    }

    /// Inserts one entry. A failed insert is logged, never shown to the client (the action has happened).
    static func record(_ req: Request, _ action: AuditAction, note: AuditNote, outcome: AuditEntry.Outcome) async {
        let user = req.authenticatedUser
        let actorID = note.actor?.id ?? user?.id
        let actorName = note.actor?.username ?? user?.username
        let entry = AuditEntry(
            at: req.services.now(), actorID: actorID, actorUsername: actorName, action: action.rawValue,
            resourceType: note.resource?.type, resourceID: note.resource?.id, ip: req.clientIP, outcome: outcome,
            details: note.details)
        await insert(entry, on: req.db, logger: req.logger)
    }

    /// `audited` for a CLI command: the actor is `cli:<OS user>` (no user id), the address `cli`.
    ///
    /// - Parameter osUser: the operating-system account running `pipewright` (`ConsoleActor.current`).
    static func consoleAudited<T>(
        _ app: Application, _ action: AuditAction, osUser: String, resource: AuditResource? = nil,
        _ body: (AuditNote) async throws -> T
    ) async throws -> T {
        let note = AuditNote(resource: resource, details: [:])
        func write(_ outcome: AuditEntry.Outcome) async {
            let entry = AuditEntry(
                at: app.services.now(), actorID: nil, actorUsername: "cli:\(osUser)", action: action.rawValue,
                resourceType: note.resource?.type, resourceID: note.resource?.id, ip: "cli", outcome: outcome,
                details: note.details)
            await insert(entry, on: app.db, logger: app.logger)
        }
        do {
            let result = try await body(note)
            await write(note.outcome ?? .success)
            return result
        } catch {
            let rendered = APIErrorMiddleware.render(error)
            note.details["error"] = rendered.code
            await write(rendered.status == .forbidden ? .denied : .failure)
            throw error
        }
    }

    private static func insert(_ entry: AuditEntry, on db: any Database, logger: Logger) async {
        do {
            try await entry.create(on: db)
        } catch {
            logger.error(
                "audit entry not written", metadata: ["action": "\(entry.action)", "error_type": "\(type(of: error))"])
        }
    }
}
