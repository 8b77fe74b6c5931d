import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import Vapor

/// How a command uses the data (docs/operations.md "One owner of a data directory").
enum DataAccess: Sendable {
    /// Reads and writes beside a running server (`user create`, `token create`, `keys verify`, `migrate`).
    case shared
    /// `serve`: with SQLite the data directory's exclusive lock (one server per directory); with PostgreSQL
    /// a shared advisory lock (several instances, no offline rewrite meanwhile) and the instance id's lock.
    /// `ownershipLost` is called when PostgreSQL's locks were lost and could not be taken again.
    case serve(ownershipLost: @Sendable (String) -> Void)
    /// An offline command that rewrites data (`master-key rotate`, `migrate --revert`, `restore`): the
    /// data directory's lock or PostgreSQL's exclusive advisory lock; refused while any server runs.
    case rewrite(purpose: String)
}

/// Whether a command may start on a data directory that holds no installation yet.
enum InstallationUse: Sendable {
    /// The data must be there already (every command but the ones below): a mistyped `PIPEWRIGHT_DATA_DIR`
    /// is refused instead of answered from a brand-new, empty installation.
    case existing
    /// `serve`, `migrate` and `user create` make a new installation when there is none.
    case createsIfMissing
    /// `restore`'s check of the data it just copied, while `RESTORE-INCOMPLETE` is still there.
    case restoring
}

/// Boots the service for a command that needs the database: reads the environment, bootstraps logging,
/// locks the data directory when asked, configures the application, runs the command, shuts down.
///
/// The one helper every database command uses, so they all read the configuration, log and fail the same
/// way. Nothing here runs for `help`, `--help`, `--version` or a usage error.
enum ServiceBoot {
    /// Parses the environment (`ConfigurationError` names the first bad variable).
    static func loadConfiguration() throws -> PipewrightConfiguration {
        try PipewrightConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
    }

    /// Runs `body` with a configured application.
    ///
    /// - Parameters:
    ///   - configuration: from ``loadConfiguration()``, adjusted by the command (`serve --port`).
    ///   - access: which lock to take before anything is written (`DataDirectoryLock` for SQLite,
    ///     `DatabaseOwnership` for PostgreSQL).
    ///   - installation: whether the command may create a new installation (`.existing` by default).
    /// - Throws: `ConfigurationError` for an unusable setting, `CommandFailure` when the data is held by
    ///   another process, is not there (`.existing`) or holds an unfinished restore, or what `body` throws.
    ///   The application is always shut down.
    static func withApplication<T>(
        _ configuration: PipewrightConfiguration, access: DataAccess, installation: InstallationUse = .existing,
        _ body: (Application) async throws -> T
    ) async throws -> T {
        try refuseRootOnAnotherUsersDirectory(configuration.dataDirectory)
        if installation != .restoring { try RestoreMarker.refuseIfPresent(in: configuration.dataDirectory) }
        if installation == .existing { try requireInstallation(configuration) }
        var configuration = configuration
        // `serve` creates the first admin itself, once the port check passed (a refused start writes nothing).
        configuration.createsInitialAdmin = false
        // A command's output is its result (`TOKEN=$(pipewright token create admin)`): its log goes to stderr.
        var serving = false
        if case .serve = access { serving = true }
        bootstrapLogging(configuration, toStandardError: !serving)
        var lock: DataDirectoryLock?
        if case .sqlite = configuration.database {
            switch access {
            case .shared: break
            case .serve:
                try prepareDataDirectory(configuration.dataDirectory)
                lock = try DataDirectoryLock.acquire(directory: configuration.dataDirectory, purpose: "serve")
            case .rewrite(let purpose):
                try prepareDataDirectory(configuration.dataDirectory)
                lock = try DataDirectoryLock.acquire(directory: configuration.dataDirectory, purpose: purpose)
            }
        }
        defer { withExtendedLifetime(lock) {} }
        var environment = try Environment.detect(arguments: [CommandLine.arguments.first ?? "pipewright"])
        environment.arguments = [CommandLine.arguments.first ?? "pipewright"]
        let app = try await Application.make(environment)
        do {
            try await DatabaseOwnership.acquire(for: access, configuration: configuration, app: app)
            try await configure(app, configuration: configuration)
            let result = try await body(app)
            await GracefulShutdown.drain(app)
            try await app.asyncShutdown()
            return result
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Refuses to run as root on a data directory another user owns (the service user): files root writes
    /// there (`master.key`, the database, logs) would be `root:root 0600`, and the service could no longer
    /// read them.
    ///
    /// - Throws: `CommandFailure` naming the owner and how to run as it; nothing has been written.
    static func refuseRootOnAnotherUsersDirectory(_ data: String) throws {
        guard geteuid() == 0, let attributes = try? FileManager.default.attributesOfItem(atPath: data),
            let uid = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value, uid != 0
        else { return }
        let owner = attributes[.ownerAccountName] as? String ?? "uid \(uid)"
        throw CommandFailure(
            "PIPEWRIGHT_DATA_DIR=\(data) belongs to \(owner) (uid \(uid)): run pipewright as that user "
                + "(e.g. sudo -u \(owner) pipewright …); files written as root would be unreadable to it (nothing "
                + "was changed)")
    }

    /// Refuses a data directory (or database) that holds no installation: with SQLite its database file
    /// must exist; with PostgreSQL the master key file, when the key comes from a file.
    ///
    /// - Throws: `CommandFailure` naming the path and `PIPEWRIGHT_DATA_DIR`; nothing has been written.
    static func requireInstallation(_ configuration: PipewrightConfiguration) throws {
        let data = configuration.dataDirectory
        let creators = "'pipewright serve', 'pipewright migrate' or 'pipewright user create' make a new installation"
        // A mistyped log directory would be created empty, and a backup would leave every build log out.
        if let logs = configuration.logDirectoryOverride, !FileManager.default.fileExists(atPath: logs) {
            throw CommandFailure(
                "PIPEWRIGHT_LOG_DIR=\(logs) does not exist: check the path; " + creators + " (nothing was changed)")
        }
        switch configuration.database {
        case .sqlite(let path):
            guard !FileManager.default.fileExists(atPath: path) else { return }
            throw CommandFailure(
                "no pipewright data in PIPEWRIGHT_DATA_DIR=\(data): \(path) does not exist. Check the path; "
                    + creators + " (nothing was changed)")
        case .postgres:
            guard case .file(let keyFile) = configuration.masterKey, !FileManager.default.fileExists(atPath: keyFile)
            else { return }
            throw CommandFailure(
                "no master key at \(keyFile) (PIPEWRIGHT_DATA_DIR=\(data)): check the path, or set "
                    + "PIPEWRIGHT_MASTER_KEY_FILE or PIPEWRIGHT_MASTER_KEY; " + creators + " (nothing was changed)")
        case .sqliteInMemory:
            return
        }
    }

    private static let loggingBootstrapped = NIOLockedValueBox(false)

    /// Bootstraps swift-log once per process: `PIPEWRIGHT_LOG_FORMAT=json` gives one JSON object per line
    /// (`JSONLogHandler`), anything else Vapor's console format; on stderr for the commands other than
    /// `serve` (`toStandardError`), whose stdout is their result. `level` is `LOG_LEVEL`; for those
    /// commands `warning` when LOG_LEVEL is not set.
    static func bootstrapLogging(_ configuration: PipewrightConfiguration, toStandardError: Bool = false) {
        let first = loggingBootstrapped.withLockedValue { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        if toStandardError {
            // A command prints its result and, on failure, one line: its log (migrations, audit notices)
            // shows only from `warning` up unless LOG_LEVEL asks for more.
            let commandLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"] == nil ? .warning : logLevel
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = commandLevel
                return handler
            }
        } else if configuration.logFormat == .json {
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: logLevel) }
        } else {
            let console = Terminal()
            LoggingSystem.bootstrap { label in ConsoleLogger(label: label, console: console, level: logLevel) }
        }
    }
}
