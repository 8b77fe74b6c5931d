import Bitbucket
import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `/api/connections`: Bitbucket workspaces and their credentials (docs/API.md "Bitbucket connections");
/// the use cases are in `ConnectionService`.
struct ConnectionController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let connections = routes.grouped("connections")
        connections.post(use: create)
        connections.get(use: index)
        connections.get(":connectionID", use: show)
        connections.patch(":connectionID", use: update)
        connections.delete(":connectionID", use: delete)
        connections.post(":connectionID", "verify", use: verify)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let connection = try await Self.create(req, { try req.content.decode(CreateConnectionRequest.self) })
        return try Response.json(try ConnectionResponse(connection), status: .created)
    }

    /// Audited creation (`connection.create`) through `ConnectionService.create`; the API and the
    /// dashboard's form. `decode` runs inside the audit, so a malformed body is a failed creation.
    static func create(_ req: Request, _ decode: () throws -> CreateConnectionRequest) async throws -> Connection {
        try await AuditLog.audited(req, .connectionCreate, resource: AuditResource(type: "connection")) { note in
            let body = try decode()
            note.details["workspace"] = String(body.workspace.prefix(100))
            let connection = try await req.connectionService.create(
                name: body.name, workspace: body.workspace,
                credentials: .init(type: body.auth.type, email: body.auth.email, token: Secret(body.auth.token)),
                owner: try req.requireUser())
            note.resource?.id = connection.id
            return connection
        }
    }

    @Sendable func index(req: Request) async throws -> PageResponse<ConnectionResponse> {
        let page = try PageQuery.parse(req)
        let (items, total) = try await req.connectionService.list(page: page, for: try req.requireUser())
        return PageResponse(items: try items.map(ConnectionResponse.init), request: page, total: total)
    }

    @Sendable func show(req: Request) async throws -> ConnectionResponse {
        try ConnectionResponse(
            try await req.connectionService.show(
                connectionID: try FieldRules.pathID(req, "connectionID"), for: try req.requireUser()))
    }

    /// The audit entry says which fields changed and the re-verification's outcome, never the token.
    @Sendable func update(req: Request) async throws -> UpdatedConnectionResponse {
        let resource = AuditResource(type: "connection", id: req.parameters.get("connectionID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .connectionUpdate, resource: resource) { note in
            let connectionID = try FieldRules.pathID(req, "connectionID")
            let body = try req.content.decode(UpdateConnectionRequest.self)
            if body.name != nil { note.details["name"] = "changed" }
            if let auth = body.auth { note.details["auth"] = "replaced (\(auth.type.prefix(20)))" }
            let update = try await req.connectionService.update(
                connectionID: connectionID, name: body.name,
                credentials: body.auth.map { .init(type: $0.type, email: $0.email, token: Secret($0.token)) },
                by: try req.requireUser())
            if let verification = update.verification {
                if case .verified = verification {
                    note.details["verified"] = "true"
                } else {
                    note.details["verified"] = "false"
                }
            }
            return UpdatedConnectionResponse(
                connection: try ConnectionResponse(update.connection),
                verification: update.verification.map(VerifyConnectionResponse.init))
        }
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let resource = AuditResource(type: "connection", id: req.parameters.get("connectionID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .connectionDelete, resource: resource) { _ in
            try await req.connectionService.delete(
                connectionID: try FieldRules.pathID(req, "connectionID"), by: try req.requireUser())
            return .noContent
        }
    }

    @Sendable func verify(req: Request) async throws -> VerifyConnectionResponse {
        var response = VerifyConnectionResponse(try await Self.verify(req))
        response.warnings = PublicURLCheck.warnings(for: req.services.configuration.publicURL)
        return response
    }

    /// Audited verification (`connection.verify`, `verified` in its details) of connection `:connectionID`;
    /// the API and the dashboard.
    static func verify(_ req: Request) async throws -> ConnectionService.Verification {
        let resource = AuditResource(type: "connection", id: req.parameters.get("connectionID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .connectionVerify, resource: resource) { note in
            let verification = try await req.connectionService.verify(
                connectionID: try FieldRules.pathID(req, "connectionID"), for: try req.requireUser())
            if case .verified = verification {
                note.details["verified"] = "true"
            } else {
                note.details["verified"] = "false"
            }
            return verification
        }
    }
}

extension VerifyConnectionResponse {
    init(_ verification: ConnectionService.Verification) {
        switch verification {
        case .verified(let account):
            self.init(
                ok: true,
                account: .init(uuid: account.uuid, displayName: account.displayName, nickname: account.nickname),
                error: nil)
        case .failed(let error):
            self.init(ok: false, account: nil, error: OperationErrorResponse(error))
        }
    }
}
