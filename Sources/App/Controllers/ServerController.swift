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
        let servers = try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage)).with(\.$hostKeys).all()
        return PageResponse(items: try servers.map { try ServerResponse($0, hostKeys: $0.hostKeys) }, request: page, total: total)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let body = try req.content.decode(CreateServerRequest.self)
        let target = try SSHTarget(host: body.host, port: body.port ?? 22, username: body.username).validated()
        let name = try body.name.map { try Validation.name($0, field: "name") }
        let resolver = TargetResolver(db: req.db, user: user)
        let server = try await resolver.findOrCreate(target)
        if let name, server.name != name {
            server.name = name
            try await server.save(on: req.db)
        }
        let response = Response(status: .created)
        try response.content.encode(ServerResponse(server, hostKeys: try await server.$hostKeys.get(on: req.db)))
        return response
    }

    @Sendable func show(req: Request) async throws -> ServerResponse {
        let server = try await Self.findServer(req)
        return try ServerResponse(server, hostKeys: try await server.$hostKeys.get(on: req.db))
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let server = try await Self.findServer(req)
        try await server.delete(on: req.db)
        return .noContent
    }

    /// Replaces the pins with the server's current host key whose fingerprint the admin approved.
    @Sendable func acceptHostKey(req: Request) async throws -> ServerResponse {
        let admin = try req.requireAdmin()
        let server = try await Self.findServer(req)
        let body = try req.content.decode(AcceptHostKeyRequest.self)
        let fingerprint = body.fingerprintSha256.trimmingCharacters(in: .whitespaces)
        guard fingerprint.hasPrefix("SHA256:"), fingerprint.count == 50 else {
            throw AppError.invalidField("fingerprint_sha256", reason: "must be SHA256: followed by 43 base64 characters")
        }
        let target = SSHTarget(host: server.host, port: server.port, username: server.username)
        let presented = try await services.hostKeyScanner.scan(target)
        guard let key = presented.first(where: { $0.fingerprintSHA256 == fingerprint }) else {
            throw AppError.duplicate(
                code: "host_key_not_presented",
                message: "The server does not present a host key with that fingerprint.",
                details: ["presented": presented.map(\.fingerprintSHA256).joined(separator: ",")])
        }
        let serverID = try server.requireID()
        let now = services.now()
        try await req.db.transaction { tx in
            try await ServerHostKey.query(on: tx).filter(\.$server.$id == serverID).delete()
            try await ServerHostKey(
                serverID: serverID, algorithm: key.algorithm, keyBase64: key.blobBase64,
                fingerprintSHA256: key.fingerprintSHA256, firstSeenAt: now, approvedBy: admin.username
            ).create(on: tx)
        }
        req.logger.notice("host key accepted", metadata: ["server_id": "\(serverID)", "fingerprint": "\(fingerprint)"])
        return try ServerResponse(server, hostKeys: try await server.$hostKeys.get(reload: true, on: req.db))
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
