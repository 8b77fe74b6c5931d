import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// `/api/servers` and host-key approval (SPEC §5).
struct ServerController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        let servers = routes.grouped("servers")
        servers.get(use: index)
        servers.post(use: create)
        servers.get(":serverID", use: show)
        servers.delete(":serverID", use: delete)
        servers.post(":serverID", "host-keys", "accept", use: acceptHostKey)
    }

    @Sendable func index(req: Request) async throws -> PageResponse<ServerResponse> {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        let query = Server.query(on: req.db)
        if !user.isAdmin { query.filter(\.$owner.$id == user.id) }
        let total = try await query.count()
        let servers = try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage)).all()
        var items: [ServerResponse] = []
        for server in servers { items.append(try await Self.response(server, on: req.db)) }
        return PageResponse(items: items, request: page, total: total)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let body = try req.content.decode(CreateServerRequest.self)
        let target = try SSHTarget(host: body.host, port: body.port ?? 22, username: body.username).validated()
        let name = try body.name.map { try Validation.name($0, field: "name") }
        let resolver = TargetResolver(db: req.db, user: user)
        if let existing = try await resolver.find(target) {
            throw AppError.duplicate(
                code: "duplicate_server", message: "You already have \(target) (id \(try existing.requireID())).",
                details: ["existing_id": String(try existing.requireID())])
        }
        let server = try await resolver.findOrCreate(target, name: name)
        let response = Response(status: .created)
        try response.content.encode(try await Self.response(server, on: req.db))
        return response
    }

    @Sendable func show(req: Request) async throws -> ServerResponse {
        try await Self.response(try await Self.findServer(req), on: req.db)
    }

    /// Refused with 409 `server_in_use` while keys are recorded there (the lines would stay on the host
    /// with no record), unless `?force=true`. Pinned host keys belong to `host:port` and are kept.
    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let server = try await Self.findServer(req)
        let force = try Validation.flag(req, "force")  // validated even when not needed: `force=maybe` is a 400
        let recorded = try await KeyDeployment.query(on: req.db).filter(\.$server.$id == server.requireID()).count()
        if recorded > 0, !force {
            throw AppError.duplicate(
                code: "server_in_use",
                message: "\(recorded) key(s) are recorded on this server; undeploy them first or pass force=true.",
                details: ["deployments": String(recorded)])
        }
        try await server.delete(on: req.db)
        req.logger.notice("server deleted", metadata: ["server_id": "\(server.id ?? 0)", "actor": "\(req.authenticatedUser?.username ?? "")"])
        return .noContent
    }

    /// Replaces the pins of the server's `host:port` with its current host key whose fingerprint the
    /// admin approved (read again with `ssh-keyscan`, so only a key the server really presents is pinned).
    @Sendable func acceptHostKey(req: Request) async throws -> ServerResponse {
        let resource = AuditResource(type: "server", id: req.parameters.get("serverID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .hostKeyAccept, resource: resource) { note in
            try await acceptHostKeyAudited(req: req, note: note)
        }
    }

    private func acceptHostKeyAudited(req: Request, note: AuditNote) async throws -> ServerResponse {
        let admin = try req.requireAdmin()
        let server = try await Self.findServer(req)
        let body = try req.content.decode(AcceptHostKeyRequest.self)
        let fingerprint = body.fingerprintSha256.trimmingCharacters(in: .whitespaces)
        guard fingerprint.hasPrefix("SHA256:"), fingerprint.count == 50 else {
            throw AppError.invalidField("fingerprint_sha256", reason: "must be SHA256: followed by 43 base64 characters")
        }
        note.details["fingerprint_sha256"] = fingerprint
        let target = try await SSHTargetGuard(services: services).check(
            SSHTarget(host: server.host, port: server.port, username: server.username))
        let presented = try await services.hostKeyScanner.scan(target)
        guard let key = presented.first(where: { $0.fingerprintSHA256 == fingerprint }) else {
            throw AppError.duplicate(
                code: "host_key_not_presented",
                message: "The server does not present a host key with that fingerprint.",
                details: ["presented": presented.map(\.fingerprintSHA256).joined(separator: ",")])
        }
        let (host, port) = (server.host, server.port)
        let now = services.now()
        try await req.db.transaction { tx in
            try await PinnedHostKey.query(on: tx).filter(\.$host == host).filter(\.$port == port).delete()
            try await PinnedHostKey(
                host: host, port: port, algorithm: key.algorithm, keyBase64: key.blobBase64,
                fingerprintSHA256: key.fingerprintSHA256, firstSeenAt: now, approvedBy: admin.username
            ).create(on: tx)
        }
        req.logger.notice(
            "host key accepted",
            metadata: ["server_id": "\(server.id ?? 0)", "fingerprint": "\(fingerprint)", "actor": "\(admin.username)"])
        return try await Self.response(server, on: req.db)
    }

    static func response(_ server: Server, on db: any Database) async throws -> ServerResponse {
        try ServerResponse(server, hostKeys: try await PinnedHostKey.pins(host: server.host, port: server.port, on: db))
    }

    static func findServer(_ req: Request) async throws -> Server {
        let user = try req.requireUser()
        let id = try Validation.pathID(req, "serverID")
        guard let server = try await Server.find(id, on: req.db), user.owns(server.$owner.id) else {
            throw AppError.notFound("Server")
        }
        return server
    }
}
