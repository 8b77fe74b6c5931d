import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `/api/servers` and host-key approval (docs/API.md "Servers and host keys"); the use cases are in
/// `ServerCatalog`.
struct ServerController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let servers = routes.grouped("servers")
        servers.get(use: index)
        servers.post(use: create)
        servers.get(":serverID", use: show)
        servers.patch(":serverID", use: update)
        servers.delete(":serverID", use: delete)
        servers.post(":serverID", "host-keys", "accept", use: acceptHostKey)
    }

    @Sendable func index(req: Request) async throws -> PageResponse<ServerResponse> {
        let page = try PageQuery.parse(req)
        let (entries, total) = try await req.serverCatalog.list(page: page, for: try req.requireUser())
        return PageResponse(items: try entries.map(ServerResponse.init), request: page, total: total)
    }

    @Sendable func create(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .serverCreate, resource: AuditResource(type: "server", id: nil)) { note in
            let body = try req.content.decode(CreateServerRequest.self)
            note.details["legacy_rsa_sha1"] = String(body.legacyRsaSha1 ?? false)
            let entry = try await req.serverCatalog.create(
                host: body.host, port: body.port, username: body.username, name: body.name, notes: body.notes,
                allowsLegacyRSASHA1: body.legacyRsaSha1 ?? false, owner: try req.requireUser())
            note.resource?.id = entry.server.id
            return try Response.json(try ServerResponse(entry), status: .created)
        }
    }

    @Sendable func update(req: Request) async throws -> ServerResponse {
        let resource = AuditResource(type: "server", id: req.parameters.get("serverID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .serverUpdate, resource: resource) { note in
            let serverID = try FieldRules.pathID(req, "serverID")
            let body = try req.content.decode(UpdateServerRequest.self)
            if let legacy = body.legacyRsaSha1 { note.details["legacy_rsa_sha1"] = String(legacy) }
            if body.name != nil { note.details["name"] = "changed" }
            if body.notes != nil { note.details["notes"] = "changed" }
            return try ServerResponse(
                try await req.serverCatalog.update(
                    serverID: serverID, name: body.name, notes: body.notes, allowsLegacyRSASHA1: body.legacyRsaSha1,
                    by: try req.requireUser()))
        }
    }

    @Sendable func show(req: Request) async throws -> ServerResponse {
        try ServerResponse(
            try await req.serverCatalog.show(
                serverID: try FieldRules.pathID(req, "serverID"), for: try req.requireUser()))
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let resource = AuditResource(type: "server", id: req.parameters.get("serverID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .serverDelete, resource: resource) { note in
            let serverID = try FieldRules.pathID(req, "serverID")
            let force = try FieldRules.flag(req, "force")  // validated even when not needed: `force=maybe` is a 400
            note.details["force"] = String(force)
            try await req.serverCatalog.delete(serverID: serverID, force: force, by: try req.requireUser())
            return .noContent
        }
    }

    @Sendable func acceptHostKey(req: Request) async throws -> ServerResponse {
        let body = try req.content.decode(AcceptHostKeyRequest.self)
        return try ServerResponse(try await Self.acceptHostKey(req, fingerprintSHA256: body.fingerprintSha256))
    }

    /// Audited host-key accept for `:serverID` by an admin (`ServerCatalog.acceptHostKey`); the JSON API and
    /// the dashboard's server page call it.
    static func acceptHostKey(_ req: Request, fingerprintSHA256: String) async throws -> ServerCatalog.Entry {
        let resource = AuditResource(type: "server", id: req.parameters.get("serverID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .hostKeyAccept, resource: resource) { note in
            let admin = try req.requireUser()
            let serverID = try FieldRules.pathID(req, "serverID")
            note.details["fingerprint_sha256"] = fingerprintSHA256.trimmingCharacters(in: .whitespaces)
            let acceptance = try await req.serverCatalog.acceptHostKey(
                serverID: serverID, fingerprintSHA256: fingerprintSHA256, by: admin)
            note.details["previous_fingerprints"] = acceptance.replaced.map(\.fingerprintSHA256).joined(separator: ",")
            return acceptance.entry
        }
    }
}

extension ServerResponse {
    init(_ entry: ServerCatalog.Entry) throws {
        try self.init(entry.server, hostKeys: entry.hostKeys, hostKeyHistory: entry.hostKeyHistory)
    }
}
