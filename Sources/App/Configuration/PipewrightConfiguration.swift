import Fluent
import Foundation
import PipewrightCore
import SSHKeys

/// Every setting of the service, parsed and validated once from the environment (README "Configuration").
///
/// Defaults give a working single-node service: SQLite in `./data`, a master key file created on first
/// start, `tofu` host-key policy, `ssh` from `PATH`.
public struct PipewrightConfiguration: Sendable {
    /// Where the database is.
    public enum Database: Sendable, Equatable {
        /// SQLite file at the path (`sqlite://PATH`), or an in-memory database (tests).
        case sqlite(path: String)
        case sqliteInMemory
        /// A PostgreSQL URL (`postgres://user:pass@host:port/db`).
        case postgres(url: String)
    }

    /// Where the master key comes from.
    public enum MasterKeySource: Sendable {
        /// Base64 in `PIPEWRIGHT_MASTER_KEY`.
        case environment(MasterKey)
        /// A file (created 0600 with a random key on first start when absent).
        case file(path: String)
        /// A key given directly (tests).
        case fixed(MasterKey)
    }

    public var host: String
    public var port: Int
    /// Data directory (created 0700): SQLite file, master key file, log store.
    public var dataDirectory: String
    public var database: Database
    public var masterKey: MasterKeySource
    public var bitbucketAPIURL: String
    /// Base URL clients and Bitbucket reach the service at (webhook URLs); default `http://HOST:PORT`.
    public var publicURL: String
    /// Monitor poll period while an execution runs.
    public var pollInterval: Duration
    /// After this the monitor emits `log_timeout`.
    public var monitorTimeout: Duration
    public var hostKeyPolicy: HostKeyPolicy
    /// OpenSSH client binary (`ssh` looked up on `PATH` by default).
    public var sshExecutable: String
    public var allowsPrivateKeyExport: Bool
    public var logLevel: String
    /// `PIPEWRIGHT_LOG_FORMAT`: `text` (default, Vapor's console lines) or `json` (one object per line).
    public var logFormat: LogFormat = .text

    /// Format of the service's own log lines.
    public enum LogFormat: String, Sendable {
        case text
        case json
    }
    /// Upper bound of SSH sessions run at once by one deploy/test/undeploy request.
    public var sshConcurrency: Int
    /// Connect timeout for SSH.
    public var sshConnectTimeout: Duration
    /// Whole-session timeout for one SSH command.
    public var sshCommandTimeout: Duration
    /// Logs of executions finished longer ago than this are deleted.
    public var logRetentionDays: Int
    /// When true no `admin` user is created on first start (tests).
    public var createsInitialAdmin: Bool
    /// Body limit, request timeout, shutdown grace, TLS and cookie flags (`ServerSettings`).
    public var server = ServerSettings()
    /// Realtime transports (docs/realtime.md).
    public var realtime = RealtimeSettings()

    /// Settings of the realtime endpoints (`/socket.io/`, `/api/ws`, SSE).
    public struct RealtimeSettings: Sendable, Equatable {
        /// Engine.IO ping period (`PIPEWRIGHT_REALTIME_PING_INTERVAL`, default 25 s); plain WebSocket pings too.
        public var pingInterval: Duration = .seconds(25)
        /// How long a client may take to answer a ping before it is dropped (`PIPEWRIGHT_REALTIME_PING_TIMEOUT`, 20 s).
        public var pingTimeout: Duration = .seconds(20)
        /// Largest client message in bytes, advertised as Engine.IO `maxPayload` (1,000,000).
        public var maxPayload: Int = 1_000_000
        /// SSE comment heartbeat period (`PIPEWRIGHT_SSE_HEARTBEAT`, 15 s).
        public var sseHeartbeat: Duration = .seconds(15)
        /// Origins allowed to open WebSockets (`PIPEWRIGHT_ALLOWED_ORIGINS`, comma-separated
        /// `scheme://host[:port]`, or `*`); empty means same-origin only (the request's own `Host`, or
        /// `PIPEWRIGHT_PUBLIC_URL`). Requests without `Origin` (non-browser clients) are allowed.
        public var allowedOrigins: [String] = []

        public init() {}
    }
    /// SSH endpoints the service may contact (`PIPEWRIGHT_SSH_ALLOWED_TARGETS`); default: all but
    /// link-local and unspecified addresses.
    public var sshAllowedTargets: SSHTargetAllowlist = .unrestricted
    /// Peers whose `X-Forwarded-For` is believed (`PIPEWRIGHT_TRUSTED_PROXIES`, CIDR list); default none.
    public var trustedProxies: [IPNetwork] = []
    /// Request budgets of the rate-limited actions (`PIPEWRIGHT_RATE_LIMIT_*`).
    public var rateLimits: RateLimitSettings = .defaults
    /// `PIPEWRIGHT_METRICS_TOKEN`: when set, `GET /metrics` requires `Authorization: Bearer <it>`; unset = open.
    public var metricsToken: String? = nil
    /// Time a regex log search may take before it answers with a partial page (`PIPEWRIGHT_REGEX_BUDGET_MS`, 2000).
    public var regexBudget: Duration = .milliseconds(2000)
    /// Most bytes of output stored per step (`PIPEWRIGHT_LOG_MAX_STEP_BYTES`, 64 MiB; docs/API.md "Logs");
    /// the rest is dropped, counted in the statistics and reported by one marker line.
    public var logMaxStepBytes: Int64 = 64 << 20
    /// `PIPEWRIGHT_LOG_DIR`: where the log store lives when not under the data directory, e.g. one directory
    /// shared by every instance (docs/scaling.md "Log store"); `nil` means ``logDirectory``'s default.
    public var logDirectoryOverride: String? = nil
    /// Work sharing between instances on one database (docs/scaling.md "Leases").
    public var cluster = ClusterSettings()

    /// Settings of work sharing between several instances on one PostgreSQL database.
    public struct ClusterSettings: Sendable, Equatable {
        /// How long a monitor lease lasts without a heartbeat (`PIPEWRIGHT_MONITOR_LEASE_SECONDS`, 15 s); an
        /// instance that dies is replaced within this time. Heartbeats renew it every third of it.
        public var monitorLease: Duration = .seconds(15)
        /// This process's name in lease rows, notifications and the Bitbucket `User-Agent`
        /// (`PIPEWRIGHT_INSTANCE_ID`; default `<host name>-<pid>-<4 random hex digits>`).
        public var instanceID: String = ClusterSettings.defaultInstanceID()

        public init() {}

        /// `<host name>-<pid>-<4 random hex digits>`: unique among the instances of one database.
        static func defaultInstanceID() -> String {
            let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
            return
                "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
        }
    }

    /// Directory of the log store: `PIPEWRIGHT_LOG_DIR`, else `$PIPEWRIGHT_DATA_DIR/logs`.
    public var logDirectory: String { logDirectoryOverride ?? dataDirectory + "/logs" }

    /// Parses the environment.
    ///
    /// - Parameter environment: variables as in `ProcessInfo.processInfo.environment`.
    /// - Throws: `ConfigurationError.invalid(variable:reason:)` for the first bad variable.
    public static func fromEnvironment(_ environment: [String: String]) throws -> PipewrightConfiguration {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(name) else { return defaultValue }
            guard let parsed = Int(raw), range.contains(parsed) else {
                throw ConfigurationError.invalid(
                    variable: name, reason: "expected a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return parsed
        }
        func seconds(_ name: String, default defaultValue: Double) throws -> Duration {
            guard let raw = value(name) else { return .milliseconds(Int64(defaultValue * 1000)) }
            guard let parsed = Double(raw), parsed > 0, parsed <= 86_400 * 7 else {
                throw ConfigurationError.invalid(variable: name, reason: "expected a number of seconds > 0")
            }
            return .milliseconds(Int64(parsed * 1000))
        }
        func boolean(_ name: String, default defaultValue: Bool) throws -> Bool {
            guard let raw = value(name)?.lowercased() else { return defaultValue }
            switch raw {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigurationError.invalid(variable: name, reason: "expected true or false")
            }
        }

        let dataDirectory = value("PIPEWRIGHT_DATA_DIR") ?? "./data"
        let database: Database
        if let url = value("DATABASE_URL") {
            database = try parseDatabaseURL(url)
        } else {
            database = .sqlite(path: dataDirectory + "/pipewright.sqlite")
        }
        let masterKey: MasterKeySource
        if let base64 = environment["PIPEWRIGHT_MASTER_KEY"], !base64.isEmpty {
            do {
                masterKey = .environment(try MasterKey(base64: base64))
            } catch {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_MASTER_KEY", reason: "must be the base64 encoding of exactly 32 bytes")
            }
        } else {
            masterKey = .file(path: value("PIPEWRIGHT_MASTER_KEY_FILE") ?? dataDirectory + "/master.key")
        }
        let policyName = value("PIPEWRIGHT_HOST_KEY_POLICY") ?? "tofu"
        guard let policy = HostKeyPolicy(rawValue: policyName) else {
            throw ConfigurationError.invalid(variable: "PIPEWRIGHT_HOST_KEY_POLICY", reason: "expected tofu or strict")
        }
        let logLevel = value("LOG_LEVEL")?.lowercased() ?? "info"
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else {
            throw ConfigurationError.invalid(
                variable: "LOG_LEVEL", reason: "expected one of \(levels.joined(separator: ", "))")
        }
        guard let logFormat = LogFormat(rawValue: value("PIPEWRIGHT_LOG_FORMAT")?.lowercased() ?? "text") else {
            throw ConfigurationError.invalid(variable: "PIPEWRIGHT_LOG_FORMAT", reason: "expected text or json")
        }
        let apiURL = value("BITBUCKET_API_URL") ?? "https://api.bitbucket.org/2.0"
        guard let parsedAPI = URL(string: apiURL), let scheme = parsedAPI.scheme, ["http", "https"].contains(scheme),
            parsedAPI.host != nil
        else {
            throw ConfigurationError.invalid(variable: "BITBUCKET_API_URL", reason: "expected an http(s) URL")
        }
        let host = value("PIPEWRIGHT_HOST") ?? "127.0.0.1"
        let port = try integer("PIPEWRIGHT_PORT", default: 8080, range: 1...65535)
        let server = try ServerSettings.fromEnvironment(environment)
        let publicURL =
            value("PIPEWRIGHT_PUBLIC_URL") ?? defaultPublicURL(host: host, port: port, tls: server.tls != nil)
        guard let parsedPublic = URL(string: publicURL), ["http", "https"].contains(parsedPublic.scheme ?? ""),
            parsedPublic.host != nil
        else {
            throw ConfigurationError.invalid(variable: "PIPEWRIGHT_PUBLIC_URL", reason: "expected an http(s) URL")
        }
        var sshAllowedTargets = SSHTargetAllowlist.unrestricted
        if let raw = value("PIPEWRIGHT_SSH_ALLOWED_TARGETS") {
            do {
                sshAllowedTargets = try SSHTargetAllowlist(parsing: raw)
            } catch {
                throw ConfigurationError.invalid(variable: "PIPEWRIGHT_SSH_ALLOWED_TARGETS", reason: error.description)
            }
        }
        var trustedProxies: [IPNetwork] = []
        for entry in (value("PIPEWRIGHT_TRUSTED_PROXIES") ?? "").split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let network = IPNetwork(trimmed) else {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_TRUSTED_PROXIES", reason: "'\(trimmed)' is not an address or CIDR block")
            }
            trustedProxies.append(network)
        }
        let rateLimits = try RateLimitSettings.fromEnvironment(value)
        var configuration = PipewrightConfiguration(
            host: host,
            port: port,
            dataDirectory: dataDirectory,
            database: database,
            masterKey: masterKey,
            bitbucketAPIURL: apiURL,
            publicURL: publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL,
            pollInterval: try seconds("PIPEWRIGHT_POLL_INTERVAL", default: 5),
            monitorTimeout: try seconds("PIPEWRIGHT_MONITOR_TIMEOUT", default: 600),
            hostKeyPolicy: policy,
            sshExecutable: value("PIPEWRIGHT_SSH") ?? "ssh",
            allowsPrivateKeyExport: try boolean("PIPEWRIGHT_ALLOW_PRIVATE_KEY_EXPORT", default: true),
            logLevel: logLevel,
            sshConcurrency: try integer("PIPEWRIGHT_SSH_CONCURRENCY", default: 16, range: 1...256),
            sshConnectTimeout: try seconds("PIPEWRIGHT_SSH_CONNECT_TIMEOUT", default: 10),
            sshCommandTimeout: try seconds("PIPEWRIGHT_SSH_COMMAND_TIMEOUT", default: 60),
            logRetentionDays: try integer("PIPEWRIGHT_LOG_RETENTION_DAYS", default: 90, range: 1...36500),
            createsInitialAdmin: true
        ).with(realtime: try realtimeSettings())
        configuration.server = server
        configuration.logFormat = logFormat
        configuration.sshAllowedTargets = sshAllowedTargets
        configuration.trustedProxies = trustedProxies
        configuration.rateLimits = rateLimits
        configuration.metricsToken = value("PIPEWRIGHT_METRICS_TOKEN")
        configuration.regexBudget = .milliseconds(
            try integer("PIPEWRIGHT_REGEX_BUDGET_MS", default: 2000, range: 1...600_000))
        // 1 MiB (one stored line piece) to 64 GiB.
        configuration.logMaxStepBytes = Int64(
            try integer("PIPEWRIGHT_LOG_MAX_STEP_BYTES", default: 64 << 20, range: (1 << 20)...(1 << 36)))
        configuration.logDirectoryOverride = value("PIPEWRIGHT_LOG_DIR")
        configuration.cluster.monitorLease = try seconds("PIPEWRIGHT_MONITOR_LEASE_SECONDS", default: 15)
        if let instanceID = value("PIPEWRIGHT_INSTANCE_ID") {
            guard instanceID.count <= 100, instanceID.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 })
            else {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_INSTANCE_ID", reason: "expected 1-100 visible ASCII characters")
            }
            configuration.cluster.instanceID = instanceID
        }
        return configuration

        func realtimeSettings() throws -> RealtimeSettings {
            var settings = RealtimeSettings()
            settings.pingInterval = try seconds("PIPEWRIGHT_REALTIME_PING_INTERVAL", default: 25)
            settings.pingTimeout = try seconds("PIPEWRIGHT_REALTIME_PING_TIMEOUT", default: 20)
            settings.sseHeartbeat = try seconds("PIPEWRIGHT_SSE_HEARTBEAT", default: 15)
            if let origins = value("PIPEWRIGHT_ALLOWED_ORIGINS") {
                settings.allowedOrigins = try origins.split(separator: ",").map {
                    let origin = $0.trimmingCharacters(in: .whitespaces)
                    guard
                        origin == "*"
                            || (URL(string: origin)?.host != nil
                                && ["http", "https"].contains(URL(string: origin)?.scheme ?? ""))
                    else {
                        throw ConfigurationError.invalid(
                            variable: "PIPEWRIGHT_ALLOWED_ORIGINS",
                            reason: "expected comma-separated http(s)://host[:port] origins or *")
                    }
                    return origin.hasSuffix("/") ? String(origin.dropLast()) : origin
                }
            }
            return settings
        }
    }

    /// `PIPEWRIGHT_PUBLIC_URL` when unset: `http://HOST:PORT` (`https://` with own TLS).
    static func defaultPublicURL(host: String, port: Int, tls: Bool) -> String {
        "\(tls ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// A copy listening on `host`:`port` (`serve --hostname/--port`); a public URL that was the default
    /// follows the new address, so webhook URLs name the port actually served.
    public func listening(host: String?, port: Int?) -> PipewrightConfiguration {
        var copy = self
        let wasDefault = publicURL == Self.defaultPublicURL(host: self.host, port: self.port, tls: server.tls != nil)
        if let host { copy.host = host }
        if let port { copy.port = port }
        if wasDefault {
            copy.publicURL = Self.defaultPublicURL(host: copy.host, port: copy.port, tls: server.tls != nil)
        }
        return copy
    }

    /// A copy with other realtime settings.
    func with(realtime: RealtimeSettings) -> PipewrightConfiguration {
        var copy = self
        copy.realtime = realtime
        return copy
    }

    /// Parses `DATABASE_URL`: `sqlite://PATH`, `sqlite::memory:`, `postgres://…` / `postgresql://…`.
    static func parseDatabaseURL(_ url: String) throws -> Database {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" { return .sqliteInMemory }
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty else {
                throw ConfigurationError.invalid(variable: "DATABASE_URL", reason: "sqlite:// needs a file path")
            }
            return .sqlite(path: path)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: url), components.host?.isEmpty == false else {
                throw ConfigurationError.invalid(variable: "DATABASE_URL", reason: "not a valid postgres:// URL")
            }
            return .postgres(url: url)
        }
        throw ConfigurationError.invalid(variable: "DATABASE_URL", reason: "expected sqlite://PATH or postgres://…")
    }

    /// A configuration for tests: in-memory SQLite, a fixed master key, no initial admin.
    public static func testing(dataDirectory: String, masterKey: MasterKey) -> PipewrightConfiguration {
        PipewrightConfiguration(
            host: "127.0.0.1", port: 8080, dataDirectory: dataDirectory, database: .sqliteInMemory,
            masterKey: .fixed(masterKey), bitbucketAPIURL: "http://127.0.0.1:9/2.0", publicURL: "http://127.0.0.1:8080",
            pollInterval: .seconds(5),
            monitorTimeout: .seconds(600), hostKeyPolicy: .tofu, sshExecutable: "ssh", allowsPrivateKeyExport: true,
            logLevel: "info", sshConcurrency: 16, sshConnectTimeout: .seconds(10), sshCommandTimeout: .seconds(60),
            logRetentionDays: 90, createsInitialAdmin: false, rateLimits: .generous)
    }
}
