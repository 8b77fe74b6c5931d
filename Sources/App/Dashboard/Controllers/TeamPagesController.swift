import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `/servers`, `/servers/{id}`, `/connections`, `/audit`, `/account`: decode → the API's use cases
/// (`ServerCatalog`, `ConnectionService`, `AuditQueries`, `TokenService`, and the audited operations of
/// `ServerController` and `TokenController`) → render.
struct TeamPagesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("servers", use: servers)
        routes.get("servers", ":serverID", use: server)
        routes.post("servers", ":serverID", "host-key", "accept", use: acceptHostKey)
        routes.get("connections", use: connections)
        routes.post("connections", use: createConnection)
        routes.post("connections", ":connectionID", "verify", use: verifyConnection)
        routes.get("audit", use: audit)
        routes.get("account", use: account)
        routes.post("account", "tokens", use: createToken)
        routes.post("account", "tokens", ":tokenID", "revoke", use: revokeToken)
        routes.get("account", "password", use: passwordForm)
        routes.post("account", "password", use: changePassword)
    }

    // MARK: - Servers

    @Sendable func servers(req: Request) async throws -> Response {
        let (entries, total) = try await req.serverCatalog.list(
            page: try PageQuery.parse(req), for: try req.requireUser())
        let rows = try entries.map { entry in
            let server = entry.server
            return ServerIndex.Model.Row(
                id: try server.requireID(), name: server.name ?? server.host,
                login: "\(server.username)@\(server.host):\(server.port)", hostKeys: entry.hostKeys.count,
                legacyRSASHA1: server.allowsLegacyRSASHA1)
        }
        return .page(
            ServerIndex.View(context: req.pageContext(.servers), model: .init(rows: rows, total: total)).render())
    }

    func serverModel(_ req: Request, presented: String?) async throws -> ServerShow.Model {
        let user = try req.requireUser()
        let entry = try await req.serverCatalog.show(serverID: try FieldRules.pathID(req, "serverID"), for: user)
        let server = entry.server
        let presented = presented.flatMap { value -> String? in
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("SHA256:") && trimmed.count <= 60
                && !entry.hostKeys.contains { $0.fingerprintSHA256 == trimmed }
                ? trimmed : nil
        }
        return ServerShow.Model(
            id: try server.requireID(), name: server.name ?? server.host,
            login: "\(server.username)@\(server.host):\(server.port)", legacyRSASHA1: server.allowsLegacyRSASHA1,
            active: entry.hostKeys.map(ServerShow.Model.Pin.init),
            history: entry.hostKeyHistory.filter { $0.endedAt != nil }.map(ServerShow.Model.Pin.init),
            presented: presented, canAccept: user.may(.acceptHostKeys))
    }

    @Sendable func server(req: Request) async throws -> Response {
        let model = try await serverModel(req, presented: req.query[String.self, at: "presented"])
        return .page(ServerShow.View(context: req.pageContext(.servers), model: model).render())
    }

    struct AcceptForm: Decodable {
        var fingerprintSHA256: String
        enum CodingKeys: String, CodingKey { case fingerprintSHA256 = "fingerprint_sha256" }
    }

    @Sendable func acceptHostKey(req: Request) async throws -> Response {
        let form = try req.form(AcceptForm.self)
        do {
            _ = try await ServerController.acceptHostKey(req, fingerprintSHA256: form.fingerprintSHA256)
            return .seeOther("/servers/\(try FieldRules.pathID(req, "serverID"))")
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            var model = try await serverModel(req, presented: form.fingerprintSHA256)
            model.error = rendered.message
            return .page(
                ServerShow.View(context: req.pageContext(.servers), model: model).render(), status: rendered.status)
        }
    }

    // MARK: - Connections

    func connectionsPage(
        _ req: Request, verification: ConnectionIndex.Model.Verification? = nil, error: String? = nil,
        form: ConnectionIndex.Model.Form = .init(), status: HTTPStatus = .ok
    ) async throws -> Response {
        let (connections, _) = try await req.connectionService.list(
            page: try .init(page: 1, perPage: 100), for: try req.requireUser())
        let rows = try connections.map {
            ConnectionIndex.Model.Row(
                id: try $0.requireID(), name: $0.name, workspace: $0.workspace, authType: $0.authType.rawValue)
        }
        let model = ConnectionIndex.Model(rows: rows, verification: verification, error: error, form: form)
        return .page(
            ConnectionIndex.View(context: req.pageContext(.connections), model: model).render(), status: status)
    }

    @Sendable func connections(req: Request) async throws -> Response {
        try await connectionsPage(req)
    }

    struct ConnectionForm: Decodable {
        var name: String
        var workspace: String
        var authType: String
        var email: String?
        var token: String
        enum CodingKeys: String, CodingKey {
            case name, workspace, email, token
            case authType = "auth_type"
        }
    }

    @Sendable func createConnection(req: Request) async throws -> Response {
        let form = try req.form(ConnectionForm.self)
        do {
            _ = try await ConnectionController.create(req) {
                CreateConnectionRequest(
                    name: form.name, workspace: form.workspace,
                    auth: .init(
                        type: form.authType, email: form.email?.isEmpty == false ? form.email : nil, token: form.token))
            }
            return .seeOther("/connections")
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            return try await connectionsPage(
                req, error: rendered.message,
                form: .init(
                    name: form.name, workspace: form.workspace, authType: form.authType, email: form.email ?? ""),
                status: rendered.status)
        }
    }

    @Sendable func verifyConnection(req: Request) async throws -> Response {
        let id = try FieldRules.pathID(req, "connectionID")
        let verification = try await ConnectionController.verify(req)
        let response = VerifyConnectionResponse(verification)
        let message =
            response.ok
            ? "verified as \(response.account?.displayName ?? response.account?.nickname ?? "the token's account")."
            : "not verified: \(response.error?.message ?? "Bitbucket refused the token.")"
        return try await connectionsPage(req, verification: .init(connectionID: id, ok: response.ok, message: message))
    }

    // MARK: - Audit

    @Sendable func audit(req: Request) async throws -> Response {
        // The form sends every field; an empty one means "no filter" here (the API refuses empty values).
        let items = URLComponents(string: "?" + (req.url.query ?? ""))?.queryItems ?? []
        let kept = items.filter { !($0.value ?? "").isEmpty }
        var components = URLComponents()
        components.queryItems = kept
        req.url.query = kept.isEmpty ? nil : components.percentEncodedQuery
        let filters = Dictionary(
            kept.filter { AuditIndex.filterNames.contains($0.name) }.map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { first, _ in first })
        let page = try PageQuery.parse(req)
        var model = AuditIndex.Model(rows: [], total: 0, page: page.page, perPage: page.perPage, filters: filters)
        var status = HTTPStatus.ok
        do {
            let filter = try AuditFilter.parse(req)
            let (entries, total) = try await AuditQueries(db: req.db).list(
                filter, page: page, for: try req.requireUser())
            model.rows = entries.map(AuditIndex.Model.Row.init)
            model.total = total
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            model.error = rendered.message
            status = rendered.status
        }
        return .page(AuditIndex.View(context: req.pageContext(.audit), model: model).render(), status: status)
    }

    // MARK: - Account

    func accountPage(
        _ req: Request, newToken: String? = nil, error: String? = nil, notice: String? = nil, status: HTTPStatus = .ok
    ) async throws -> Response {
        let user = try req.requireUser()
        let (tokens, _) = try await req.tokenService.list(page: try .init(page: 1, perPage: 100), for: user)
        let model = Account.Model(
            username: user.username, role: user.role.rawValue,
            tokens: try tokens.map {
                .init(
                    id: try $0.requireID(), name: $0.name, prefix: $0.prefix, createdAt: $0.createdAt,
                    lastUsedAt: $0.lastUsedAt, expiresAt: $0.expiresAt)
            }, newToken: newToken, error: error)
        return .page(
            Account.View(context: req.pageContext(.account, notice: notice), model: model).render(), status: status)
    }

    @Sendable func account(req: Request) async throws -> Response {
        try await accountPage(
            req, notice: req.query[String.self, at: "notice"] == "password" ? "Password changed." : nil)
    }

    struct TokenForm: Decodable {
        var name: String
        var expiresInDays: String?
        enum CodingKeys: String, CodingKey {
            case name
            case expiresInDays = "expires_in_days"
        }
    }

    @Sendable func createToken(req: Request) async throws -> Response {
        let form = try req.form(TokenForm.self)
        do {
            var days: Int?
            if let raw = form.expiresInDays, !raw.isEmpty {
                guard let value = Int(raw) else {
                    throw AppError.invalidField("expires_in_days", reason: "must be a whole number of days")
                }
                days = value
            }
            let issued = try await TokenController.create(req, name: form.name, expiresInDays: days)
            return try await accountPage(req, newToken: issued.token, status: .created)
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            return try await accountPage(req, error: rendered.message, status: rendered.status)
        }
    }

    @Sendable func passwordForm(req: Request) async throws -> Response {
        let model = Account.PasswordModel(forced: try req.requireUser().mustChangePassword)
        return .page(Account.PasswordView(context: req.pageContext(.account), model: model).render())
    }

    struct PasswordForm: Decodable {
        var currentPassword: String
        var newPassword: String
        var revokeTokens: String?
        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
            case revokeTokens = "revoke_tokens"
        }
    }

    @Sendable func changePassword(req: Request) async throws -> Response {
        let form = try req.form(PasswordForm.self)
        do {
            _ = try await AuthController.changePassword(
                req, current: form.currentPassword, new: form.newPassword, revokeTokens: form.revokeTokens == "true")
            return .seeOther("/account?notice=password")
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            let model = Account.PasswordModel(forced: try req.requireUser().mustChangePassword, error: rendered.message)
            let response = Response.page(
                Account.PasswordView(context: req.pageContext(.account), model: model).render(), status: rendered.status
            )
            response.headers.add(contentsOf: rendered.headers)
            return response
        }
    }

    @Sendable func revokeToken(req: Request) async throws -> Response {
        try await TokenController.revoke(req)
        return .seeOther("/account")
    }
}
