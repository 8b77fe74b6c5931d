import Fluent
import Foundation
import Logging
import PipewrightCore
import SSHKeys
import Vapor

/// Deploy, test, undeploy and rotate one stored key across servers, keeping the ledger and host-key pins
/// up to date (SPEC §4–5). Targets run concurrently, at most `sshConcurrency` at once.
struct KeyOperations {
    let services: AppServices
    let db: any Database
    let logger: Logger

    private var vault: KeyVault { KeyVault(masterKey: services.masterKey) }
    private var editor: SSHKeyDeployer {
        SSHKeyDeployer(
            runner: services.ssh, connectTimeout: services.configuration.sshConnectTimeout,
            commandTimeout: services.configuration.sshCommandTimeout)
    }

    // MARK: - Deploy

    /// Adds the key to each target's `authorized_keys` (password if given, else a key already deployed there).
    func deploy(_ record: StoredKey, targets: [ResolvedTarget], parallel: Bool, actor: AuthenticatedUser) async throws
        -> [ServerResultResponse]
    {
        let publicKeyLine = record.publicKey
        let results: [ServerResultResponse] = await forEach(targets, parallel: parallel) { target in
            let started = ContinuousClock.now
            do {
                let credentials = try await credentials(for: target, preferring: record, actor: actor)
                let outcome = try await editor.deploy(
                    publicKeyLine: publicKeyLine, to: target.sshTarget, authentication: credentials.authentication,
                    pinnedHostKeys: try await pins(of: target.server), policy: services.configuration.hostKeyPolicy)
                try await pinIfFirstContact(target.server, accepted: outcome.acceptedHostKeys)
                try await recordDeployment(
                    key: record, server: target.server, method: credentials.method, actor: actor)
                return try result(
                    target, status: outcome.outcome == .alreadyPresent ? "already_present" : "deployed", since: started)
            } catch {
                return try result(target, error: error, since: started)
            }
        }
        PipewrightMetrics.sshOperations("deploy", results)
        return results
    }

    // MARK: - Test

    /// Logs in with the key on each target and runs `id -un`.
    func test(_ record: StoredKey, targets: [ResolvedTarget]) async throws -> [TestResultResponse] {
        let pem = try vault.privateKeyPEM(of: record)
        let keyID = try record.requireID()
        let results: [TestResultResponse] = await forEach(targets, parallel: true) { target in
            let serverSummary = try ServerSummaryResponse(target.server)
            do {
                let outcome = try await editor.test(
                    target: target.sshTarget, privateKey: pem,
                    pinnedHostKeys: try await pins(of: target.server), policy: services.configuration.hostKeyPolicy)
                try await pinIfFirstContact(target.server, accepted: outcome.acceptedHostKeys)
                try await updateDeployment(keyID: keyID, server: target.server) {
                    $0.status = .present
                    $0.lastVerifiedAt = services.now()
                }
                return TestResultResponse(
                    server: serverSummary, target: target.sshTarget.description, ok: true,
                    latencyMs: outcome.latency.milliseconds, remoteUser: outcome.remoteUser, error: nil)
            } catch {
                if let error = error as? SSHKeyError, error == .authFailed {
                    try await updateDeployment(keyID: keyID, server: target.server) { $0.status = .missing }
                }
                return TestResultResponse(
                    server: serverSummary, target: target.sshTarget.description, ok: false, latencyMs: nil,
                    remoteUser: nil, error: OperationErrorResponse(error))
            }
        }
        for result in results { PipewrightMetrics.sshOperation("test", outcome: result.error?.code ?? "ok") }
        if results.contains(where: \.ok) {
            record.lastUsedAt = services.now()
            try await record.save(on: db)
        }
        return results
    }

    // MARK: - Undeploy

    /// Removes exactly this key's line from each target. Refused per server with `would_lock_out` when no
    /// other working Pipewright key is recorded there, unless `force`.
    func undeploy(_ record: StoredKey, targets: [ResolvedTarget], force: Bool, actor: AuthenticatedUser) async throws
        -> [ServerResultResponse]
    {
        let keyID = try record.requireID()
        let blob = try SSHPublicKey(openSSHLine: record.publicKey).blobBase64
        let results: [ServerResultResponse] = await forEach(targets, parallel: true) { target in
            let started = ContinuousClock.now
            do {
                let serverID = try target.server.requireID()
                if !force, target.password == nil, try await otherWorkingKeys(on: serverID, excluding: keyID).isEmpty {
                    throw KeyOperationError.wouldLockOut
                }
                let authentication: SSHAuthentication
                if let password = target.password {
                    authentication = .password(password)
                } else if try await deployment(keyID: keyID, serverID: serverID)?.status == .present {
                    authentication = .privateKey(try vault.privateKeyPEM(of: record))
                } else {
                    authentication = try await credentials(for: target, preferring: record, actor: actor).authentication
                }
                let outcome = try await editor.remove(
                    publicKeyBlobBase64: blob, from: target.sshTarget, authentication: authentication,
                    pinnedHostKeys: try await pins(of: target.server), policy: services.configuration.hostKeyPolicy)
                try await pinIfFirstContact(target.server, accepted: outcome.acceptedHostKeys)
                try await KeyDeployment.query(on: db).filter(\.$key.$id == keyID).filter(\.$server.$id == serverID).delete()
                return try result(target, status: outcome.outcome == .removed ? "removed" : "absent", since: started)
            } catch {
                return try result(target, error: error, since: started)
            }
        }
        PipewrightMetrics.sshOperations("undeploy", results)
        return results
    }

    // MARK: - Rotate

    /// Generates a key of the same type, deploys it wherever the old one is recorded (logging in with the
    /// old key), verifies a login with the new key, then removes the old key. A server that fails keeps the
    /// old key. The old key is retired when every server succeeded.
    func rotate(_ record: StoredKey, actor: AuthenticatedUser) async throws -> RotateKeyResponse {
        let oldID = try record.requireID()
        // Every server the key will be rotated on must pass the target allowlist before anything happens.
        let targets = try await SSHTargetGuard(services: services).check(
            try await KeyDeployment.query(on: db).filter(\.$key.$id == oldID).filter(\.$status == .present)
                .with(\.$server).all().map { .stored($0.server) })
        let type = KeyType(rawValue: record.keyType) ?? .ed25519
        let newKey = try await SSHKeyController.generateOffLoop(
            type: type == .ecdsa ? .ed25519 : type, bits: type == .rsa ? record.keySize : nil)
        var passphrase: Secret<String>?
        if let sealed = record.sealedPassphrase {
            let opened = try SealedSecret(base64: sealed).open(
                with: services.masterKey, associatedData: StoredKey.associatedData(id: oldID, column: "passphrase"))
            passphrase = Secret(String(decoding: opened.value, as: UTF8.self))
        }
        let successor = try await vault.store(
            newKey, ownerID: record.$owner.id, name: record.name, comment: record.comment, passphrase: passphrase,
            exportable: record.exportable, on: db)
        let oldPEM = try vault.privateKeyPEM(of: record)
        let newPEM = try vault.privateKeyPEM(of: successor)
        let oldBlob = try SSHPublicKey(openSSHLine: record.publicKey).blobBase64
        let results: [ServerResultResponse] = await forEach(targets, parallel: true) { target in
            let started = ContinuousClock.now
            do {
                let serverID = try target.server.requireID()
                let pins = try await pins(of: target.server)
                let policy = services.configuration.hostKeyPolicy
                _ = try await editor.deploy(
                    publicKeyLine: successor.publicKey, to: target.sshTarget, authentication: .privateKey(oldPEM),
                    pinnedHostKeys: pins, policy: policy)
                try await recordDeployment(key: successor, server: target.server, method: .key, actor: actor)
                _ = try await editor.test(target: target.sshTarget, privateKey: newPEM, pinnedHostKeys: pins, policy: policy)
                _ = try await editor.remove(
                    publicKeyBlobBase64: oldBlob, from: target.sshTarget, authentication: .privateKey(newPEM),
                    pinnedHostKeys: pins, policy: policy)
                try await KeyDeployment.query(on: db).filter(\.$key.$id == oldID).filter(\.$server.$id == serverID).delete()
                return try result(target, status: "rotated", since: started)
            } catch {
                return try result(target, error: error, since: started)
            }
        }
        PipewrightMetrics.sshOperations("rotate", results)
        let ok = results.allSatisfy { $0.error == nil }
        if ok {
            record.status = .retired
            try await record.save(on: db)
        }
        logger.info("ssh key rotated", metadata: ["old_key_id": "\(oldID)", "new_key_id": "\(successor.id ?? 0)", "ok": "\(ok)"])
        let deployments = try await SSHKeyController.deployments(of: successor, on: db)
        return RotateKeyResponse(
            key: try SSHKeyResponse(successor, deployments: deployments), retiredKeyId: ok ? oldID : nil,
            results: results, ok: ok)
    }

    // MARK: - Helpers

    /// Runs `body` for every target, bounded by the configured concurrency, results in target order.
    private func forEach<R: Sendable>(
        _ targets: [ResolvedTarget], parallel: Bool, _ body: @escaping @Sendable (ResolvedTarget) async throws -> R
    ) async -> [R] where R: FailableResult {
        let limit = parallel ? services.configuration.sshConcurrency : 1
        return await withTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: targets.count)
            var next = 0
            func launch() {
                guard next < targets.count else { return }
                let index = next
                let target = targets[index]
                next += 1
                group.addTask {
                    if let failure = target.preflightFailure { return (index, R.failure(target, failure)) }
                    do { return (index, try await body(target)) } catch { return (index, R.failure(target, error)) }
                }
            }
            for _ in 0..<min(limit, targets.count) { launch() }
            while let (index, result) = await group.next() {
                results[index] = result
                launch()
            }
            return results.compactMap { $0 }
        }
    }

    private struct Credentials {
        var authentication: SSHAuthentication
        var method: KeyDeployment.Method
    }

    /// The one-time password if given; else a working key recorded on that server (this key first).
    private func credentials(for target: ResolvedTarget, preferring record: StoredKey, actor: AuthenticatedUser)
        async throws -> Credentials
    {
        if let password = target.password { return Credentials(authentication: .password(password), method: .password) }
        let serverID = try target.server.requireID()
        let candidates = try await KeyDeployment.query(on: db).filter(\.$server.$id == serverID)
            .filter(\.$status == .present).with(\.$key).all()
            .map(\.key).filter { $0.status == .active && actor.owns($0.$owner.id) }
        let preferred = candidates.first { $0.id == record.id } ?? candidates.first
        guard let key = preferred else { throw KeyOperationError.noCredentials }
        return Credentials(authentication: .privateKey(try vault.privateKeyPEM(of: key)), method: .key)
    }

    private func pins(of server: Server) async throws -> [HostKey] {
        try await PinnedHostKey.pins(host: server.host, port: server.port, on: db).compactMap {
            try? HostKey(algorithm: $0.algorithm, blobBase64: $0.keyBase64)
        }
    }

    /// Under `tofu`, the host keys accepted on first contact become the pins of `host:port`.
    private func pinIfFirstContact(_ server: Server, accepted: [HostKey]) async throws {
        guard !accepted.isEmpty else { return }
        let (host, port) = (server.host, server.port)
        let now = services.now()
        do {
            try await db.transaction { tx in
                guard try await PinnedHostKey.pins(host: host, port: port, on: tx).isEmpty else { return }
                for key in accepted {
                    try await PinnedHostKey(
                        host: host, port: port, algorithm: key.algorithm, keyBase64: key.blobBase64,
                        fingerprintSHA256: key.fingerprintSHA256, firstSeenAt: now, approvedBy: nil
                    ).create(on: tx)
                }
            }
        } catch {
            // A concurrent first contact pinned the same endpoint first; theirs stands (unique host/port/algorithm).
            guard (error as? any DatabaseError)?.isConstraintFailure == true else { throw error }
        }
    }

    private func deployment(keyID: Int, serverID: Int) async throws -> KeyDeployment? {
        try await KeyDeployment.query(on: db).filter(\.$key.$id == keyID).filter(\.$server.$id == serverID).first()
    }

    private func updateDeployment(keyID: Int, server: Server, _ change: (KeyDeployment) -> Void) async throws {
        guard let existing = try await deployment(keyID: keyID, serverID: try server.requireID()) else { return }
        change(existing)
        try await existing.save(on: db)
    }

    /// Upserts the ledger entry `key` × `server` as present.
    private func recordDeployment(key: StoredKey, server: Server, method: KeyDeployment.Method, actor: AuthenticatedUser)
        async throws
    {
        let keyID = try key.requireID()
        let serverID = try server.requireID()
        let now = services.now()
        let entry = try await deployment(keyID: keyID, serverID: serverID) ?? KeyDeployment()
        entry.$key.id = keyID
        entry.$server.id = serverID
        entry.deployedAt = now
        entry.deployedBy = actor.username
        entry.method = method
        entry.status = .present
        entry.lastVerifiedAt = now
        do {
            try await entry.save(on: db)
        } catch {
            // A concurrent request may have recorded the same pair first: then theirs stands. Anything else
            // (the key or server row vanished) is an error the caller must see.
            guard (error as? any DatabaseError)?.isConstraintFailure == true,
                try await deployment(keyID: keyID, serverID: serverID) != nil
            else { throw error }
        }
    }

    /// Active keys other than `keyID` recorded present on the server.
    private func otherWorkingKeys(on serverID: Int, excluding keyID: Int) async throws -> [KeyDeployment] {
        try await KeyDeployment.query(on: db).filter(\.$server.$id == serverID).filter(\.$status == .present)
            .filter(\.$key.$id != keyID).with(\.$key).all().filter { $0.key.status == .active }
    }

    private func result(_ target: ResolvedTarget, status: String, since start: ContinuousClock.Instant) throws
        -> ServerResultResponse
    {
        ServerResultResponse(
            server: try ServerSummaryResponse(target.server), target: target.sshTarget.description, status: status,
            error: nil, durationS: (ContinuousClock.now - start).seconds)
    }

    private func result(_ target: ResolvedTarget, error: any Error, since start: ContinuousClock.Instant) throws
        -> ServerResultResponse
    {
        if !(error is SSHKeyError || error is KeyOperationError) {
            logger.error("ssh operation failed", metadata: ["error_type": "\(type(of: error))", "target": "\(target.sshTarget)"])
        }
        return ServerResultResponse(
            server: try? ServerSummaryResponse(target.server), target: target.sshTarget.description, status: "failed",
            error: OperationErrorResponse(error), durationS: (ContinuousClock.now - start).seconds)
    }
}

/// A per-server result type that can represent an unexpected failure.
protocol FailableResult: Sendable {
    static func failure(_ target: ResolvedTarget, _ error: any Error) -> Self
}

extension ServerResultResponse: FailableResult {
    static func failure(_ target: ResolvedTarget, _ error: any Error) -> ServerResultResponse {
        ServerResultResponse(
            server: try? ServerSummaryResponse(target.server), target: target.sshTarget.description, status: "failed",
            error: OperationErrorResponse(error), durationS: 0)
    }
}

extension TestResultResponse: FailableResult {
    static func failure(_ target: ResolvedTarget, _ error: any Error) -> TestResultResponse {
        TestResultResponse(
            server: try? ServerSummaryResponse(target.server), target: target.sshTarget.description, ok: false,
            latencyMs: nil, remoteUser: nil, error: OperationErrorResponse(error))
    }
}

/// Per-server refusals decided by Pipewright before any SSH runs.
enum KeyOperationError: APIErrorConvertible, Equatable {
    /// Removing this key would leave no working Pipewright key on the server.
    case wouldLockOut
    /// No password was given and no usable Pipewright key is recorded on the server.
    case noCredentials

    var status: HTTPResponseStatus {
        switch self {
        case .wouldLockOut: .conflict
        case .noCredentials: .unprocessableEntity
        }
    }

    var code: String {
        switch self {
        case .wouldLockOut: "would_lock_out"
        case .noCredentials: "no_credentials"
        }
    }

    var message: String {
        switch self {
        case .wouldLockOut:
            "No other working Pipewright key is deployed on this server; removing this one could lock you out (use force)."
        case .noCredentials:
            "No password was given and no Pipewright key of yours is deployed on this server."
        }
    }

    var details: [String: String] { [:] }
}

extension Duration {
    /// Seconds as a floating-point number.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    /// Milliseconds as a floating-point number.
    var milliseconds: Double { seconds * 1000 }
}
