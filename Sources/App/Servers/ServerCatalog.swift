import Fluent
import Foundation
import Logging
import PipewrightCore
import SSHKeys

/// The servers a user deploys to, and admin approval of their host keys (docs/API.md "Servers and host
/// keys"). Pinned host keys belong to `host:port`, not to a server row.
struct ServerCatalog: Sendable {
    let db: any Database
    let targetGuard: SSHTargetGuard
    let hostKeyScanner: HostKeyScanner
    let now: @Sendable () -> Date
    let logger: Logger

    /// A server and the host keys pinned for its `host:port`.
    struct Entry: Sendable {
        var server: Server
        /// The active pins, oldest first.
        var hostKeys: [PinnedHostKey]
        /// Every pin the endpoint has had (active and ended), newest first.
        var hostKeyHistory: [PinnedHostKey]
    }

    /// The outcome of an accept: the server afterwards and the pins the accept ended.
    struct HostKeyAcceptance: Sendable {
        var entry: Entry
        /// The pins that were active before (now ended), oldest first; empty on a first accept.
        var replaced: [PinnedHostKey]
        /// The `SHA256:` fingerprint now pinned.
        var accepted: String
    }

    func list(page: PipewrightCore.PageRequest, for user: AuthenticatedUser) async throws -> (
        items: [Entry], total: Int
    ) {
        let (servers, total) = try await Server.page(visibleTo: user, page, on: db)
        var items: [Entry] = []
        for server in servers {
            items.append(try await entry(server))
        }
        return (items, total)
    }

    func show(serverID: Int, for user: AuthenticatedUser) async throws -> Entry {
        try await entry(try await Server.find(serverID, visibleTo: user, on: db))
    }

    /// Records a server (nothing connects).
    ///
    /// - Throws: `SSHKeyError.invalidTarget`, `AppError.invalidField` (name), `ConflictError.duplicateServer`.
    func create(
        host: String, port: Int?, username: String, name: String?, notes: String? = nil,
        allowsLegacyRSASHA1: Bool = false, owner: AuthenticatedUser
    ) async throws -> Entry {
        try owner.require(.changeServers)
        let target = try SSHTarget(host: host, port: port ?? 22, username: username).validated()
        let name = try name.map { try FieldRules.name($0, field: "name") }
        let notes = try notes.map { try Self.notes($0) }
        let resolver = TargetResolver(db: db, user: owner)
        if let existing = try await resolver.find(target) {
            throw ConflictError.duplicateServer(target: target.description, existingID: try existing.requireID())
        }
        let server = try await resolver.findOrCreate(target, name: name)
        if allowsLegacyRSASHA1 || notes != nil {
            server.allowsLegacyRSASHA1 = allowsLegacyRSASHA1
            server.notes = notes
            try await server.save(on: db)
            if allowsLegacyRSASHA1 { logLegacyChange(server, by: owner) }
        }
        return try await entry(server)
    }

    /// Changes a server's name, notes and/or its `legacy_rsa_sha1` opt-in; `nil` leaves a field as it is (an
    /// empty `notes` clears them). Host, port and user name identify the server (and its ledger) and cannot
    /// change.
    ///
    /// - Throws: `AppError.notFound`, `AppError.forbidden` (role), `AppError.invalidField` (name, notes).
    func update(
        serverID: Int, name: String?, notes: String? = nil, allowsLegacyRSASHA1: Bool?, by user: AuthenticatedUser
    ) async throws -> Entry {
        let server = try await Server.find(serverID, for: .changeServers, by: user, on: db)
        if let name { server.name = try FieldRules.name(name, field: "name") }
        if let notes {
            let checked = try Self.notes(notes)
            server.notes = checked.isEmpty ? nil : checked
        }
        let legacyChanged = allowsLegacyRSASHA1.map { $0 != server.allowsLegacyRSASHA1 } ?? false
        if let allowsLegacyRSASHA1 { server.allowsLegacyRSASHA1 = allowsLegacyRSASHA1 }
        try await server.save(on: db)
        if legacyChanged { logLegacyChange(server, by: user) }
        return try await entry(server)
    }

    /// Free text: at most 2,000 characters (before trimming), trimmed; newlines and tabs allowed, other
    /// control, format and separator characters and private-key material refused.
    static func notes(_ value: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard value.count <= 2_000 else {
            throw AppError.invalidField("notes", reason: "must be at most 2000 characters")
        }
        for line in trimmed.split(separator: "\n", omittingEmptySubsequences: false) {
            try FieldRules.noControlCharacters(line.replacingOccurrences(of: "\t", with: " "), field: "notes")
        }
        try FieldRules.noPrivateKeyMaterial(trimmed, field: "notes")
        return trimmed
    }

    private func logLegacyChange(_ server: Server, by user: AuthenticatedUser) {
        logger.notice(
            "server legacy_rsa_sha1 changed",
            metadata: [
                "server_id": "\(server.id ?? 0)", "legacy_rsa_sha1": "\(server.allowsLegacyRSASHA1)",
                "actor": "\(user.username)",
            ])
    }

    /// Deletes the server row. Refused with `server_in_use` while keys are recorded there (the lines would
    /// stay on the host with no record), unless `force`; always while pipelines deploy to it
    /// (`server_in_use`, `details.pipelines`). Pinned host keys are kept.
    func delete(serverID: Int, force: Bool, by user: AuthenticatedUser) async throws {
        let server = try await Server.find(serverID, for: .changeServers, by: user, on: db)
        let recorded = try await KeyDeployment.query(on: db).filter(\.$server.$id == serverID).count()
        if recorded > 0, !force { throw ConflictError.serverInUse(deployments: recorded) }
        let pipelines = try await Pipeline.query(on: db).all()
            .filter { $0.serverIDs.contains(serverID) }.count
        guard pipelines == 0 else { throw ConflictError.serverUsedByPipelines(pipelines: pipelines) }
        try await server.delete(on: db)
        logger.notice("server deleted", metadata: ["server_id": "\(serverID)", "actor": "\(user.username)"])
    }

    /// Ends the active pins of the server's `host:port` (kept as history: when, by whom, why, replaced by
    /// what) and pins its current host key whose fingerprint the admin approved (read again with
    /// `ssh-keyscan`, so only a key the server really presents is pinned).
    ///
    /// - Throws: `AppError.forbidden` for non-admins, `AppError.invalidField` for a malformed fingerprint,
    ///   `TargetNotAllowedError`, `ConflictError.hostKeyNotPresented`.
    func acceptHostKey(serverID: Int, fingerprintSHA256: String, by admin: AuthenticatedUser) async throws
        -> HostKeyAcceptance
    {
        let server = try await Server.find(serverID, for: .acceptHostKeys, by: admin, on: db)
        let fingerprint = fingerprintSHA256.trimmingCharacters(in: .whitespaces)
        guard fingerprint.hasPrefix("SHA256:"), fingerprint.count == 50 else {
            throw AppError.invalidField(
                "fingerprint_sha256", reason: "must be SHA256: followed by 43 base64 characters")
        }
        let target = try await targetGuard.check(
            SSHTarget(host: server.host, port: server.port, username: server.username))
        let presented = try await hostKeyScanner.scan(target)
        guard let key = presented.first(where: { $0.fingerprintSHA256 == fingerprint }) else {
            throw ConflictError.hostKeyNotPresented(presented: presented.map(\.fingerprintSHA256))
        }
        let (host, port) = (server.host, server.port)
        let now = now()
        let replaced = try await db.transaction { tx in
            let active = try await PinnedHostKey.pins(host: host, port: port, on: tx)
            for pin in active {
                pin.endedAt = now
                pin.endedBy = admin.username
                pin.endReason = .replaced
                pin.replacedByFingerprint = key.fingerprintSHA256
                try await pin.save(on: tx)
            }
            try await PinnedHostKey(
                host: host, port: port, algorithm: key.algorithm, keyBase64: key.blobBase64,
                fingerprintSHA256: key.fingerprintSHA256, firstSeenAt: now, approvedBy: admin.username
            ).create(on: tx)
            return active
        }
        // The pipelines deploying here now have a known host Bitbucket trusts that no longer matches the pin.
        try await PipelineProvisioning.markKnownHostsOutdated(host: host, port: port, on: db)
        logger.notice(
            "host key accepted",
            metadata: [
                "server_id": "\(serverID)", "fingerprint": "\(fingerprint)",
                "previous_fingerprints": "\(replaced.map(\.fingerprintSHA256).joined(separator: ","))",
                "actor": "\(admin.username)",
            ])
        return HostKeyAcceptance(entry: try await entry(server), replaced: replaced, accepted: key.fingerprintSHA256)
    }

    private func entry(_ server: Server) async throws -> Entry {
        let history = try await PinnedHostKey.history(host: server.host, port: server.port, on: db)
        return Entry(
            server: server, hostKeys: Array(history.filter { $0.endedAt == nil }.reversed()), hostKeyHistory: history)
    }
}
