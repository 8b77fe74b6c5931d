import Bitbucket
import Fluent
import Foundation
import Logging
import PipelineConfig
import PipewrightCore
import SSHKeys

/// Plans and applies what a pipeline's generated `bitbucket-pipelines.yml` needs in its Bitbucket
/// repository: Pipelines enabled, the deployment environment, the pipeline's key as the repository SSH key
/// pair, one known host per target server from Pipewright's pins, and every variable the YAML reads
/// (docs/provisioning.md; endpoint facts in the Bitbucket reference §3,
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/).
///
/// A plan only reads. An apply re-plans, writes only `create`/`update` items (so a second apply writes
/// nothing), reports each item's result (a failed item never stops the others) and records the outcome.
/// Nothing secret leaves this type except the private key sent to Bitbucket's `key_pair` endpoint.
struct ProvisioningService: Sendable {
    let db: any Database
    let clients: BitbucketClients
    let keys: KeyVault
    /// `ssh_key:<id>` is held while a key pair is written (a rotation of that key holds it too, so an apply
    /// never writes a key the rotation is replacing); `repository:<workspace/slug>` while one is provisioned.
    let locks: OperationLocks
    let now: @Sendable () -> Date
    let logger: Logger
    /// Deploys key `keyID` to the servers `serverIDs` as `actor` (`KeyDeploymentService.deploy`), for
    /// `generate_rsa_key`; `nil`: the option cannot deploy and is refused.
    var deployKey:
        (
            @Sendable (_ keyID: Int, _ serverIDs: [Int], _ actor: AuthenticatedUser) async throws ->
                [ServerOperationResult]
        )? =
            nil

    /// Key types Bitbucket takes as the Pipelines key pair. Bitbucket generates 2048-bit RSA itself; Ed25519
    /// support is unconfirmed (reference §3.3), so only RSA is sent.
    static let keyPairAlgorithms: Set<String> = ["ssh-rsa"]
    /// Host key algorithms in the order one is chosen when a host has several pins (Bitbucket keeps one key
    /// per hostname).
    static let hostKeyPreference = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
    ]

    // MARK: - Use cases

    /// The plan for `pipeline`; stores its status (`in_sync`/`drifted`) when it was provisioned before.
    ///
    /// - Throws: `BitbucketError` when the repository cannot be read (404, missing scopes, …),
    ///   `ProvisioningError` when the pipeline's key or a server row is gone.
    func plan(_ pipeline: Pipeline) async throws -> ProvisioningPlan {
        let (_, _, items) = try await compare(pipeline, options: ProvisioningOptions())
        let status = try await recordCheck(pipeline, inSync: items.allSatisfy { $0.action == .none })
        return ProvisioningPlan(
            pipelineID: try pipeline.requireID(), repository: Self.repository(pipeline), items: items, status: status)
    }

    /// Applies the plan: every `create`/`update` item is written, `none` items are left alone, `conflict` items
    /// are reported and skipped.
    ///
    /// - Throws: as ``plan(_:)`` for reading; `AppError.operationInProgress` while the pipeline's key is being
    ///   rotated or the repository provisioned by another request; per-item write failures are results,
    ///   never thrown.
    func apply(_ pipeline: Pipeline, options: ProvisioningOptions, actor: AuthenticatedUser? = nil) async throws
        -> ProvisioningRun
    {
        if options.generateRSAKey, let actor { try await switchToRSAKey(pipeline, actor: actor) }
        let repository = Self.repository(pipeline).lowercased()
        return try await locks.withLock("repository:\(repository)") {
            try await locks.withLock("ssh_key:\(pipeline.$sshKey.id)") {
                // Re-read under the locks: a rotation that just finished may have switched the pipeline's key.
                guard let current = try await Pipeline.find(try pipeline.requireID(), on: db) else {
                    throw AppError.notFound("Pipeline")
                }
                return try await applyLocked(current, options: options)
            }
        }
    }

    private func applyLocked(_ pipeline: Pipeline, options: ProvisioningOptions) async throws -> ProvisioningRun {
        let (client, key, items) = try await compare(pipeline, options: options)
        var results: [ProvisioningRun.ItemResult] = []
        for item in items {
            results.append(
                ProvisioningRun.ItemResult(
                    item: item, outcome: await write(item, client: client, pipeline: pipeline, key: key)))
        }
        let keyPairWritten = results.first { $0.item.kind == .keyPair }.map { $0.succeeded } ?? false
        let ok = results.allSatisfy(\.succeeded)
        let row =
            try await PipelineProvisioning.of(pipelineID: try pipeline.requireID(), on: db) ?? PipelineProvisioning()
        row.$pipeline.id = try pipeline.requireID()
        row.workspace = pipeline.workspace
        row.repoSlug = pipeline.repoSlug
        if keyPairWritten { row.keyPairFingerprint = key.fingerprintSHA256 }
        row.status = ok ? .inSync : .drifted
        row.provisionedAt = now()
        row.checkedAt = now()
        try await row.save(on: db)
        logger.info(
            "repository provisioned",
            metadata: [
                "pipeline_id": "\(pipeline.id ?? 0)", "repository": "\(Self.repository(pipeline))",
                "written": "\(results.filter { $0.outcome == .created || $0.outcome == .updated }.count)",
                "ok": "\(ok)",
            ])
        return ProvisioningRun(
            pipelineID: try pipeline.requireID(), repository: Self.repository(pipeline), results: results,
            status: ok ? .inSync : .drifted)
    }

    /// The stored status of each pipeline (`never` when it was never provisioned).
    func statuses(of pipelineIDs: [Int]) async throws -> [Int: ProvisioningStatus] {
        guard !pipelineIDs.isEmpty else { return [:] }
        let rows = try await PipelineProvisioning.query(on: db).filter(\.$pipeline.$id ~~ pipelineIDs).all()
        var statuses: [Int: ProvisioningStatus] = [:]
        for row in rows {
            statuses[row.$pipeline.id] = row.status == .inSync ? .inSync : .drifted
        }
        return statuses
    }

    /// `generate_rsa_key`: when the pipeline's key is not RSA, generates an RSA-4096 key (same owner, name
    /// suffixed), deploys it to every server of the pipeline (logging in with a key of `actor` already there,
    /// verified by a fresh login) and makes it the pipeline's key. Nothing changes on the pipeline unless
    /// every server took it.
    ///
    /// - Throws: `ProvisioningError.rsaKeyNotDeployed` with the failed targets; deploy's own refusals.
    private func switchToRSAKey(_ pipeline: Pipeline, actor: AuthenticatedUser) async throws {
        guard let key = try await StoredKey.find(pipeline.$sshKey.id, on: db) else {
            throw ProvisioningError.keyUnavailable(keyID: pipeline.$sshKey.id)
        }
        guard !Self.keyPairAlgorithms.contains(String(key.publicKey.split(separator: " ").first ?? "")) else { return }
        let generated = try await KeyCatalog.generate(type: .rsa, bits: 4096)
        let stored = try await keys.store(
            generated, ownerID: key.$owner.id, name: String("\(key.name) (RSA-4096)".prefix(200)),
            comment: key.comment, passphrase: nil, exportable: key.exportable, on: db)
        let keyID = try stored.requireID()
        guard let deployKey else { throw ProvisioningError.rsaKeyNotDeployed(keyID: keyID, targets: []) }
        let results = try await deployKey(keyID, pipeline.serverIDs, actor)
        let failed = results.filter { !$0.succeeded }
        guard failed.isEmpty else {
            throw ProvisioningError.rsaKeyNotDeployed(keyID: keyID, targets: failed.map(\.target))
        }
        pipeline.$sshKey.id = keyID
        try await pipeline.save(on: db)
        logger.notice(
            "pipeline switched to a generated RSA key",
            metadata: ["pipeline_id": "\(pipeline.id ?? 0)", "old_key_id": "\(key.id ?? 0)", "new_key_id": "\(keyID)"])
    }

    // MARK: - Rotation

    /// Writes `successor` as the key pair of every repository whose pipelines use `old` and that holds `old`
    /// now (repositories never provisioned, or holding another key, are left alone), then points those
    /// pipelines at `successor`. One result per repository; a failure leaves that repository and its
    /// pipelines on `old`.
    func carryKeyPair(from old: StoredKey, to successor: StoredKey) async throws -> [RepositoryKeyPairResult] {
        let pipelines = try await Pipeline.query(on: db).filter(\.$sshKey.$id == old.requireID()).sort(\.$id).all()
        var groups: [String: [Pipeline]] = [:]
        var order: [String] = []
        for pipeline in pipelines {
            let group = "\(pipeline.$connection.id)|\(Self.repository(pipeline).lowercased())"
            if groups[group] == nil { order.append(group) }
            groups[group, default: []].append(pipeline)
        }
        var results: [RepositoryKeyPairResult] = []
        for group in order {
            guard let members = groups[group], let first = members.first else { continue }
            var result = RepositoryKeyPairResult(
                repository: Self.repository(first), pipelineIDs: members.compactMap(\.id), outcome: .replaced)
            do {
                let client = try await client(for: first)
                let current = try await client.sshKeyPair(workspace: first.workspace, slug: first.repoSlug)
                if let current, Self.fingerprint(ofPublicKey: current.publicKey) == old.fingerprintSHA256 {
                    _ = try await client.replaceSSHKeyPair(
                        workspace: first.workspace, slug: first.repoSlug,
                        privateKey: try keys.privateKeyPEM(of: successor),
                        publicKey: successor.publicKey)
                    for pipeline in members {
                        if let row = try await PipelineProvisioning.of(pipelineID: try pipeline.requireID(), on: db) {
                            row.keyPairFingerprint = successor.fingerprintSHA256
                            try await row.save(on: db)
                        }
                    }
                } else {
                    result.outcome = .notProvisioned
                }
                for pipeline in members {
                    pipeline.$sshKey.id = try successor.requireID()
                    try await pipeline.save(on: db)
                }
            } catch let error as BitbucketError {
                result.outcome = .failed(code: error.code, message: error.message)
            } catch {
                result.outcome = .failed(code: "internal_error", message: "The repository could not be updated.")
                logger.error("key pair carry-over failed", metadata: ["error_type": "\(type(of: error))"])
            }
            results.append(result)
        }
        return results
    }

    // MARK: - Comparing

    /// Reads Bitbucket's state and builds the items in apply order.
    private func compare(_ pipeline: Pipeline, options: ProvisioningOptions) async throws -> (
        any BitbucketAPI, StoredKey, [ProvisioningItem]
    ) {
        let client = try await client(for: pipeline)
        guard let key = try await StoredKey.find(pipeline.$sshKey.id, on: db) else {
            throw ProvisioningError.keyUnavailable(keyID: pipeline.$sshKey.id)
        }
        let servers = try await Server.query(on: db).filter(\.$id ~~ pipeline.serverIDs).sort(\.$id).all()
        if let missing = pipeline.serverIDs.first(where: { id in !servers.contains { $0.id == id } }) {
            throw ProvisioningError.serverMissing(serverID: missing)
        }
        let settings = PipelineConfigService.deploymentSettings(of: pipeline, servers: servers)
        let (workspace, slug) = (pipeline.workspace, pipeline.repoSlug)
        // The repository first: the configuration endpoints answer 404 for a missing repository too.
        _ = try await client.repository(workspace: workspace, slug: slug)
        let configuration = try await client.pipelinesConfiguration(workspace: workspace, slug: slug)
        let environments = try await client.environments(workspace: workspace, slug: slug)
        let keyPair = try await client.sshKeyPair(workspace: workspace, slug: slug)
        let knownHosts = try await client.knownHosts(workspace: workspace, slug: slug)
        let variables = try await client.repositoryVariables(workspace: workspace, slug: slug)

        var items = [pipelinesItem(configuration), environmentItem(settings.environment, environments)]
        items.append(try await keyPairItem(key, current: keyPair, pipeline: pipeline, options: options))
        var hostnames = Set<String>()
        for server in servers
        where hostnames.insert(BitbucketKnownHost.hostname(host: server.host, port: server.port).lowercased()).inserted
        {
            // Several accounts on one machine share its host key and its one known_hosts entry.
            items.append(try await knownHostItem(server, current: knownHosts))
        }
        for variable in PipelinesYAMLGenerator.requiredVariables(for: settings) {
            items.append(variableItem(variable, current: variables))
        }
        return (client, key, items)
    }

    private func pipelinesItem(_ current: BitbucketPipelinesConfiguration?) -> ProvisioningItem {
        let action: ProvisioningItem.Action =
            switch current?.enabled {
            case true: .none
            case false: .update
            case nil: .create
            }
        return ProvisioningItem(
            kind: .pipelines, name: "pipelines", desired: ProvisionedState(enabled: true),
            current: current.map { ProvisionedState(enabled: $0.enabled) }, action: action,
            reason: action == .update ? "Pipelines is disabled for the repository." : nil)
    }

    private func environmentItem(_ name: String, _ current: [BitbucketEnvironment]) -> ProvisioningItem {
        let kind = BitbucketEnvironment.Kind(matching: name) ?? .production
        let found = current.first { $0.name.lowercased() == name.lowercased() }
        return ProvisioningItem(
            kind: .environment, name: name, desired: ProvisionedState(environmentType: kind.rawValue),
            current: found.map { ProvisionedState(environmentType: $0.typeName) },
            action: found == nil ? .create : .none,
            bitbucketUUID: found?.uuid)
    }

    private func keyPairItem(
        _ key: StoredKey, current: BitbucketSSHKeyPair?, pipeline: Pipeline, options: ProvisioningOptions
    ) async throws -> ProvisioningItem {
        let desired = ProvisionedState(publicKey: key.publicKey, fingerprintSHA256: key.fingerprintSHA256)
        let currentState = current.map {
            ProvisionedState(publicKey: $0.publicKey, fingerprintSHA256: Self.fingerprint(ofPublicKey: $0.publicKey))
        }
        var item = ProvisioningItem(
            kind: .keyPair, name: "key_pair", desired: desired, current: currentState, action: .create)
        let algorithm = String(key.publicKey.split(separator: " ").first ?? "")
        guard Self.keyPairAlgorithms.contains(algorithm) else {
            item.action = .conflict
            item.conflict = .init(
                code: "key_type_unsupported",
                message: "Bitbucket Pipelines takes an RSA key pair (\(algorithm) is not confirmed to work); "
                    + "provision with generate_rsa_key: true to generate an RSA-4096 key, deploy it to the pipeline's "
                    + "servers and use it.")
            return item
        }
        guard let currentState else { return item }
        if currentState.fingerprintSHA256 == key.fingerprintSHA256 {
            item.action = .none
            return item
        }
        let written = try await PipelineProvisioning.query(on: db).filter(\.$workspace == pipeline.workspace)
            .filter(\.$repoSlug == pipeline.repoSlug).all().compactMap(\.keyPairFingerprint)
        if let fingerprint = currentState.fingerprintSHA256, written.contains(fingerprint) {
            item.action = .update
            item.reason = "The repository holds an older key pair written by Pipewright."
        } else if options.replaceForeignKeyPair {
            item.action = .update
            item.replacesForeignKeyPair = true
            item.reason = "Replacing a key pair Pipewright did not write (replace_foreign_key_pair)."
        } else {
            item.action = .conflict
            item.conflict = .init(
                code: "foreign_key_pair",
                message: "The repository holds a key pair Pipewright did not write "
                    + "(\(currentState.fingerprintSHA256 ?? "unreadable public key")); "
                    + "provision with replace_foreign_key_pair: true to replace it.")
        }
        return item
    }

    private func knownHostItem(_ server: Server, current: [BitbucketKnownHost]) async throws -> ProvisioningItem {
        let hostname = BitbucketKnownHost.hostname(host: server.host, port: server.port)
        let found = current.first { $0.hostname.lowercased() == hostname.lowercased() }
        let currentState = found.map {
            ProvisionedState(
                fingerprintSHA256: Self.fingerprint(ofBlob: $0.publicKey.key), keyType: $0.publicKey.keyType,
                key: $0.publicKey.key)
        }
        let pins = try await PinnedHostKey.pins(host: server.host, port: server.port, on: db)
        let rank = { (pin: PinnedHostKey) in Self.hostKeyPreference.firstIndex(of: pin.algorithm) ?? Int.max }
        guard let pin = pins.min(by: { rank($0) < rank($1) }) else {
            return ProvisioningItem(
                kind: .knownHost, name: hostname, desired: ProvisionedState(), current: currentState, action: .conflict,
                conflict: .init(
                    code: "host_key_not_pinned",
                    message:
                        "Pipewright has no pinned host key for \(server.host):\(server.port) (server \(server.id ?? 0)); "
                        + "deploy or test the pipeline's key on it first. Known hosts are never written from a new scan."
                ),
                bitbucketUUID: found?.uuid, serverID: server.id)
        }
        let desired = ProvisionedState(
            fingerprintSHA256: pin.fingerprintSHA256, keyType: pin.algorithm, key: pin.keyBase64)
        var item = ProvisioningItem(
            kind: .knownHost, name: hostname, desired: desired, current: currentState, action: .create,
            bitbucketUUID: found?.uuid, serverID: server.id)
        guard let found else { return item }
        if found.publicKey.keyType == pin.algorithm, found.publicKey.key == pin.keyBase64 {
            item.action = .none
            return item
        }
        item.action = .update
        let history = try await PinnedHostKey.history(host: server.host, port: server.port, on: db)
        if let ended = history.first(where: { $0.endedAt != nil && $0.keyBase64 == found.publicKey.key }) {
            item.reason =
                "The host key of \(server.host):\(server.port) was accepted as changed"
                + (ended.endedBy.map { " by \($0)" } ?? "") + "; Bitbucket still trusts the previous key."
        } else {
            item.reason = "Bitbucket's known host differs from Pipewright's pinned host key."
        }
        return item
    }

    private func variableItem(_ variable: RequiredVariable, current: [BitbucketVariable]) -> ProvisioningItem {
        let desired = ProvisionedState(value: variable.secured ? nil : variable.value, secured: variable.secured)
        let found = current.first { $0.key == variable.name }
        let currentState = found.map { ProvisionedState(value: $0.secured ? nil : $0.value, secured: $0.secured) }
        var action: ProvisioningItem.Action = .create
        if let found {
            let same = found.secured == variable.secured && (variable.secured || found.value == variable.value)
            action = same ? .none : .update
        }
        return ProvisioningItem(
            kind: .variable, name: variable.name, desired: desired, current: currentState, action: action,
            reason: action == .update ? "The variable was changed in Bitbucket." : nil, bitbucketUUID: found?.uuid)
    }

    // MARK: - Writing

    /// Writes one item; never throws (failures become the item's result).
    private func write(_ item: ProvisioningItem, client: any BitbucketAPI, pipeline: Pipeline, key: StoredKey) async
        -> ProvisioningRun.ItemResult.Outcome
    {
        switch item.action {
        case .none: return .unchanged
        case .conflict: return .conflict
        case .create, .update: break
        }
        var privateKey: Secret<String>?
        if item.kind == .keyPair {
            do {
                privateKey = try keys.privateKeyPEM(of: key)
            } catch {
                logger.error("key pair unreadable", metadata: ["error_type": "\(type(of: error))"])
                return .failed(code: "key_unreadable", message: "The pipeline's private key could not be opened.")
            }
        }
        do throws(BitbucketError) {
            return try await send(item, client: client, pipeline: pipeline, key: key, privateKey: privateKey)
        } catch {
            return .failed(code: error.code, message: error.message)
        }
    }

    /// The Bitbucket requests of one `create`/`update` item. A `create` that meets a 409 (the variable,
    /// known host or environment was added since the plan was read) updates the existing entry instead.
    private func send(
        _ item: ProvisioningItem, client: any BitbucketAPI, pipeline: Pipeline, key: StoredKey,
        privateKey: Secret<String>?
    ) async throws(BitbucketError) -> ProvisioningRun.ItemResult.Outcome {
        let done: ProvisioningRun.ItemResult.Outcome = item.action == .create ? .created : .updated
        let (workspace, slug) = (pipeline.workspace, pipeline.repoSlug)
        switch item.kind {
        case .pipelines:
            _ = try await client.enablePipelines(workspace: workspace, slug: slug)
            return done
        case .environment:
            let kind = BitbucketEnvironment.Kind(rawValue: item.desired.environmentType ?? "") ?? .production
            let result = await Self.capture {
                () async throws(BitbucketError) in
                _ = try await client.createEnvironment(workspace: workspace, slug: slug, name: item.name, kind: kind)
            }
            if case .failure(.conflict) = result { return .unchanged }
            try result.get()
            return done
        case .keyPair:
            _ = try await client.replaceSSHKeyPair(
                workspace: workspace, slug: slug, privateKey: privateKey ?? Secret(""), publicKey: key.publicKey)
            return done
        case .knownHost:
            let publicKey = BitbucketKnownHost.PublicKey(
                keyType: item.desired.keyType ?? "", key: item.desired.key ?? "")
            var uuid = item.bitbucketUUID
            if uuid == nil {
                let result = await Self.capture {
                    () async throws(BitbucketError) in
                    _ = try await client.createKnownHost(
                        workspace: workspace, slug: slug, hostname: item.name, publicKey: publicKey)
                }
                guard case .failure(.conflict) = result else {
                    try result.get()
                    return done
                }
                uuid = try await client.knownHosts(workspace: workspace, slug: slug)
                    .first { $0.hostname == item.name }?.uuid
            }
            guard let uuid else { throw .conflict(message: "The known host exists but could not be found.") }
            _ = try await client.updateKnownHost(
                workspace: workspace, slug: slug, uuid: uuid, hostname: item.name, publicKey: publicKey)
            return .updated
        case .variable:
            let variable = BitbucketPipelineVariable(
                key: item.name, value: item.desired.value ?? "", secured: item.desired.secured ?? false)
            var uuid = item.bitbucketUUID
            if uuid == nil {
                let result = await Self.capture {
                    () async throws(BitbucketError) in
                    _ = try await client.createRepositoryVariable(workspace: workspace, slug: slug, variable: variable)
                }
                guard case .failure(.conflict) = result else {
                    try result.get()
                    return done
                }
                uuid = try await client.repositoryVariables(workspace: workspace, slug: slug)
                    .first { $0.key == item.name }?.uuid
            }
            guard let uuid else { throw .conflict(message: "The variable exists but could not be found.") }
            _ = try await client.updateRepositoryVariable(
                workspace: workspace, slug: slug, uuid: uuid, variable: variable)
            return .updated
        }
    }

    /// Runs `body` and returns its failure as a value.
    private static func capture(_ body: () async throws(BitbucketError) -> Void) async -> Result<Void, BitbucketError> {
        do {
            try await body()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Helpers

    private func client(for pipeline: Pipeline) async throws -> any BitbucketAPI {
        guard let connection = try await Connection.find(pipeline.$connection.id, on: db) else {
            throw AppError.notFound("Connection")
        }
        return try clients.client(for: connection, logger: logger)
    }

    /// Stores the result of a plan for a pipeline that was provisioned before.
    private func recordCheck(_ pipeline: Pipeline, inSync: Bool) async throws -> ProvisioningStatus {
        guard let row = try await PipelineProvisioning.of(pipelineID: try pipeline.requireID(), on: db) else {
            return .never
        }
        row.status = inSync ? .inSync : .drifted
        row.checkedAt = now()
        try await row.save(on: db)
        return inSync ? .inSync : .drifted
    }

    static func repository(_ pipeline: Pipeline) -> String { "\(pipeline.workspace)/\(pipeline.repoSlug)" }

    /// `SHA256:` fingerprint of an OpenSSH public key line, `nil` when it does not parse.
    static func fingerprint(ofPublicKey line: String) -> String? {
        try? SSHPublicKey(openSSHLine: line).fingerprintSHA256
    }

    /// `SHA256:` fingerprint of a base64 key blob, `nil` when it is not base64 of an SSH key.
    static func fingerprint(ofBlob blob: String) -> String? {
        guard let bytes = Data(base64Encoded: blob) else { return nil }
        return try? SSHPublicKey(blob: Array(bytes)).fingerprintSHA256
    }
}

/// One repository's part of a key rotation (docs/provisioning.md "Rotation").
struct RepositoryKeyPairResult: Sendable {
    enum Outcome: Sendable, Equatable {
        /// The repository's key pair is now the successor.
        case replaced
        /// The repository does not hold the rotated key (never provisioned, or another key): left alone.
        case notProvisioned
        /// Bitbucket refused or failed: the repository keeps the old key pair.
        case failed(code: String, message: String)
    }

    /// `workspace/repo_slug`.
    var repository: String
    var pipelineIDs: [Int]
    var outcome: Outcome

    var succeeded: Bool {
        if case .failed = outcome { return false }
        return true
    }

    /// `replaced`, `not_provisioned`, `failed`.
    var status: String {
        switch outcome {
        case .replaced: "replaced"
        case .notProvisioned: "not_provisioned"
        case .failed: "failed"
        }
    }
}
