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
        return .page(KeyIndex.View(context: req.pageContext(.keys), model: model).render(), status: status)
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
            let entry = try await AuditLog.audited(req, .keyCreate, resource: AuditResource(type: "ssh_key")) { note in
                let key = try await req.keyCatalog.generate(
                    name: form.name, type: form.keyType ?? "ed25519", bits: nil,
                    comment: form.comment?.isEmpty == false ? form.comment : nil, passphrase: nil, exportable: true,
                    owner: try req.requireUser())
                SSHKeyController.noteCreated(key, into: note)
                return key
            }
            return .seeOther("/keys/\(try entry.requireID())?notice=created")
        } catch {
            let rendered = APIErrorMiddleware.render(error)
            guard rendered.status.code < 500 else { throw error }
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
            let key = try await AuditLog.audited(req, .keyImport, resource: AuditResource(type: "ssh_key")) { note in
                let key = try await req.keyCatalog.importKey(
                    name: form.name, privateKey: form.privateKey,
                    passphrase: form.passphrase?.isEmpty == false ? form.passphrase : nil, comment: nil,
                    exportable: true, owner: try req.requireUser())
                SSHKeyController.noteCreated(key, into: note)
                return key
            }
            return .seeOther("/keys/\(try key.requireID())?notice=imported")
        } catch {
            let rendered = APIErrorMiddleware.render(error)
            guard rendered.status.code < 500 else { throw error }
            return try await renderIndex(req, form: .init(), error: rendered.message, status: rendered.status)
        }
    }
}
