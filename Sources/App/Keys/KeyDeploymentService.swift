import Fluent
import Foundation
import Logging
import PipewrightCore
import SSHKeys

/// Deploy, test, undeploy and rotate one stored key across servers, keeping the ledger and host-key pins
/// up to date (docs/API.md "SSH keys" and "Servers and host keys"). Targets run concurrently, at most
/// `concurrency` at once; a failure on one server never stops the others.
struct KeyDeploymentService: Sendable {
    let db: any Database
    let keys: KeyVault
    let editor: SSHKeyDeployer
    let hostKeyPolicy: HostKeyPolicy
    let concurrency: Int
    let targetGuard: SSHTargetGuard
    let locks: OperationLocks
    let now: @Sendable () -> Date
    let logger: Logger
    /// Writes a rotated key into the Bitbucket repositories of the pipelines that use it (`nil`: rotation
    /// touches servers only).
    var keyPairCarrier: ProvisioningService? = nil

    // MARK: - Use cases

    /// Adds key `keyID` to each target's `authorized_keys` (the target's one-time password if given, else
    /// a key of `actor` already deployed there). The key's state is checked before any target is resolved,
    /// so a refused request creates no server rows.
    ///
    /// - Throws: `AppError.notFound` (key), `ConflictError.keyRetired`, target validation errors,
    ///   `TargetNotAllowedError`, `AppError.operationInProgress`. Per-server failures are results.
    func deploy(
        keyID: Int, to requests: [TargetRequest], parallel: Bool, fixPermissions: Bool = false,
        actor: AuthenticatedUser
    ) async throws -> [ServerOperationResult] {
        let record = try await StoredKey.find(keyID, for: .operateKeys, by: actor, on: db)
        guard record.status == .active else { throw ConflictError.keyRetired(alreadyRotated: false) }
        let targets = try await resolve(requests, allowPasswords: true, actor: actor)
        let results = try await locks.withLock("ssh_key:\(keyID)") {
            // Re-read under the lock: the key may have been deleted or retired meanwhile.
            guard let current = try await StoredKey.find(keyID, on: db), current.status == .active else {
                throw AppError.notFound(StoredKey.resourceName)
            }
            return await deploy(
                current, targets: targets, parallel: parallel, fixPermissions: fixPermissions, actor: actor)
        }
        PipewrightMetrics.sshOperations("deploy", results)
        return results
    }

    /// Logs in with key `keyID` on each target (default: every server it is recorded on) and runs `id -un`.
    /// Targets have deploy's shape; a target's `password` is validated and then dropped (never sent).
    ///
    /// - Throws: `AppError.notFound`, `AppError.unprocessable` when no target is given and none is recorded.
    func test(keyID: Int, on requests: [TargetRequest]?, actor: AuthenticatedUser) async throws -> [ServerTestResult] {
        let record = try await StoredKey.find(keyID, for: .operateKeys, by: actor, on: db)
        let resolver = TargetResolver(db: db, user: actor)
        let targets: [ResolvedTarget]
        if let requests, !requests.isEmpty {
            // The same target shape as deploy: a `password` is accepted (validated as there) but never used,
            // the test logs in with the key only (issue 12 item 11).
            targets = try await resolver.resolve(requests, allowPasswords: true).map { target in
                var keyOnly = target
                keyOnly.password = nil
                return keyOnly
            }
        } else {
            targets = try await deployments(of: record).map { .stored($0.server) }
            guard !targets.isEmpty else {
                throw AppError.unprocessable(
                    "servers", reason: "the key is not recorded on any server; list servers to test")
            }
        }
        let results = try await test(record, targets: try await resolver.checked(targets, by: targetGuard))
        for result in results {
            PipewrightMetrics.sshOperation(
                "test", outcome: (try? result.outcome.get()) != nil ? "ok" : Self.errorCode(result.outcome))
        }
        return results
    }

    /// Removes exactly key `keyID`'s line from each target. Refused per server with `would_lock_out` when
    /// no other working Pipewright key is recorded there, unless `force`.
    func undeploy(keyID: Int, from requests: [TargetRequest], force: Bool, actor: AuthenticatedUser) async throws
        -> [ServerOperationResult]
    {
        let record = try await StoredKey.find(keyID, for: .operateKeys, by: actor, on: db)
        let targets = try await resolve(requests, allowPasswords: true, actor: actor)
        let results = try await locks.withLock("ssh_key:\(keyID)") {
            try await undeploy(record, targets: targets, force: force, actor: actor)
        }
        PipewrightMetrics.sshOperations("undeploy", results)
        return results
    }

    /// Removes the key from every server it is recorded present on (key deletion); the caller holds the lock.
    func undeployEverywhere(_ record: StoredKey, actor: AuthenticatedUser) async throws -> [ServerOperationResult] {
        let present = try await deployments(of: record).filter { $0.status == .present }
        let targets = try await targetGuard.check(present.map { .stored($0.server) })
        let results = try await undeploy(record, targets: targets, force: true, actor: actor)
        PipewrightMetrics.sshOperations("undeploy", results)
        return results
    }

    /// Generates a key of the same type, deploys it wherever the old one is recorded (logging in with the
    /// old key) and verifies a login with the new key on every server; then writes the new key pair into
    /// every Bitbucket repository whose pipelines use the old key; only then removes the old key from the
    /// servers (docs/provisioning.md "Rotation"). A server that fails keeps the old key. When pipelines use
    /// the key, any failed server or repository keeps the old key on every server (it still works
    /// everywhere). The old key is retired when every server and repository succeeded.
    ///
    /// - Throws: `AppError.notFound`, `ConflictError.keyRetired`, `TargetNotAllowedError` (before anything
    ///   changes), `AppError.operationInProgress`.
    func rotate(keyID: Int, actor: AuthenticatedUser) async throws -> KeyRotation {
        let record = try await StoredKey.find(keyID, for: .operateKeys, by: actor, on: db)
        return try await locks.withLock("ssh_key:\(keyID)") {
            guard let current = try await StoredKey.find(try record.requireID(), on: db) else {
                throw AppError.notFound(StoredKey.resourceName)
            }
            guard current.status == .active else { throw ConflictError.keyRetired(alreadyRotated: true) }
            return try await rotate(current, actor: actor)
        }
    }

    /// The ledger of `record` with servers, in id order.
    func deployments(of record: StoredKey) async throws -> [KeyDeployment] {
        try await KeyDeployment.query(on: db).filter(\.$key.$id == record.requireID()).with(\.$server).sort(\.$id).all()
    }

    // MARK: - Per server

    private func resolve(_ requests: [TargetRequest], allowPasswords: Bool, actor: AuthenticatedUser) async throws
        -> [ResolvedTarget]
    {
        let resolver = TargetResolver(db: db, user: actor)
        let resolved = try await resolver.resolve(requests, allowPasswords: allowPasswords)
        return try await resolver.checked(resolved, by: targetGuard)
    }

    /// Per server: the edit, then a fresh login with the key (`deployed` means that login worked). The
    /// ledger says `present` only after it; a refused login leaves the row `unknown` and the result `failed`.
    private func deploy(
        _ record: StoredKey, targets: [ResolvedTarget], parallel: Bool, fixPermissions: Bool, actor: AuthenticatedUser
    ) async -> [ServerOperationResult] {
        await forEach(targets, parallel: parallel, failure: { .failed($0, $1) }) { target in
            let started = ContinuousClock.now
            do {
                let credentials = try await credentials(for: target, preferring: record, actor: actor)
                let outcome = try await editor.deploy(
                    publicKeyLine: record.publicKey, to: target.sshTarget, authentication: credentials.authentication,
                    pinnedHostKeys: try await pins(of: target.server), policy: hostKeyPolicy)
                try await pinIfFirstContact(target.server, accepted: outcome.acceptedHostKeys)
                do {
                    try await verifyLogin(
                        record, on: target, fallback: credentials.authentication, fixPermissions: fixPermissions)
                } catch {
                    try await recordDeployment(
                        key: record, server: target.server, method: credentials.method, actor: actor, status: .unknown)
                    throw error
                }
                try await recordDeployment(key: record, server: target.server, method: credentials.method, actor: actor)
                return result(target, .deployed(outcome.outcome), since: started)
            } catch let error as SSHKeyError {
                guard case .outcomeUnknown = error else { return failure(target, error, since: started) }
                // The key may be in the file: the ledger says so until a test or deploy finds out.
                do {
                    let method: KeyDeployment.Method = target.password == nil ? .key : .password
                    try await recordDeployment(
                        key: record, server: target.server, method: method, actor: actor, status: .unknown)
                } catch {
                    return failure(target, error, since: started)
                }
                return result(target, .unknown(error), since: started)
            } catch {
                return failure(target, error, since: started)
            }
        }
    }

    private func test(_ record: StoredKey, targets: [ResolvedTarget]) async throws -> [ServerTestResult] {
        let pem = try keys.privateKeyPEM(of: record)
        let keyID = try record.requireID()
        let results = await forEach(targets, parallel: true, failure: { ServerTestResult.failed($0, $1) }) { target in
            do {
                let outcome = try await editor.test(
                    target: target.sshTarget, privateKey: pem, pinnedHostKeys: try await pins(of: target.server),
                    policy: hostKeyPolicy)
                try await pinIfFirstContact(target.server, accepted: outcome.acceptedHostKeys)
                try await updateDeployment(keyID: keyID, server: target.server) {
                    $0.status = .present
                    $0.lastVerifiedAt = now()
                }
                return ServerTestResult(
                    server: target.server, target: target.sshTarget.description,
                    outcome: .success((outcome.latency, outcome.remoteUser)))
            } catch {
                if let error = error as? SSHKeyError, error == .authFailed {
                    try? await updateDeployment(keyID: keyID, server: target.server) { $0.status = .missing }
                }
                return ServerTestResult.failed(target, error)
            }
        }
        if results.contains(where: \.succeeded) {
            record.lastUsedAt = now()
            try await record.save(on: db)
        }
        return results
    }

    private func undeploy(_ record: StoredKey, targets: [ResolvedTarget], force: Bool, actor: AuthenticatedUser)
        async throws -> [ServerOperationResult]
    {
        let keyID = try record.requireID()
        let blob = try SSHPublicKey(openSSHLine: record.publicKey).blobBase64
        return await forEach(targets, parallel: true, failure: { .failed($0, $1) }) { target in
            let started = ContinuousClock.now
            do {
                let serverID = try target.server.requireID()
                // Lock-out is a risk only where this key is recorded as the way in; elsewhere the credentials
                // below decide (`no_credentials` when Pipewright knows no way in at all).
                if !force, target.password == nil,
                    try await deployment(keyID: keyID, serverID: serverID)?.status == .present,
                    try await otherWorkingKeys(on: serverID, excluding: keyID).isEmpty
                {
                    throw KeyOperationError.wouldLockOut
                }
                let authentication: SSHAuthentication
                if let password = target.password {
                    authentication = .password(password)
                } else if try await deployment(keyID: keyID, serverID: serverID)?.status == .present {
                    authentication = .privateKey(try keys.privateKeyPEM(of: record))
                } else {
                    authentication = try await credentials(for: target, preferring: record, actor: actor).authentication
                }
                let outcome = try await editor.remove(
                    publicKeyBlobBase64: blob, from: target.sshTarget, authentication: authentication,
                    pinnedHostKeys: try await pins(of: target.server), policy: hostKeyPolicy)
                try await pinIfFirstContact(target.server, accepted: outcome.acceptedHostKeys)
                try await KeyDeployment.query(on: db).filter(\.$key.$id == keyID).filter(\.$server.$id == serverID)
                    .delete()
                return result(target, .removed(outcome.outcome), since: started)
            } catch let error as SSHKeyError {
                guard case .outcomeUnknown = error else { return failure(target, error, since: started) }
                do {
                    try await updateDeployment(keyID: keyID, server: target.server) { $0.status = .unknown }
                } catch {
                    return failure(target, error, since: started)
                }
                return result(target, .unknown(error), since: started)
            } catch {
                return failure(target, error, since: started)
            }
        }
    }

    private func rotate(_ record: StoredKey, actor: AuthenticatedUser) async throws -> KeyRotation {
        let oldID = try record.requireID()
        // Every server the key will be rotated on must pass the target allowlist before anything happens.
        let targets = try await targetGuard.check(
            try await KeyDeployment.query(on: db).filter(\.$key.$id == oldID).filter(\.$status == .present)
                .with(\.$server).all().map { .stored($0.server) })
        let type = KeyType(rawValue: record.keyType) ?? .ed25519
        let newKey = try await KeyCatalog.generate(
            type: type == .ecdsa ? .ed25519 : type, bits: type == .rsa ? record.keySize : nil)
        let successor = try await keys.store(
            newKey, ownerID: record.$owner.id, name: record.name, comment: record.comment,
            passphrase: try keys.passphrase(of: record), exportable: record.exportable, on: db)
        let oldPEM = try keys.privateKeyPEM(of: record)
        let newPEM = try keys.privateKeyPEM(of: successor)
        let oldBlob = try SSHPublicKey(openSSHLine: record.publicKey).blobBase64
        // Step 1 and 2 on every server: deploy the successor (logging in with the old key), verify a login with it.
        let verified = await forEach(targets, parallel: true, failure: { .failed($0, $1) }) { target in
            let started = ContinuousClock.now
            do {
                _ = try await editor.deploy(
                    publicKeyLine: successor.publicKey, to: target.sshTarget, authentication: .privateKey(oldPEM),
                    pinnedHostKeys: try await pins(of: target.server), policy: hostKeyPolicy)
                do {
                    try await verifyLogin(successor, on: target, fallback: .privateKey(oldPEM), fixPermissions: false)
                } catch {
                    try await recordDeployment(
                        key: successor, server: target.server, method: .key, actor: actor, status: .unknown)
                    throw error
                }
                try await recordDeployment(key: successor, server: target.server, method: .key, actor: actor)
                return result(target, .deployed(.added), since: started)
            } catch {
                return failure(target, error, since: started)
            }
        }
        // Step 3: the repositories of the pipelines using the key get the successor's key pair.
        let usedByPipelines = try await Pipeline.query(on: db).filter(\.$sshKey.$id == oldID).count() > 0
        var repositories: [RepositoryKeyPairResult] = []
        var held: KeyOperationError?
        if usedByPipelines {
            if !verified.allSatisfy(\.succeeded) {
                held = .rotationHeld(reason: "not every server accepted and verified the new key")
            } else if let keyPairCarrier {
                repositories = try await keyPairCarrier.carryKeyPair(from: record, to: successor)
                if let failed = repositories.first(where: { !$0.succeeded }) {
                    held = .rotationHeld(reason: "the key pair of \(failed.repository) could not be replaced")
                }
            }
        }
        // Step 4: only now the old key leaves the servers that took the successor.
        var results: [ServerOperationResult] = []
        for (index, target) in targets.enumerated() {
            let step = verified[index]
            guard step.succeeded else {
                results.append(step)
                continue
            }
            if let held {
                results.append(
                    ServerOperationResult(
                        server: step.server, target: step.target, outcome: .failed(held), duration: step.duration))
                continue
            }
            let started = ContinuousClock.now
            do {
                let serverID = try target.server.requireID()
                _ = try await editor.remove(
                    publicKeyBlobBase64: oldBlob, from: target.sshTarget, authentication: .privateKey(newPEM),
                    pinnedHostKeys: try await pins(of: target.server), policy: hostKeyPolicy)
                try await KeyDeployment.query(on: db).filter(\.$key.$id == oldID).filter(\.$server.$id == serverID)
                    .delete()
                var rotated = result(target, .rotated, since: started)
                rotated.duration += step.duration
                results.append(rotated)
            } catch {
                results.append(failure(target, error, since: started))
            }
        }
        PipewrightMetrics.sshOperations("rotate", results)
        let succeeded = results.allSatisfy(\.succeeded) && repositories.allSatisfy(\.succeeded)
        if succeeded {
            record.status = .retired
            try await record.save(on: db)
        }
        logger.info(
            "ssh key rotated",
            metadata: ["old_key_id": "\(oldID)", "new_key_id": "\(successor.id ?? 0)", "ok": "\(succeeded)"])
        return KeyRotation(
            successor: successor, successorDeployments: try await deployments(of: successor),
            retiredKeyID: succeeded ? oldID : nil, results: results, repositories: repositories)
    }

    /// Logs in afresh with `record`'s key (BatchMode, pinned host key). When the server refuses it, the
    /// home directory, `~/.ssh` and `authorized_keys` are inspected over `fallback` (the session that
    /// made the edit) and a StrictModes violation is reported as `remote_permissions`; with `fixPermissions`
    /// the account's own paths lose their group/other write bits first and the login is tried again.
    ///
    /// - Throws: `SSHKeyError.remotePermissions`, or the login's error (`auth_failed`,
    ///   `unsupported_signature_algorithm`, …).
    private func verifyLogin(
        _ record: StoredKey, on target: ResolvedTarget, fallback: SSHAuthentication, fixPermissions: Bool
    ) async throws {
        let pem = try keys.privateKeyPEM(of: record)
        let pins = try await pins(of: target.server)
        do {
            _ = try await editor.test(
                target: target.sshTarget, privateKey: pem, pinnedHostKeys: pins, policy: hostKeyPolicy)
            return
        } catch SSHKeyError.authFailed {
            let report = try await editor.inspectPermissions(
                of: target.sshTarget, authentication: fallback, pinnedHostKeys: pins, policy: hostKeyPolicy,
                fix: fixPermissions)
            if let refused = report.violations.first {
                throw SSHKeyError.remotePermissions(path: refused.path, mode: refused.octalMode, owner: refused.owner)
            }
            guard !report.fixed.isEmpty else { throw SSHKeyError.authFailed }
            logger.notice(
                "remote permissions repaired",
                metadata: [
                    "target": "\(target.sshTarget)",
                    "paths": "\(report.fixed.map { "\($0.path)=\($0.octalMode)" }.joined(separator: ","))",
                ])
            _ = try await editor.test(
                target: target.sshTarget, privateKey: pem, pinnedHostKeys: pins, policy: hostKeyPolicy)
        }
    }

    // MARK: - Helpers

    /// Runs `body` for every target, at most `concurrency` at once (one at a time unless `parallel`);
    /// results in target order. A target the allowlist check could not resolve fails without running `body`.
    private func forEach<R: Sendable>(
        _ targets: [ResolvedTarget], parallel: Bool, failure: @escaping @Sendable (ResolvedTarget, any Error) -> R,
        _ body: @escaping @Sendable (ResolvedTarget) async -> R
    ) async -> [R] {
        let limit = parallel ? concurrency : 1
        return await withTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: targets.count)
            var next = 0
            func launch() {
                guard next < targets.count else { return }
                let index = next
                let target = targets[index]
                next += 1
                group.addTask {
                    if let preflight = target.preflightFailure { return (index, failure(target, preflight)) }
                    return (index, await body(target))
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
            .map(\.key).filter { $0.status == .active }
        let preferred = candidates.first { $0.id == record.id } ?? candidates.first
        guard let key = preferred else { throw KeyOperationError.noCredentials }
        return Credentials(authentication: .privateKey(try keys.privateKeyPEM(of: key)), method: .key)
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
        let now = now()
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

    /// Upserts the ledger entry `key` × `server` as `status` (present: verified now).
    private func recordDeployment(
        key: StoredKey, server: Server, method: KeyDeployment.Method, actor: AuthenticatedUser,
        status: KeyDeployment.Status = .present
    ) async throws {
        let keyID = try key.requireID()
        let serverID = try server.requireID()
        let now = now()
        let entry = try await deployment(keyID: keyID, serverID: serverID) ?? KeyDeployment()
        entry.$key.id = keyID
        entry.$server.id = serverID
        entry.deployedAt = now
        entry.deployedBy = actor.username
        entry.method = method
        entry.status = status
        if status == .present { entry.lastVerifiedAt = now }
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

    private func result(
        _ target: ResolvedTarget, _ outcome: ServerOperationResult.Outcome, since start: ContinuousClock.Instant
    )
        -> ServerOperationResult
    {
        ServerOperationResult(
            server: target.server, target: target.sshTarget.description, outcome: outcome,
            duration: ContinuousClock.now - start)
    }

    private func failure(_ target: ResolvedTarget, _ error: any Error, since start: ContinuousClock.Instant)
        -> ServerOperationResult
    {
        if !(error is SSHKeyError || error is KeyOperationError) {
            logger.error(
                "ssh operation failed", metadata: ["error_type": "\(type(of: error))", "target": "\(target.sshTarget)"])
        }
        return .failed(target, error, after: ContinuousClock.now - start)
    }

    private static func errorCode(_ outcome: Result<(latency: Duration, remoteUser: String), any Error>) -> String {
        guard case .failure(let error) = outcome else { return "ok" }
        return OperationErrorResponse(error).code
    }
}
