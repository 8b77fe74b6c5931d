import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Vapor

#if canImport(Glibc)
    import Glibc
#endif

extension PipewrightCommand {
    /// `pipewright serve [--hostname H] [--port N]`: runs the service until SIGTERM/SIGINT.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the service (HTTP API, webhooks, monitors) until SIGTERM or Ctrl-C.",
            discussion: """
                Takes the data directory for itself (SQLite: one server per directory; PostgreSQL: a shared \
                lock, several instances). On first start it creates the user 'admin' and prints its one-time \
                password.
                """)

        @Option(name: .long, help: "Listen address (overrides PIPEWRIGHT_HOST).")
        var hostname: String?

        @Option(name: .long, help: "Listen port (overrides PIPEWRIGHT_PORT); also used in webhook URLs.")
        var port: Int?

        func validate() throws {
            if let port, !(1...65535).contains(port) { throw ValidationError("--port must be in 1...65535") }
        }

        func run() async throws {
            let configuration = try ServiceBoot.loadConfiguration().listening(host: hostname, port: port)
            let portSource = port == nil ? "PIPEWRIGHT_PORT" : "--port"
            // Before anything is written: a busy port refuses the start with the data untouched.
            try PortCheck.requireFree(host: configuration.host, port: configuration.port, variable: portSource)
            let termination = TerminationSignal()
            let ownershipLost = NIOLockedValueBox<String?>(nil)
            let access = DataAccess.serve { reason in
                ownershipLost.withLockedValue { $0 = reason }
                termination.fire()
            }
            try await ServiceBoot.withApplication(configuration, access: access, installation: .createsIfMissing) {
                app in
                // Before the port opens, so whoever sees /health answer also finds the password file.
                let admin = try await InitialAdmin.createIfNeeded(app: app)
                try await app.asyncBoot()
                do {
                    try await app.server.start(address: .hostname(configuration.host, port: configuration.port))
                } catch let error as IOError where error.errnoCode == EADDRINUSE {
                    throw PortCheck.inUse(host: configuration.host, port: configuration.port, variable: portSource)
                }
                if configuration.logFormat == .json {
                    // Standard output stays one JSON object per line; the password stays out of the log.
                    logBanner(configuration, admin: admin, logger: app.logger)
                } else {
                    print(banner(configuration, admin: admin), terminator: "")
                    fflush(nil)
                }
                await termination.wait()
            }
            // After the normal drain and shutdown (throwing inside would skip stopping the HTTP server).
            if let reason = ownershipLost.withLockedValue({ $0 }) {
                throw CommandFailure("serve stopped: the database ownership lock was lost: \(reason)")
            }
        }

        /// The banner as one log record (`PIPEWRIGHT_LOG_FORMAT=json`); the one-time password is only in its file.
        func logBanner(
            _ configuration: PipewrightConfiguration, admin: (password: String, path: String)?, logger: Logger
        ) {
            var metadata: Logger.Metadata = [
                "version": .string(BuildInfo.version), "commit": .string(BuildInfo.commit),
                "listening": .string("\(configuration.host):\(configuration.port)"),
                "public_url": .string(configuration.publicURL), "data_dir": .string(configuration.dataDirectory),
                "database": .string(databaseDescription(configuration)),
                "instance_id": .string(configuration.cluster.instanceID),
                "log_dir": .string(configuration.logDirectory),
            ]
            if let admin { metadata["initial_admin_password_file"] = .string(admin.path) }
            logger.notice("pipewright started", metadata: metadata)
        }

        func databaseDescription(_ configuration: PipewrightConfiguration) -> String {
            switch configuration.database {
            case .sqlite(let path): "SQLite \(path)"
            case .sqliteInMemory: "SQLite in memory"
            case .postgres(let url): "PostgreSQL \(DatabaseURL.redacted(url))"
            }
        }

        /// What an operator needs at start: version, URL, data, and (first start only) the admin password.
        func banner(_ configuration: PipewrightConfiguration, admin: (password: String, path: String)?) -> String {
            let database = databaseDescription(configuration)
            let scheme = configuration.server.tls == nil ? "http" : "https"
            let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
            var lines = [
                "pipewright \(BuildInfo.description)",
                "  listening on   \(scheme)://\(host):\(configuration.port)",
                "  public URL     \(configuration.publicURL) (webhook URLs; PIPEWRIGHT_PUBLIC_URL)",
                "  data directory \(configuration.dataDirectory)",
                "  database       \(database)",
            ]
            if case .postgres = configuration.database {
                // Several instances may share the database: which one this is, and where its logs go.
                lines += [
                    "  instance       \(configuration.cluster.instanceID) (PIPEWRIGHT_INSTANCE_ID)",
                    "  log directory  \(configuration.logDirectory)"
                        + (configuration.logDirectoryOverride == nil
                            ? " (not shared: set PIPEWRIGHT_LOG_DIR for several instances)" : " (PIPEWRIGHT_LOG_DIR)"),
                ]
            }
            if let admin {
                lines += [
                    "",
                    "First start: created user 'admin' with the one-time password",
                    "  \(admin.password)",
                    "(also in \(admin.path), mode 0600). Sign in and change it with POST /api/auth/password,",
                    "or set a new one with 'pipewright user reset-password admin'; then delete that file.",
                ]
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}

/// SIGTERM or SIGINT (`serve`): install before the server starts, so a signal that comes early is kept.
/// `@unchecked`: `sources` is set once in `init` and only cancelled in `deinit`; dispatch sources are thread-safe.
final class TerminationSignal: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let received = NIOLockedValueBox<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    init() {
        let queue = DispatchQueue(label: "pipewright.termination")
        var sources: [any DispatchSourceSignal] = []
        for code in [SIGTERM, SIGINT] { sources.append(DispatchSource.makeSignalSource(signal: code, queue: queue)) }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [received] in
                let waiter = received.withLockedValue { state in
                    defer { state = (true, nil) }
                    return state.waiter
                }
                waiter?.resume()
            }
            source.resume()
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    /// Acts as if SIGTERM had arrived (the server stops itself).
    func fire() {
        let waiter = received.withLockedValue { state in
            defer { state = (true, nil) }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once SIGTERM or SIGINT has arrived (at once if it already has).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let fired = received.withLockedValue { state in
                if !state.fired { state.waiter = continuation }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}

/// `DATABASE_URL` without its password, for output.
enum DatabaseURL {
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "(unparsable URL)" }
        if components.password != nil { components.password = "***" }
        return components.string ?? "(unparsable URL)"
    }
}
