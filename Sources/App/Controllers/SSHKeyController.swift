import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `/api/ssh-keys`: generate, import, list, show, update, delete, export, deploy, test, undeploy, rotate
/// (docs/API.md "SSH keys"). Each handler decodes, calls one use case (`KeyCatalog`,
/// `KeyDeploymentService`) and encodes; audit entries and rate limits wrap the call.
struct SSHKeyController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let keys = routes.grouped("ssh-keys")
        keys.post(use: create)
        keys.post("import", use: importKey)
        keys.get(use: index)
        keys.get(":keyID", use: show)
        keys.put(":keyID", use: update)
        keys.patch(":keyID", use: update)
        keys.delete(":keyID", use: delete)
        keys.get(":keyID", "private", use: exportPrivateKey)
        keys.post(":keyID", "deploy", use: deploy)
        keys.post(":keyID", "test", use: test)
        keys.post(":keyID", "undeploy", use: undeploy)
        keys.post(":keyID", "rotate", use: rotate)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let record = try await Self.generate(req, { try req.content.decode(CreateSSHKeyRequest.self) })
        return try Response.json(SSHKeyResponse(record, deployments: []), status: .created)
    }

    /// Audited generation (`ssh_key.create`) through `KeyCatalog.generate`; the API and the dashboard.
    /// `decode` runs inside the audit, so a malformed body is a failed creation.
    static func generate(_ req: Request, _ decode: () throws -> CreateSSHKeyRequest) async throws -> StoredKey {
        try await AuditLog.audited(req, .keyCreate, resource: AuditResource(type: "ssh_key")) { note in
            let body = try decode()
            let record = try await req.keyCatalog.generate(
                name: body.name, type: body.keyType, bits: body.keySize, comment: body.comment,
                passphrase: body.passphrase, exportable: body.exportable ?? true, owner: try req.requireUser())
            Self.noteCreated(record, into: note)
            return record
        }
    }

    @Sendable func importKey(req: Request) async throws -> Response {
        let record = try await Self.importKey(req, { try req.content.decode(ImportSSHKeyRequest.self) })
        return try Response.json(SSHKeyResponse(record, deployments: []), status: .created)
    }

    /// Audited import (`ssh_key.import`) through `KeyCatalog.importKey`; the API and the dashboard.
    static func importKey(_ req: Request, _ decode: () throws -> ImportSSHKeyRequest) async throws -> StoredKey {
        try await AuditLog.audited(req, .keyImport, resource: AuditResource(type: "ssh_key")) { note in
            let body = try decode()
            let record = try await req.keyCatalog.importKey(
                name: body.name, privateKey: body.privateKey, passphrase: body.passphrase, comment: body.comment,
                exportable: body.exportable ?? true, owner: try req.requireUser())
            Self.noteCreated(record, into: note)
            return record
        }
    }

    @Sendable func index(req: Request) async throws -> PageResponse<SSHKeyResponse> {
        let page = try PageQuery.parse(req)
        let filter = try req.decodeQuery(KeyListParameters.self).filter()
        let (entries, total) = try await req.keyCatalog.list(filter, page: page, for: try req.requireUser())
        return PageResponse(items: try entries.map(SSHKeyResponse.init), request: page, total: total)
    }

    @Sendable func show(req: Request) async throws -> SSHKeyResponse {
        try SSHKeyResponse(
            try await req.keyCatalog.show(keyID: try FieldRules.pathID(req, "keyID"), for: try req.requireUser()))
    }

    @Sendable func update(req: Request) async throws -> SSHKeyResponse {
        try await AuditLog.audited(req, .keyUpdate, resource: Self.keyResource(req)) { note in
            let keyID = try FieldRules.pathID(req, "keyID")
            let body = try req.content.decode(UpdateSSHKeyRequest.self)
            if body.name != nil { note.details["name"] = "changed" }
            if body.comment != nil { note.details["comment"] = "changed" }
            return try SSHKeyResponse(
                try await req.keyCatalog.update(
                    keyID: keyID, name: body.name, comment: body.comment, by: try req.requireUser()))
        }
    }

    @Sendable func delete(req: Request) async throws -> Response {
        let removeFromServers = try FieldRules.flag(req, "remove_from_servers")
        let force = try FieldRules.flag(req, "force")
        switch try await Self.delete(req, removeFromServers: removeFromServers, force: force) {
        case .deleted:
            return Response(status: .noContent)
        case .undeployFailed(let results):
            return try Response.json(ServerResultsResponse(results), status: .conflict)
        }
    }

    @Sendable func exportPrivateKey(req: Request) async throws -> Response {
        let pem = try await Self.export(req)
        let response = try Response.json(PrivateKeyResponse(privateKey: pem.value), status: .ok)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: .pragma, value: "no-cache")
        return response
    }

    /// Audited delete of `:keyID` (`KeyCatalog.delete`); an undeploy that failed somewhere is a `failure`.
    static func delete(_ req: Request, removeFromServers: Bool, force: Bool) async throws -> KeyDeletion {
        try await AuditLog.audited(req, .keyDelete, resource: keyResource(req)) { note in
            let outcome = try await req.keyCatalog.delete(
                keyID: try FieldRules.pathID(req, "keyID"), removeFromServers: removeFromServers, force: force,
                by: try req.requireUser())
            if case .undeployFailed = outcome { note.outcome = .failure }
            return outcome
        }
    }

    /// Audited, rate-limited private-key export of `:keyID` (`KeyCatalog.export`).
    ///
    /// - Important: the result is plaintext key material; it goes into the response body only.
    static func export(_ req: Request) async throws -> Secret<String> {
        try await AuditLog.audited(req, .keyExport, resource: keyResource(req)) { _ in
            try await req.enforceRateLimit(.export)
            return try await req.keyCatalog.export(
                keyID: try FieldRules.pathID(req, "keyID"), for: try req.requireUser())
        }
    }

    @Sendable func deploy(req: Request) async throws -> ServerResultsResponse {
        let body = try req.content.decode(DeployKeyRequest.self)
        return ServerResultsResponse(
            try await Self.deploy(
                req, to: body.servers, parallel: body.parallel ?? true, fixPermissions: body.fixPermissions ?? false))
    }

    @Sendable func test(req: Request) async throws -> TestResultsResponse {
        let body = (req.body.data?.readableBytes ?? 0) > 0 ? try req.content.decode(TestKeyRequest.self) : nil
        let results = try await Self.test(req, on: body?.servers)
        return TestResultsResponse(results: results.map(TestResultResponse.init), ok: results.allSatisfy(\.succeeded))
    }

    @Sendable func undeploy(req: Request) async throws -> ServerResultsResponse {
        let body = try req.content.decode(UndeployKeyRequest.self)
        return ServerResultsResponse(try await Self.undeploy(req, from: body.servers, force: body.force ?? false))
    }

    @Sendable func rotate(req: Request) async throws -> RotateKeyResponse {
        try RotateKeyResponse(try await Self.rotate(req))
    }

    // MARK: - Audited operations (the JSON API and the dashboard's key page call these)

    /// Audited, rate-limited deploy of `:keyID` (`KeyDeploymentService.deploy`).
    static func deploy(_ req: Request, to targets: [TargetRequest], parallel: Bool, fixPermissions: Bool)
        async throws -> [ServerOperationResult]
    {
        try await serverOperation(req, .keyDeploy, rateLimit: .deploy) { keyID, user, note in
            if fixPermissions { note.details["fix_permissions"] = "true" }
            return try await req.keyDeployments.deploy(
                keyID: keyID, to: targets, parallel: parallel, fixPermissions: fixPermissions, actor: user)
        }
    }

    /// Audited, rate-limited undeploy of `:keyID` (`KeyDeploymentService.undeploy`).
    static func undeploy(_ req: Request, from targets: [TargetRequest], force: Bool) async throws
        -> [ServerOperationResult]
    {
        try await serverOperation(req, .keyUndeploy, rateLimit: .undeploy) { keyID, user, _ in
            try await req.keyDeployments.undeploy(keyID: keyID, from: targets, force: force, actor: user)
        }
    }

    /// Audited, rate-limited login test of `:keyID` on `targets` (default: every server it is recorded on).
    static func test(_ req: Request, on targets: [TargetRequest]?) async throws -> [ServerTestResult] {
        try await AuditLog.audited(req, .keyTest, resource: keyResource(req)) { note in
            try await req.enforceRateLimit(.test)
            let results = try await req.keyDeployments.test(
                keyID: try FieldRules.pathID(req, "keyID"), on: targets, actor: try req.requireUser())
            summarize(
                results.map { result in
                    let code = result.error.map { OperationErrorResponse($0).code }
                    return (result.target, result.succeeded ? "ok" : "failed", code)
                }, ok: results.allSatisfy(\.succeeded), into: note)
            return results
        }
    }

    /// Audited, rate-limited rotation of `:keyID` (`KeyDeploymentService.rotate`).
    static func rotate(_ req: Request) async throws -> KeyRotation {
        try await AuditLog.audited(req, .keyRotate, resource: keyResource(req)) { note in
            try await req.enforceRateLimit(.rotate)
            let rotation = try await req.keyDeployments.rotate(
                keyID: try FieldRules.pathID(req, "keyID"), actor: try req.requireUser())
            summarize(
                rotation.results.map { ($0.target, $0.status, $0.error.map { OperationErrorResponse($0).code }) },
                ok: rotation.succeeded, into: note)
            note.details["new_key_id"] = String(try rotation.successor.requireID())
            return rotation
        }
    }

    /// Audited, rate-limited deploy/undeploy of `:keyID`: per-server results, `failure` unless all succeeded.
    private static func serverOperation(
        _ req: Request, _ action: AuditAction, rateLimit: RateLimitSettings.Action,
        _ run: (Int, AuthenticatedUser, AuditNote) async throws -> [ServerOperationResult]
    ) async throws -> [ServerOperationResult] {
        try await AuditLog.audited(req, action, resource: keyResource(req)) { note in
            try await req.enforceRateLimit(rateLimit)
            let results = try await run(try FieldRules.pathID(req, "keyID"), try req.requireUser(), note)
            summarize(
                results.map { ($0.target, $0.status, $0.error.map { OperationErrorResponse($0).code }) },
                ok: results.allSatisfy(\.succeeded), into: note)
            return results
        }
    }

    // MARK: - Audit helpers

    /// `{"type": "ssh_key", "id": <:keyID>}` (id `nil` when the path id is not a number).
    static func keyResource(_ req: Request) -> AuditResource {
        AuditResource(type: "ssh_key", id: req.parameters.get("keyID").flatMap { Int($0) })
    }

    static func noteCreated(_ record: StoredKey, into note: AuditNote) {
        note.resource?.id = record.id
        note.details = ["key_type": record.keyType, "fingerprint_sha256": record.fingerprintSHA256]
    }

    /// Records per-server outcomes (`user@host:port=status`, no secrets) and `failure` unless all succeeded,
    /// with the distinct per-server error codes in `error` (`auth_failed,would_lock_out`).
    static func summarize(
        _ results: [(target: String, status: String, error: String?)], ok: Bool, into note: AuditNote
    ) {
        note.details["targets"] = results.map { "\($0.target)=\($0.status)" }.joined(separator: ",")
        note.details["ok"] = String(ok)
        if !ok {
            note.outcome = .failure
            var codes: [String] = []
            for code in results.compactMap(\.error) where !codes.contains(code) { codes.append(code) }
            if !codes.isEmpty { note.details["error"] = codes.joined(separator: ",") }
        }
    }
}

extension SSHKeyResponse {
    init(_ entry: KeyCatalog.Entry) throws {
        try self.init(entry.key, deployments: entry.deployments)
    }
}

extension Response {
    /// A JSON response with `status`.
    static func json<T: Content>(_ body: T, status: HTTPResponseStatus) throws -> Response {
        let response = Response(status: status)
        try response.content.encode(body)
        return response
    }
}
