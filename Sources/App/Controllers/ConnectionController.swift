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
        connections.delete(":connectionID", use: delete)
        connections.post(":connectionID", "verify", use: verify)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let body = try req.content.decode(CreateConnectionRequest.self)
        let connection = try await req.connectionService.create(
            name: body.name, workspace: body.workspace,
            credentials: .init(type: body.auth.type, email: body.auth.email, token: Secret(body.auth.token)),
            owner: try req.requireUser())
        return try Response.json(try ConnectionResponse(connection), status: .created)
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

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        try await req.connectionService.delete(
            connectionID: try FieldRules.pathID(req, "connectionID"), by: try req.requireUser())
        return .noContent
    }

    @Sendable func verify(req: Request) async throws -> VerifyConnectionResponse {
        let verification = try await req.connectionService.verify(
            connectionID: try FieldRules.pathID(req, "connectionID"), for: try req.requireUser())
        var response = VerifyConnectionResponse(verification)
        response.warnings = PublicURLCheck.warnings(for: req.services.configuration.publicURL)
        return response
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
