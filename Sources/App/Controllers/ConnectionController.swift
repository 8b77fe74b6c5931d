import Bitbucket
import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// `/api/connections`: Bitbucket workspaces and their credentials (SPEC §6).
struct ConnectionController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        let connections = routes.grouped("connections")
        connections.post(use: create)
        connections.get(use: index)
        connections.get(":connectionID", use: show)
        connections.delete(":connectionID", use: delete)
        connections.post(":connectionID", "verify", use: verify)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let body = try req.content.decode(CreateConnectionRequest.self)
        let name = try Validation.name(body.name, field: "name")
        let workspace = try Validation.slug(body.workspace, field: "workspace")
        guard let type = Connection.AuthType(rawValue: body.auth.type) else {
            throw AppError.invalidField("auth.type", reason: "must be api_token or access_token")
        }
        let token = body.auth.token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.utf8.count <= 4096 else {
            throw AppError.invalidField("auth.token", reason: "must be 1-4096 bytes")
        }
        try Validation.noControlCharacters(token, field: "auth.token")
        var email: String?
        if type == .apiToken {
            guard let given = body.auth.email?.trimmingCharacters(in: .whitespaces), given.contains("@"),
                given.count <= 254
            else {
                throw AppError.invalidField(
                    "auth.email", reason: "API tokens authenticate with your Atlassian account e-mail (Basic email:token)")
            }
            try Validation.noControlCharacters(given, field: "auth.email")
            email = given
        }
        let connection = Connection()
        connection.$owner.id = user.id
        connection.name = name
        connection.workspace = workspace
        connection.authType = type
        connection.email = email
        let masterKey = services.masterKey
        try await req.db.transaction { tx in
            try await connection.create(on: tx)
            connection.sealedToken = try SealedSecret.seal(
                Array(token.utf8), with: masterKey, associatedData: Connection.associatedData(id: try connection.requireID())
            ).base64
            try await connection.save(on: tx)
        }
        let response = Response(status: .created)
        try response.content.encode(ConnectionResponse(connection))
        return response
    }

    @Sendable func index(req: Request) async throws -> PageResponse<ConnectionResponse> {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        let query = Connection.query(on: req.db)
        if !user.isAdmin { query.filter(\.$owner.$id == user.id) }
        let total = try await query.count()
        let items = try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage)).all()
        return PageResponse(items: try items.map(ConnectionResponse.init), request: page, total: total)
    }

    @Sendable func show(req: Request) async throws -> ConnectionResponse {
        try ConnectionResponse(try await Self.find(req))
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let connection = try await Self.find(req)
        let users = try await Pipeline.query(on: req.db).filter(\.$connection.$id == connection.requireID()).count()
        guard users == 0 else {
            throw AppError.duplicate(
                code: "connection_in_use", message: "\(users) pipeline(s) use this connection; delete them first.",
                details: ["pipelines": String(users)])
        }
        try await connection.delete(on: req.db)
        return .noContent
    }

    /// Calls `GET /user` with the stored credentials. Stores only the account name and the time.
    @Sendable func verify(req: Request) async throws -> VerifyConnectionResponse {
        let connection = try await Self.find(req)
        let client = try BitbucketGateway(services: services, logger: req.logger).client(for: connection)
        do {
            let account = try await client.currentUser()
            connection.accountName = account.displayName
            connection.lastVerifiedAt = services.now()
            try await connection.save(on: req.db)
            return VerifyConnectionResponse(
                ok: true,
                account: .init(uuid: account.uuid, displayName: account.displayName, nickname: account.nickname),
                error: nil)
        } catch {
            return VerifyConnectionResponse(ok: false, account: nil, error: OperationErrorResponse(error))
        }
    }

    static func find(_ req: Request) async throws -> Connection {
        let user = try req.requireUser()
        let id = try Validation.pathID(req, "connectionID")
        guard let connection = try await Connection.find(id, on: req.db), user.owns(connection.$owner.id) else {
            throw AppError.notFound("Connection")
        }
        return connection
    }
}
