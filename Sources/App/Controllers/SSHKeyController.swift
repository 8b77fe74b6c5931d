import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// `/api/ssh-keys`: generate, import, list, show, update, delete, export, deploy, test, undeploy, rotate
/// (SPEC §4).
struct SSHKeyController: RouteCollection {
    let services: AppServices

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

    var vault: KeyVault { KeyVault(masterKey: services.masterKey) }

    @Sendable func create(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .keyCreate, resource: AuditResource(type: "ssh_key")) { note in
            try await createAudited(req: req, note: note)
        }
    }

    private func createAudited(req: Request, note: AuditNote) async throws -> Response {
        let user = try req.requireUser()
        let body = try req.content.decode(CreateSSHKeyRequest.self)
        let name = try Validation.name(body.name, field: "name")
        guard let type = KeyType(rawValue: body.keyType.lowercased()), type != .ecdsa else {
            throw AppError.invalidField("key_type", reason: "must be ed25519 or rsa")
        }
        if type == .rsa, let size = body.keySize, ![2048, 4096].contains(size) {
            throw AppError.invalidField("key_size", reason: "must be 2048 or 4096 for rsa")
        }
        if type == .ed25519, let size = body.keySize, size != 256 {
            throw AppError.invalidField("key_size", reason: "ed25519 keys are 256 bits")
        }
        let comment = try Self.comment(body.comment, default: name)
        let passphrase = try Self.passphrase(body.passphrase)
        let key = try await Self.generateOffLoop(type: type, bits: type == .rsa ? (body.keySize ?? 4096) : nil)
        let record = try await vault.store(
            key, ownerID: user.id, name: name, comment: comment, passphrase: passphrase,
            exportable: body.exportable ?? true, on: req.db)
        req.logger.info("ssh key created", metadata: ["key_id": "\(record.id ?? 0)", "type": "\(type.rawValue)"])
        note.resource?.id = record.id
        note.details = ["key_type": type.rawValue, "fingerprint_sha256": record.fingerprintSHA256]
        return try Self.created(SSHKeyResponse(record, deployments: []))
    }

    @Sendable func importKey(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .keyImport, resource: AuditResource(type: "ssh_key")) { note in
            try await importAudited(req: req, note: note)
        }
    }

    private func importAudited(req: Request, note: AuditNote) async throws -> Response {
        let user = try req.requireUser()
        let body = try req.content.decode(ImportSSHKeyRequest.self)
        let name = try Validation.name(body.name, field: "name")
        guard !body.privateKey.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AppError.invalidField("private_key", reason: "must not be empty")
        }
        let passphrase = try Self.passphrase(body.passphrase)
        guard body.privateKey.components(separatedBy: "-----BEGIN ").count <= 2 else {
            throw SSHKeyError.invalidPrivateKey(reason: "the text holds more than one key; import them one at a time")
        }
        let imported = try PrivateKeyImporter.parse(body.privateKey, passphrase: passphrase)
        let comment = try Self.comment(body.comment ?? imported.comment, default: name)
        let record = try await vault.store(
            imported.key, ownerID: user.id, name: name, comment: comment,
            passphrase: imported.wasPassphraseProtected ? passphrase : nil,
            exportable: body.exportable ?? true, on: req.db)
        req.logger.info("ssh key imported", metadata: ["key_id": "\(record.id ?? 0)"])
        note.resource?.id = record.id
        note.details = ["key_type": record.keyType, "fingerprint_sha256": record.fingerprintSHA256]
        return try Self.created(SSHKeyResponse(record, deployments: []))
    }

    @Sendable func index(req: Request) async throws -> PageResponse<SSHKeyResponse> {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        let query = StoredKey.query(on: req.db)
        if !user.isAdmin { query.filter(\.$owner.$id == user.id) }
        if let status = req.query[String.self, at: "status"] {
            guard let parsed = StoredKey.Status(rawValue: status) else {
                throw AppError.invalidField("status", reason: "must be active or retired")
            }
            query.filter(\.$status == parsed)
        }
        if let q = req.query[String.self, at: "q"]?.trimmingCharacters(in: .whitespaces), !q.isEmpty {
            guard q.count <= 200 else { throw AppError.invalidField("q", reason: "must be at most 200 characters") }
            query.group(.or) { group in
                group.filter(\.$name ~~ q).filter(\.$comment ~~ q).filter(\.$fingerprintSHA256 ~~ q)
            }
        }
        let total = try await query.count()
        let records = try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage))
            .with(\.$deployments) { $0.with(\.$server) }.all()
        return PageResponse(
            items: try records.map { try SSHKeyResponse($0, deployments: $0.deployments) }, request: page, total: total)
    }

    @Sendable func show(req: Request) async throws -> SSHKeyResponse {
        let record = try await Self.findKey(req)
        return try SSHKeyResponse(record, deployments: try await Self.deployments(of: record, on: req.db))
    }

    @Sendable func update(req: Request) async throws -> SSHKeyResponse {
        let record = try await Self.findKey(req)
        let body = try req.content.decode(UpdateSSHKeyRequest.self)
        if let name = body.name { record.name = try Validation.name(name, field: "name") }
        if let comment = body.comment {
            let comment = try Self.comment(comment, default: record.name)
            if let publicKey = try? SSHPublicKey(openSSHLine: record.publicKey) {
                record.publicKey = publicKey.withComment(comment).authorizedKeysLine
            }
            record.comment = comment
        }
        try await record.save(on: req.db)
        return try SSHKeyResponse(record, deployments: try await Self.deployments(of: record, on: req.db))
    }

    @Sendable func delete(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .keyDelete, resource: Self.keyResource(req)) { note in
            let record = try await Self.findKey(req)
            let response = try await services.locks.withLock("ssh_key:\(try record.requireID())") {
                try await deleteLocked(req: req, record: record)
            }
            if response.status != .noContent { note.outcome = .failure }
            return response
        }
    }

    private func deleteLocked(req: Request, record: StoredKey) async throws -> Response {
        let user = try req.requireUser()
        let removeFromServers = try Validation.flag(req, "remove_from_servers")
        let force = try Validation.flag(req, "force")
        let present = try await Self.deployments(of: record, on: req.db).filter { $0.status == .present }
        if !present.isEmpty && !force {
            guard removeFromServers else { throw AppError.keyInUse(servers: present.count) }
            let targets = try await SSHTargetGuard(services: services).check(present.map { .stored($0.server) })
            let results = try await KeyOperations(services: services, db: req.db, logger: req.logger)
                .undeploy(record, targets: targets, force: true, actor: user)
            guard results.allSatisfy({ $0.status == "removed" || $0.status == "absent" }) else {
                let response = Response(status: .conflict)
                try response.content.encode(ServerResultsResponse(results: results, ok: false))
                return response
            }
        }
        let keyID = try record.requireID()
        try await record.delete(on: req.db)
        req.logger.info("ssh key deleted", metadata: ["key_id": "\(keyID)"])
        return Response(status: .noContent)
    }

    @Sendable func exportPrivateKey(req: Request) async throws -> Response {
        try await AuditLog.audited(req, .keyExport, resource: Self.keyResource(req)) { _ in
            try await req.enforceRateLimit(.export)
            return try await exportAudited(req: req)
        }
    }

    private func exportAudited(req: Request) async throws -> Response {
        let record = try await Self.findKey(req)
        guard services.configuration.allowsPrivateKeyExport, record.exportable else { throw AppError.exportDisabled }
        let pem = try vault.exportPEM(of: record)
        let response = Response(status: .ok)
        try response.content.encode(PrivateKeyResponse(privateKey: pem.value))
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: .pragma, value: "no-cache")
        req.logger.notice("private key exported", metadata: ["key_id": "\(record.id ?? 0)"])
        return response
    }

    @Sendable func deploy(req: Request) async throws -> ServerResultsResponse {
        try await AuditLog.audited(req, .keyDeploy, resource: Self.keyResource(req)) { note in
            try await req.enforceRateLimit(.deploy)
            let response = try await deployAudited(req: req)
            Self.summarize(response.results.map { ($0.target, $0.status) }, ok: response.ok, into: note)
            return response
        }
    }

    private func deployAudited(req: Request) async throws -> ServerResultsResponse {
        let user = try req.requireUser()
        let record = try await Self.findKey(req)
        let body = try req.content.decode(DeployKeyRequest.self)
        let resolver = TargetResolver(db: req.db, user: user)
        let resolved = try await resolver.resolve(body.servers, allowPasswords: true)
        let targets = try await resolver.checked(resolved, by: SSHTargetGuard(services: services))
        guard record.status == .active else {
            throw AppError.duplicate(code: "key_retired", message: "A retired key cannot be deployed.", details: [:])
        }
        let results = try await services.locks.withLock("ssh_key:\(try record.requireID())") {
            // Re-read under the lock: the key may have been deleted or retired meanwhile.
            guard let current = try await StoredKey.find(record.id, on: req.db), current.status == .active else {
                throw AppError.notFound("SSH key")
            }
            return try await KeyOperations(services: services, db: req.db, logger: req.logger)
                .deploy(current, targets: targets, parallel: body.parallel ?? true, actor: user)
        }
        return ServerResultsResponse(results: results, ok: results.allSatisfy { $0.error == nil })
    }

    @Sendable func test(req: Request) async throws -> TestResultsResponse {
        try await AuditLog.audited(req, .keyTest, resource: Self.keyResource(req)) { note in
            try await req.enforceRateLimit(.test)
            let response = try await testAudited(req: req)
            Self.summarize(response.results.map { ($0.target, $0.ok ? "ok" : "failed") }, ok: response.ok, into: note)
            return response
        }
    }

    private func testAudited(req: Request) async throws -> TestResultsResponse {
        let user = try req.requireUser()
        let record = try await Self.findKey(req)
        let body = (req.body.data?.readableBytes ?? 0) > 0 ? try req.content.decode(TestKeyRequest.self) : nil
        let targets: [ResolvedTarget]
        if let servers = body?.servers, !servers.isEmpty {
            targets = try await TargetResolver(db: req.db, user: user).resolve(servers, allowPasswords: false)
        } else {
            targets = try await Self.deployments(of: record, on: req.db).map { .stored($0.server) }
            guard !targets.isEmpty else {
                throw AppError.unprocessable("servers", reason: "the key is not recorded on any server; list servers to test")
            }
        }
        let checked = try await TargetResolver(db: req.db, user: user).checked(targets, by: SSHTargetGuard(services: services))
        let results = try await KeyOperations(services: services, db: req.db, logger: req.logger)
            .test(record, targets: checked)
        return TestResultsResponse(results: results, ok: results.allSatisfy(\.ok))
    }

    @Sendable func undeploy(req: Request) async throws -> ServerResultsResponse {
        try await AuditLog.audited(req, .keyUndeploy, resource: Self.keyResource(req)) { note in
            try await req.enforceRateLimit(.undeploy)
            let response = try await undeployAudited(req: req)
            Self.summarize(response.results.map { ($0.target, $0.status) }, ok: response.ok, into: note)
            return response
        }
    }

    private func undeployAudited(req: Request) async throws -> ServerResultsResponse {
        let user = try req.requireUser()
        let record = try await Self.findKey(req)
        let body = try req.content.decode(UndeployKeyRequest.self)
        let resolver = TargetResolver(db: req.db, user: user)
        let resolved = try await resolver.resolve(body.servers, allowPasswords: true)
        let targets = try await resolver.checked(resolved, by: SSHTargetGuard(services: services))
        let results = try await services.locks.withLock("ssh_key:\(try record.requireID())") {
            try await KeyOperations(services: services, db: req.db, logger: req.logger)
                .undeploy(record, targets: targets, force: body.force ?? false, actor: user)
        }
        return ServerResultsResponse(results: results, ok: results.allSatisfy { $0.error == nil })
    }

    @Sendable func rotate(req: Request) async throws -> RotateKeyResponse {
        try await AuditLog.audited(req, .keyRotate, resource: Self.keyResource(req)) { note in
            try await req.enforceRateLimit(.rotate)
            let response = try await rotateAudited(req: req)
            Self.summarize(response.results.map { ($0.target, $0.status) }, ok: response.ok, into: note)
            note.details["new_key_id"] = String(response.key.id)
            return response
        }
    }

    private func rotateAudited(req: Request) async throws -> RotateKeyResponse {
        let user = try req.requireUser()
        let record = try await Self.findKey(req)
        return try await services.locks.withLock("ssh_key:\(try record.requireID())") {
            guard let current = try await StoredKey.find(record.id, on: req.db) else { throw AppError.notFound("SSH key") }
            guard current.status == .active else {
                throw AppError.duplicate(code: "key_retired", message: "This key is already retired.", details: [:])
            }
            return try await KeyOperations(services: services, db: req.db, logger: req.logger).rotate(current, actor: user)
        }
    }

    // MARK: - Helpers

    /// `{"type": "ssh_key", "id": <:keyID>}` (id `nil` when the path id is not a number).
    static func keyResource(_ req: Request) -> AuditResource {
        AuditResource(type: "ssh_key", id: req.parameters.get("keyID").flatMap { Int($0) })
    }

    /// Records per-server outcomes (`user@host:port=status`, no secrets) and `failure` unless all succeeded.
    static func summarize(_ results: [(target: String, status: String)], ok: Bool, into note: AuditNote) {
        note.details["targets"] = results.map { "\($0.target)=\($0.status)" }.joined(separator: ",")
        note.details["ok"] = String(ok)
        if !ok { note.outcome = .failure }
    }

    /// The key named by `:keyID` if the user may see it, else 404.
    static func findKey(_ req: Request) async throws -> StoredKey {
        let user = try req.requireUser()
        let id = try Validation.pathID(req, "keyID")
        guard let record = try await StoredKey.find(id, on: req.db), user.owns(record.$owner.id) else {
            throw AppError.notFound("SSH key")
        }
        return record
    }

    static func deployments(of record: StoredKey, on db: any Database) async throws -> [KeyDeployment] {
        try await KeyDeployment.query(on: db).filter(\.$key.$id == record.requireID()).with(\.$server).sort(\.$id).all()
    }

    static func comment(_ value: String?, default defaultValue: String) throws -> String {
        let comment = (value ?? defaultValue).trimmingCharacters(in: .whitespacesAndNewlines)
        guard comment.count <= 200 else { throw AppError.invalidField("comment", reason: "must be at most 200 characters") }
        try Validation.noControlCharacters(comment, field: "comment")
        return comment
    }

    static func passphrase(_ value: String?) throws -> Secret<String>? {
        guard let value, !value.isEmpty else { return nil }
        guard value.utf8.count <= 1024 else { throw AppError.invalidField("passphrase", reason: "must be at most 1024 bytes") }
        return Secret(value)
    }

    static func created(_ body: SSHKeyResponse) throws -> Response {
        let response = Response(status: .created)
        try response.content.encode(body)
        return response
    }

    /// RSA-4096 generation takes seconds of CPU: run it off the event loop.
    static func generateOffLoop(type: KeyType, bits: Int?) async throws -> SSHPrivateKey {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try KeyGenerator.generate(type: type, bits: bits) })
            }
        }
    }
}
