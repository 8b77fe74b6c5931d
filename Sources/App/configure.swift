import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import PipewrightCore
import Realtime
import SSHKeys
import Vapor

/// Configures `app`: data directory, database and migrations, master key check, JSON coders, middleware,
/// routes and commands.
///
/// - Parameters:
///   - configuration: parsed settings (`PipewrightConfiguration.fromEnvironment`).
///   - customize: lets tests replace collaborators (SSH runner, clock, bcrypt cost) after the live ones are built.
/// - Throws: `ConfigurationError` for an unusable data directory, database or master key (the caller
///   prints it as one line and exits 1).
public func configure(
    _ app: Application, configuration: PipewrightConfiguration, customize: (inout AppServices) -> Void = { _ in }
) async throws {
    PipewrightMetrics.bootstrap()
    try prepareDataDirectory(configuration.dataDirectory)

    switch configuration.database {
    case .sqlite(let path):
        app.databases.use(.sqlite(.file(path), sqlLogLevel: .trace), as: .sqlite)
    case .sqliteInMemory:
        app.databases.use(.sqlite(.memory, sqlLogLevel: .trace), as: .sqlite)
    case .postgres(let url):
        do {
            app.databases.use(try .postgres(url: url, sqlLogLevel: .trace), as: .psql)
        } catch {
            throw ConfigurationError.invalid(variable: "DATABASE_URL", reason: "not a usable PostgreSQL URL")
        }
    }
    let isSQLite: Bool
    if case .postgres = configuration.database { isSQLite = false } else { isSQLite = true }
    for migration in Migrations.all(sqlite: isSQLite) { app.migrations.add(migration) }
    // A key that does not open the stored data stops start-up before anything is migrated or written.
    let storedCheck = await MasterKeyStore.storedCheck(on: app.db)
    var loadedKey = try await MasterKeyStore.load(configuration.masterKey, opening: storedCheck)
    if loadedKey.pendingFile == nil, let storedCheck, !MasterKeyStore.opensCheck(storedCheck, with: loadedKey.key) {
        throw masterKeyMismatch(loadedKey.key, configuration)
    }
    do {
        if case .postgres(let url) = configuration.database {
            // Instances starting together migrate one after the other (docs/scaling.md "Configuration").
            try await DatabaseOwnership.serializingMigrations(url: url, logger: app.logger) {
                try await app.autoMigrate()
            }
        } else {
            try await app.autoMigrate()
        }
    } catch {
        throw ConfigurationError.invalid(
            variable: "DATABASE_URL", reason: "cannot open or migrate the database (\(type(of: error)))")
    }

    if case .sqlite(let path) = configuration.database {
        // The database holds only sealed secrets, but its metadata is nobody else's business either.
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    var verdict = try await MasterKeyStore.verify(loadedKey, on: app.db)
    // An online rotation may have committed while this process migrated: read its new key file then.
    if verdict == .mismatch, let current = await MasterKeyStore.storedCheck(on: app.db) {
        loadedKey = try await MasterKeyStore.load(configuration.masterKey, opening: current)
        verdict = try await MasterKeyStore.verify(loadedKey, on: app.db)
    }
    let masterKey = loadedKey.key
    switch verdict {
    case .matches: break
    case .mismatch: throw masterKeyMismatch(masterKey, configuration)
    case .keyFileMissing:
        throw ConfigurationError.unusable(
            variable: "PIPEWRIGHT_MASTER_KEY_FILE", value: loadedKey.pendingFile ?? "",
            reason: "does not exist, but the database holds data sealed with a master key: restore the key file "
                + "from your backup (nothing was changed)")
    }
    // A rotation whose final rename failed left the new key beside the old one (docs/operations.md "Master
    // key custody and rotation"); the data opened with the configured key, so the staging file is stale.
    if case .file(let path) = configuration.masterKey, FileManager.default.fileExists(atPath: path + ".new") {
        let stale =
            "\(path).new is left from a master-key rotation; the data opens with \(path), so the .new file is "
            + "stale: move it away (the next rotation refuses to start while it is there)"
        app.logger.warning("\(stale)")
    }
    var services = try AppServices.live(configuration: configuration, masterKey: masterKey, logger: app.logger)
    customize(&services)
    app.passwords.use(.bcrypt(cost: services.passwordHashCost))
    services.dummyPasswordHash = try app.password.hash(TokenHasher.randomToken())
    app.services = services

    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys]
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.dateDecodingStrategy = .iso8601
    ContentConfiguration.global.use(encoder: encoder, for: .json)
    ContentConfiguration.global.use(decoder: decoder, for: .json)
    // JSON everywhere (docs/API.md "Security notes"). Form and multipart bodies are refused (400
    // invalid_body) instead of being decoded into the same request types, which also closes the HTML-form
    // route for cross-site requests.
    ContentConfiguration.global.use(decoder: NonJSONBodyDecoder(), for: .urlEncodedForm)
    ContentConfiguration.global.use(decoder: NonJSONBodyDecoder(), for: .formData)

    app.http.server.configuration.hostname = configuration.host
    app.http.server.configuration.port = configuration.port
    try ServerTLS.apply(configuration.server, to: app)
    let server = configuration.server
    // issue 7, 2026-11-29: Vapor 4.122 rejects a collected body when `total >= max` (Request+BodyStream
    // `consume`); `+ 1` accepts exactly `maxBodySize` bytes: only bodies *over* 1 MiB are refused
    // (docs/API.md "Security headers and limits").
    app.routes.defaultMaxBodySize = ByteCount(value: server.maxBodySize + 1)

    app.middleware = Middlewares()
    // Our MetricsMiddleware counts requests by route pattern (Vapor's own counters would duplicate them).
    app.http.server.configuration.reportMetrics = false
    app.middleware.use(MetricsMiddleware())
    app.middleware.use(RequestIDMiddleware())
    app.middleware.use(SecurityHeadersMiddleware(sendsHSTS: server.tls != nil, secureCookies: server.cookiesAreSecure))
    app.middleware.use(APIErrorMiddleware())
    app.middleware.use(RequestHeadLimitMiddleware())
    app.middleware.use(BodyLimitMiddleware(limit: server.maxBodySize))
    app.middleware.use(RequestTimeoutMiddleware(timeout: server.requestTimeout, inFlight: app.inFlightRequests))
    app.middleware.use(SealingGateMiddleware(gate: services.sealingGate))
    app.serverSettings = server

    app.executionEvents = ExecutionEventHub()
    app.executionSupervisor = ExecutionSupervisor(application: app)
    var postgresURL: String?
    if case .postgres(let url) = configuration.database { postgresURL = url }
    app.clusterEvents = try ClusterEventBridge(
        application: app, postgresURL: postgresURL, instanceID: configuration.cluster.instanceID)
    // Registered first so they shut down last, just before the database closes.
    app.lifecycle.use(OperationLocksLifecycle())
    app.lifecycle.use(InFlightWorkLifecycle())
    // Before the supervisor: listening when it resumes work, and still sending its hand-back notice.
    app.lifecycle.use(ClusterEventBridgeLifecycle())
    app.lifecycle.use(ExecutionSupervisorLifecycle())
    app.lifecycle.use(LogRetentionLifecycle())
    // Registered last so it shuts down first (Vapor runs shutdown handlers in reverse): clients are
    // disconnected before the monitors stop.
    app.realtimeConnections = RealtimeConnections()
    app.lifecycle.use(RealtimeLifecycle())
    // Graceful shutdown drains HTTP before lifecycle handlers run: WebSockets and SSE streams ignore NIO's
    // quiescing, so close them when the drain starts, or they hold it for the whole grace period.
    app.shutdownDrain.use { app in await app.realtimeConnections.closeAll() }

    try routes(app)

    if configuration.createsInitialAdmin {
        _ = try await InitialAdmin.createIfNeeded(app: app)
    }
}

/// The refusal for a master key that does not open the stored data.
private func masterKeyMismatch(_ key: MasterKey, _ configuration: PipewrightConfiguration) -> ConfigurationError {
    .invalid(
        variable: MasterKeyStore.variableName(for: configuration.masterKey),
        reason: "this master key (id \(key.id)) does not open the data already stored; "
            + "start with the key that sealed it (nothing was changed)")
}

/// Creates the data directory 0700 (or tightens an existing one) and checks that it is writable.
///
/// - Throws: `ConfigurationError.unusable` naming `PIPEWRIGHT_DATA_DIR` and its value: not a directory,
///   cannot be created, or not writable by this user (uid in the message).
func prepareDataDirectory(_ path: String) throws {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            throw ConfigurationError.unusable(
                variable: "PIPEWRIGHT_DATA_DIR", value: path, reason: "is not a directory")
        }
    } else {
        do {
            try manager.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ConfigurationError.unusable(
                variable: "PIPEWRIGHT_DATA_DIR", value: path,
                reason: "cannot be created by uid \(getuid()) (check the parent directory's owner and mode)")
        }
    }
    guard access(path, W_OK | X_OK) == 0 else {
        throw ConfigurationError.unusable(
            variable: "PIPEWRIGHT_DATA_DIR", value: path,
            reason: "is not writable by uid \(getuid()) (chown it to the service user, mode 0700)")
    }
    try? manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
}

/// Refuses to decode a request body that is not JSON (`415`, rendered as 400 `invalid_body`).
struct NonJSONBodyDecoder: ContentDecoder {
    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        throw Abort(.unsupportedMediaType)
    }
}
