import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// `/keys` and `/keys/{id}`: decode the query or form → one `KeyCatalog` / `KeyDeploymentService` call →
/// render the page (the same use cases as `/api/ssh-keys`).
struct KeyPagesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("keys", use: index)
        routes.post("keys", "generate", use: generate)
        routes.post("keys", "import", use: importKey)
        routes.get("keys", ":keyID", use: show)
        routes.post("keys", ":keyID", "deploy", use: deploy)
        routes.post("keys", ":keyID", "test", use: test)
        routes.post("keys", ":keyID", "undeploy", use: undeploy)
        routes.post("keys", ":keyID", "rotate", use: rotate)
        routes.post("keys", ":keyID", "delete", use: delete)
        routes.get("keys", ":keyID", "export", use: exportConfirmation)
        routes.post("keys", ":keyID", "export", use: export)
    }

    // MARK: - One key

    static let notices = ["created": "Key created.", "imported": "Key imported."]

    @Sendable func show(req: Request) async throws -> Response {
        let notice = req.query[String.self, at: "notice"].flatMap { Self.notices[$0] }
        return .page(
            KeyShow.View(context: req.pageContext(.keys, notice: notice), model: try await model(req)).render())
    }

    /// The key page's model as stored now.
    func model(_ req: Request) async throws -> KeyShow.Model {
        let user = try req.requireUser()
        let entry = try await req.keyCatalog.show(keyID: try FieldRules.pathID(req, "keyID"), for: user)
        let servers = try await req.serverCatalog.list(page: .init(page: 1, perPage: 200), for: user).items
        return try KeyShow.Model(entry, servers: servers.map(\.server))
    }

    /// Runs `action` and renders the key page with its results, or with the error a client caused.
    func render(
        _ req: Request, keepingDeployForm form: KeyShow.Model.DeployForm = .init(),
        _ action: () async throws -> KeyShow.Model.Results
    ) async throws -> Response {
        do {
            let results = try await action()
            var model = try await model(req)
            model.results = results
            return .page(KeyShow.View(context: req.pageContext(.keys), model: model).render())
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            var model = try await model(req)
            model.error = rendered.message
            model.deployForm = form
            let response = Response.page(
                KeyShow.View(context: req.pageContext(.keys), model: model).render(), status: rendered.status)
            response.headers.add(contentsOf: rendered.headers)
            return response
        }
    }

    struct DeployForm: Decodable {
        var serverID: String?
        var host: String?
        var port: String?
        var username: String?
        var password: String?
        var fixPermissions: String?
        enum CodingKeys: String, CodingKey {
            case host, port, username, password
            case serverID = "server_id"
            case fixPermissions = "fix_permissions"
        }

        /// The one target of the form: a known server, or host/port/username; the password only when typed.
        func target() throws -> TargetRequest {
            let password = password?.isEmpty == false ? password : nil
            if let serverID, !serverID.isEmpty {
                guard let id = Int(serverID) else { throw AppError.invalidField("server_id", reason: "unknown server") }
                return TargetRequest(serverId: id, password: password)
            }
            var port: Int?
            if let text = self.port, !text.isEmpty {
                guard let value = Int(text) else {
                    throw AppError.invalidField("port", reason: "must be a number from 1 to 65535")
                }
                port = value
            }
            return TargetRequest(
                host: host?.trimmingCharacters(in: .whitespaces), port: port,
                username: username?.trimmingCharacters(in: .whitespaces), password: password)
        }

        var kept: KeyShow.Model.DeployForm {
            .init(serverID: serverID.flatMap { Int($0) }, host: host ?? "", port: port ?? "", username: username ?? "")
        }
    }

    @Sendable func deploy(req: Request) async throws -> Response {
        let form = try req.form(DeployForm.self)
        return try await render(req, keepingDeployForm: form.kept) {
            let results = try await SSHKeyController.deploy(
                req, to: [try form.target()], parallel: false, fixPermissions: form.fixPermissions == "true")
            return .init(action: "Deploy", rows: results.map(KeyShow.Model.ResultRow.init))
        }
    }

    @Sendable func test(req: Request) async throws -> Response {
        try await render(req) {
            let results = try await SSHKeyController.test(req, on: nil)
            return .init(action: "Test", rows: results.map(KeyShow.Model.ResultRow.init))
        }
    }

    struct ServerForm: Decodable {
        var serverID: Int
        enum CodingKeys: String, CodingKey { case serverID = "server_id" }
    }

    @Sendable func undeploy(req: Request) async throws -> Response {
        let form = try req.form(ServerForm.self)
        return try await render(req) {
            let results = try await SSHKeyController.undeploy(
                req, from: [TargetRequest(serverId: form.serverID)], force: false)
            return .init(action: "Undeploy", rows: results.map(KeyShow.Model.ResultRow.init))
        }
    }

    struct ConfirmForm: Decodable {
        var confirm: String?
    }

    @Sendable func rotate(req: Request) async throws -> Response {
        let form = try req.form(ConfirmForm.self)
        return try await render(req) {
            guard form.confirm == "rotate" else {
                throw AppError.invalidField("confirm", reason: "tick the box to confirm the rotation")
            }
            let rotation = try await SSHKeyController.rotate(req)
            return .init(
                action: "Rotate", rows: rotation.results.map(KeyShow.Model.ResultRow.init),
                successorID: try rotation.successor.requireID())
        }
    }

    @Sendable func delete(req: Request) async throws -> Response {
        let form = try req.form(ConfirmForm.self)
        var deleted = false
        let response = try await render(req) {
            guard form.confirm == "delete" else {
                throw AppError.invalidField("confirm", reason: "tick the box to confirm the deletion")
            }
            switch try await SSHKeyController.delete(req, removeFromServers: false, force: false) {
            case .deleted:
                deleted = true
                return .init(action: "Delete", rows: [])
            case .undeployFailed(let results):
                return .init(action: "Delete", rows: results.map(KeyShow.Model.ResultRow.init))
            }
        }
        return deleted ? .seeOther("/keys?notice=deleted") : response
    }

    /// The confirmation before an export, for roles that may export (others get the 403 the export would).
    @Sendable func exportConfirmation(req: Request) async throws -> Response {
        let model = try await model(req)
        try req.requireUser().require(.exportPrivateKeys)
        return .page(KeyShow.ExportView(context: req.pageContext(.keys), model: model).render())
    }

    /// The private key as a file download (`text/plain`, `Content-Disposition: attachment`), never a page.
    @Sendable func export(req: Request) async throws -> Response {
        let pem = try await SSHKeyController.export(req)
        var headers = HTTPHeaders()
        headers.contentType = .plainText
        headers.replaceOrAdd(
            name: .contentDisposition,
            value: "attachment; filename=\"pipewright-key-\(try FieldRules.pathID(req, "keyID")).pem\"")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: pem.value))
    }

    @Sendable func index(req: Request) async throws -> Response {
        try await renderIndex(req, form: .init(), error: nil, status: .ok)
    }

    func renderIndex(_ req: Request, form: KeyIndex.Model.FormState, error: String?, status: HTTPStatus) async throws
        -> Response
    {
        let query = String((req.query[String.self, at: "q"] ?? "").prefix(200))
        let page = try PageQuery.parse(req)
        let (entries, total) = try await req.keyCatalog.list(
            .init(status: nil, text: query), page: page, for: try req.requireUser())
        let model = KeyIndex.Model(
            rows: try entries.map(KeyIndex.Model.Row.init), total: total, query: query, form: form, error: error)
        let notice = req.query[String.self, at: "notice"] == "deleted" ? "Key deleted." : nil
        return .page(
            KeyIndex.View(context: req.pageContext(.keys, notice: notice), model: model).render(), status: status)
    }

    struct GenerateForm: Decodable {
        var name: String
        var keyType: String?
        var comment: String?
        enum CodingKeys: String, CodingKey {
            case name, comment
            case keyType = "key_type"
        }
    }

    @Sendable func generate(req: Request) async throws -> Response {
        let form = try req.form(GenerateForm.self)
        do {
            let entry = try await SSHKeyController.generate(req) {
                CreateSSHKeyRequest(
                    name: form.name, keyType: form.keyType ?? "ed25519", keySize: nil,
                    comment: form.comment?.isEmpty == false ? form.comment : nil, passphrase: nil, exportable: true)
            }
            return .seeOther("/keys/\(try entry.requireID())?notice=created")
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            let state = KeyIndex.Model.FormState(
                name: form.name, keyType: form.keyType ?? "ed25519", comment: form.comment ?? "")
            return try await renderIndex(req, form: state, error: rendered.message, status: rendered.status)
        }
    }

    struct ImportForm: Decodable {
        var name: String
        var privateKey: String
        var passphrase: String?
        enum CodingKeys: String, CodingKey {
            case name, passphrase
            case privateKey = "private_key"
        }
    }

    @Sendable func importKey(req: Request) async throws -> Response {
        let form = try req.form(ImportForm.self)
        do {
            let key = try await SSHKeyController.importKey(req) {
                ImportSSHKeyRequest(
                    name: form.name, privateKey: form.privateKey,
                    passphrase: form.passphrase?.isEmpty == false ? form.passphrase : nil, comment: nil,
                    exportable: true)
            }
            return .seeOther("/keys/\(try key.requireID())?notice=imported")
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            return try await renderIndex(req, form: .init(), error: rendered.message, status: rendered.status)
        }
    }
}
