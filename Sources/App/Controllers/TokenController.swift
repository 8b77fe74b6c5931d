import Fluent
import Foundation
import PipewrightCore
import Vapor

/// API tokens: `POST/GET /api/tokens`, `DELETE /api/tokens/{id}` (docs/API.md "Accounts and tokens"); the
/// use cases are in `TokenService`.
struct TokenController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let tokens = routes.grouped("tokens")
        tokens.post(use: create)
        tokens.get(use: index)
        tokens.delete(":tokenID", use: delete)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let body = try req.content.decode(CreateTokenRequest.self)
        let issued = try await Self.create(req, name: body.name, expiresInDays: body.expiresInDays)
        return try Response.json(try CreatedTokenResponse(issued), status: .created)
    }

    /// Audited creation of the signed-in user's token (`TokenService.create`); API and dashboard.
    static func create(_ req: Request, name: String, expiresInDays: Int?) async throws -> IssuedToken {
        try await AuditLog.audited(req, .tokenCreate, resource: AuditResource(type: "token")) { note in
            let issued = try await req.tokenService.create(
                name: name, expiresInDays: expiresInDays, for: try req.requireUser())
            note.resource?.id = issued.record.id
            note.details = ["name": issued.record.name, "prefix": issued.record.prefix]
            return issued
        }
    }

    /// Audited revocation of the signed-in user's token `:tokenID` (`TokenService.revoke`); API and dashboard.
    static func revoke(_ req: Request) async throws {
        let resource = AuditResource(type: "token", id: req.parameters.get("tokenID").flatMap { Int($0) })
        try await AuditLog.audited(req, .tokenRevoke, resource: resource) { _ in
            try await req.tokenService.revoke(tokenID: try FieldRules.pathID(req, "tokenID"), by: try req.requireUser())
        }
    }

    @Sendable func index(req: Request) async throws -> PageResponse<TokenResponse> {
        let page = try PageQuery.parse(req)
        let (tokens, total) = try await req.tokenService.list(page: page, for: try req.requireUser())
        return PageResponse(items: try tokens.map(TokenResponse.init), request: page, total: total)
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        try await Self.revoke(req)
        return .noContent
    }
}
