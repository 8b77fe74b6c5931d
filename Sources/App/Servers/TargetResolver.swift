import Fluent
import Foundation
import PipewrightCore
import SSHKeys

/// A deploy/test/undeploy target after validation: a server row, plus a one-time password if given.
struct ResolvedTarget: Sendable {
    var server: Server
    /// Used once for this request; never stored or logged.
    var password: Secret<String>?
    /// The address checked by `SSHTargetGuard`; OpenSSH connects to it (host keys stay under the name).
    var connectAddress: String?
    /// Set by `SSHTargetGuard` when the host did not resolve: the target is reported failed, unconnected.
    var preflightFailure: SSHKeyError?
    /// The server row was created by this request (removed again if the request is refused).
    var isNew = false

    static func stored(_ server: Server) -> ResolvedTarget { ResolvedTarget(server: server, password: nil) }

    var sshTarget: SSHTarget {
        SSHTarget(
            host: server.host, port: server.port, username: server.username, connectAddress: connectAddress,
            allowsLegacyRSASHA1: server.allowsLegacyRSASHA1)
    }
}

/// Turns request targets into the team's servers: `{"server_id"}` must exist (else 404);
/// `{"host","port","username"}` is validated (400 `invalid_target`, nothing executed) and matched or created.
struct TargetResolver {
    let db: any Database
    let user: AuthenticatedUser
    /// Upper bound of targets in one request.
    static let maximumTargets = 100

    func resolve(_ requests: [TargetRequest], allowPasswords: Bool) async throws -> [ResolvedTarget] {
        guard !requests.isEmpty else { throw AppError.invalidField("servers", reason: "must list at least one target") }
        guard requests.count <= Self.maximumTargets else {
            throw AppError.invalidField("servers", reason: "at most \(Self.maximumTargets) targets per request")
        }
        // Validate everything before touching the database or any server. Hosts first, in every entry:
        // an injected host is always `invalid_target`, whatever else the request holds (issue 12 item 11).
        var validated: [(index: Int, serverID: Int?, target: SSHTarget?, password: Secret<String>?)] = []
        for (index, request) in requests.enumerated() {
            if let host = request.host {
                _ = try SSHTarget(host: host, port: 22, username: "host-check").validated()
            }
            if let serverID = request.serverId {
                guard request.host == nil, request.username == nil else {
                    throw AppError.invalidField(
                        "servers[\(index)]", reason: "give server_id or host/username, not both")
                }
                validated.append((index, serverID, nil, nil))
            } else {
                guard let host = request.host, let username = request.username else {
                    throw AppError.invalidField("servers[\(index)]", reason: "needs server_id, or host and username")
                }
                let target = try SSHTarget(host: host, port: request.port ?? 22, username: username).validated()
                validated.append((index, nil, target, nil))
            }
        }
        for (position, request) in requests.enumerated() {
            guard let value = request.password else { continue }
            let index = validated[position].index
            guard allowPasswords else {
                throw AppError.invalidField("servers[\(index)].password", reason: "is not accepted here")
            }
            guard !value.isEmpty, value.utf8.count <= 1024 else {
                throw AppError.invalidField("servers[\(index)].password", reason: "must be 1-1024 bytes")
            }
            // The askpass helper hands the password over as one line: NUL, CR or LF would cut it short.
            guard !value.unicodeScalars.contains(where: { $0 == "\0" || $0 == "\n" || $0 == "\r" }) else {
                throw AppError.invalidField("servers[\(index)].password", reason: "must not contain NUL, CR or LF")
            }
            validated[position].password = Secret(value)
        }
        var resolved: [ResolvedTarget] = []
        var seen = Set<Int>()
        for entry in validated {
            let server: Server
            var created = false
            if let serverID = entry.serverID {
                guard let found = try await Server.find(serverID, on: db) else {
                    throw AppError.notFound("Server \(serverID)")
                }
                server = found
            } else if let target = entry.target {
                (server, created) = try await findOrCreateReportingNew(target)
            } else {
                continue
            }
            let id = try server.requireID()
            guard seen.insert(id).inserted else { continue }
            var target = ResolvedTarget(server: server, password: entry.password)
            target.isNew = created
            resolved.append(target)
        }
        return resolved
    }

    /// The team's server for `(host, port, username)`, created (with `user` as its creator) if new (safe
    /// under concurrent requests of one user).
    func findOrCreate(_ target: SSHTarget, name: String? = nil) async throws -> Server {
        try await findOrCreateReportingNew(target, name: name).server
    }

    /// `findOrCreate`, saying whether this call created the row.
    private func findOrCreateReportingNew(_ target: SSHTarget, name: String? = nil) async throws -> (
        server: Server, created: Bool
    ) {
        if let existing = try await find(target) { return (existing, false) }
        let server = Server(
            ownerID: user.id, name: name, host: target.host, port: target.port, username: target.username)
        do {
            try await server.create(on: db)
            return (server, true)
        } catch {
            // A concurrent request created the same server first: use theirs.
            guard (error as? any DatabaseError)?.isConstraintFailure == true, let existing = try await find(target)
            else {
                throw error
            }
            return (existing, false)
        }
    }

    /// `targets` checked against the SSH target allowlist. A refused request leaves nothing behind: the
    /// servers it created are removed again before the 403 `target_not_allowed` is thrown.
    func checked(_ targets: [ResolvedTarget], by targetGuard: SSHTargetGuard) async throws -> [ResolvedTarget] {
        do {
            return try await targetGuard.check(targets)
        } catch let error as TargetNotAllowedError {
            for target in targets where target.isNew {
                try? await target.server.delete(on: db)
            }
            throw error
        }
    }

    func find(_ target: SSHTarget) async throws -> Server? {
        try await Server.query(on: db).filter(\.$host == target.host)
            .filter(\.$port == target.port).filter(\.$username == target.username).first()
    }
}
