import Fluent
import Foundation
import PipewrightCore
import Vapor

/// API tokens: `POST/GET /api/tokens`, `DELETE /api/tokens/{id}` (docs/API.md "Accounts and tokens").
struct TokenController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        let tokens = routes.grouped("tokens")
        tokens.post(use: create)
        tokens.get(use: index)
        tokens.delete(":tokenID", use: delete)
    }

    @Sendable func create(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .tokenCreate, resource: AuditResource(type: "token")) { note in
            try await createAudited(req: req, note: note)
        }
    }

    private func createAudited(req: Request, note: AuditNote) async throws -> Response {
        let user = try req.requireUser()
        let body = try req.content.decode(CreateTokenRequest.self)
        let name = try FieldRules.name(body.name, field: "name")
        if let days = body.expiresInDays, !(1...3650).contains(days) {
            throw AppError.invalidField("expires_in_days", reason: "must be between 1 and 3650")
        }
        let issued = try await TokenIssuer.issue(
            for: user.id, name: name, expiresInDays: body.expiresInDays, now: services.now(), on: req.db)
        note.resource?.id = issued.id
        note.details = ["name": name, "prefix": issued.prefix]
        let response = Response(status: .created)
        try response.content.encode(issued)
        return response
    }

    @Sendable func index(req: Request) async throws -> PageResponse<TokenResponse> {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        let query = APIToken.query(on: req.db).filter(\.$user.$id == user.id)
        let total = try await query.count()
        let tokens = try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage)).all()
        return PageResponse(items: try tokens.map(TokenResponse.init), request: page, total: total)
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let resource = AuditResource(type: "token", id: req.parameters.get("tokenID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .tokenRevoke, resource: resource) { _ in try await deleteAudited(req: req) }
    }

    private func deleteAudited(req: Request) async throws -> HTTPStatus {
        let user = try req.requireUser()
        let id = try FieldRules.pathID(req, "tokenID")
        guard let token = try await APIToken.find(id, on: req.db), user.owns(token.$user.id) else {
            throw AppError.notFound("Token")
        }
        try await token.delete(on: req.db)
        // Live streams opened with the token end now, not when they next make a request.
        await req.application.realtimeConnections.close(authenticatedBy: .token(id))
        return .noContent
    }
}

/// Creates API tokens (used by the endpoint and by `pipewright token create`).
enum TokenIssuer {
    static func issue(for userID: Int, name: String, expiresInDays: Int?, now: Date, on db: any Database) async throws
        -> CreatedTokenResponse
    {
        let secret = TokenHasher.randomToken(prefix: "pw_")
        let expiry = expiresInDays.map { now.addingTimeInterval(TimeInterval($0) * 86_400) }
        let token = APIToken(
            userID: userID, name: name, prefix: String(secret.prefix(10)), tokenHash: TokenHasher.hash(secret),
            expiresAt: expiry)
        try await token.create(on: db)
        return CreatedTokenResponse(
            id: try token.requireID(), name: name, prefix: token.prefix, token: secret, createdAt: token.createdAt,
            expiresAt: expiry)
    }
}
