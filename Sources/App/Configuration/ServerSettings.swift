import Foundation

/// HTTP-level limits and transport security (docs/API.md "Security headers and limits", "TLS"; README
/// "TLS, reverse proxy, shutdown"), parsed from the environment.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PIPEWRIGHT_MAX_BODY_SIZE` | `1048576` (bytes) | larger request bodies get 413 (log ingestion streams, exempt) |
/// | `PIPEWRIGHT_REQUEST_TIMEOUT` | `300` (seconds) | a non-streaming request still running after this gets 503 `request_timeout` |
/// | `PIPEWRIGHT_SHUTDOWN_GRACE` | `30` (seconds) | on SIGTERM, how long in-flight requests may take to finish |
/// | `PIPEWRIGHT_TLS_CERT_FILE`, `PIPEWRIGHT_TLS_KEY_FILE` | — | PEM certificate chain and private key: serve HTTPS/WSS |
/// | `PIPEWRIGHT_COOKIE_SECURE` | `false` | `true`: `Secure` session cookie without own TLS (behind a TLS proxy); always on with TLS |
public struct ServerSettings: Sendable, Equatable {
    /// PEM files the service serves TLS with.
    public struct TLSFiles: Sendable, Equatable {
        /// Certificate chain, leaf first (`PIPEWRIGHT_TLS_CERT_FILE`).
        public var certificateChainPath: String
        /// Private key of the leaf certificate (`PIPEWRIGHT_TLS_KEY_FILE`).
        public var privateKeyPath: String

        public init(certificateChainPath: String, privateKeyPath: String) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
        }
    }

    /// Bodies over 1 MiB → 413 (docs/API.md "Security headers and limits").
    public static let defaultMaxBodySize = 1 << 20

    /// Largest accepted request body in bytes (streaming routes exempt).
    public var maxBodySize: Int = ServerSettings.defaultMaxBodySize
    /// Bound of one non-streaming request. The default covers an SSH deploy to more servers than
    /// `PIPEWRIGHT_SSH_CONCURRENCY` (waves of connect timeout + command timeout, 70 s each by default).
    public var requestTimeout: Duration = .seconds(300)
    /// On SIGTERM: how long in-flight requests may take before the service stops anyway.
    public var shutdownGrace: Duration = .seconds(30)
    /// When set, the service serves HTTPS/WSS itself.
    public var tls: TLSFiles?
    /// `PIPEWRIGHT_COOKIE_SECURE` (`nil` when unset).
    public var cookieSecureOverride: Bool?

    public init() {}

    /// Whether the session cookie carries `Secure`: with TLS, or when forced for a TLS-terminating proxy.
    public var cookiesAreSecure: Bool { tls != nil || cookieSecureOverride == true }

    /// Parses the variables in the table above.
    ///
    /// - Throws: `ConfigurationError.invalid` naming the first bad variable (only one TLS variable set,
    ///   a non-number, a value out of range). TLS files are opened later, by `configure`.
    public static func fromEnvironment(_ environment: [String: String]) throws -> ServerSettings {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func seconds(_ name: String, range: ClosedRange<Double>) throws -> Duration? {
            guard let raw = value(name) else { return nil }
            guard let parsed = Double(raw), parsed.isFinite, range.contains(parsed) else {
                throw ConfigurationError.invalid(
                    variable: name,
                    reason: "expected a number of seconds in \(Int(range.lowerBound))...\(Int(range.upperBound))")
            }
            return .milliseconds(Int64(parsed * 1000))
        }
        var settings = ServerSettings()
        if let raw = value("PIPEWRIGHT_MAX_BODY_SIZE") {
            guard let bytes = Int(raw), (1024...(1 << 30)).contains(bytes) else {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_MAX_BODY_SIZE", reason: "expected a number of bytes in 1024...1073741824")
            }
            settings.maxBodySize = bytes
        }
        if let timeout = try seconds("PIPEWRIGHT_REQUEST_TIMEOUT", range: 1...86_400) {
            settings.requestTimeout = timeout
        }
        if let grace = try seconds("PIPEWRIGHT_SHUTDOWN_GRACE", range: 0...3_600) { settings.shutdownGrace = grace }
        switch (value("PIPEWRIGHT_TLS_CERT_FILE"), value("PIPEWRIGHT_TLS_KEY_FILE")) {
        case (nil, nil):
            break
        case (let certificate?, let key?):
            settings.tls = TLSFiles(certificateChainPath: certificate, privateKeyPath: key)
        case (nil, _):
            throw ConfigurationError.invalid(
                variable: "PIPEWRIGHT_TLS_CERT_FILE", reason: "must be set together with PIPEWRIGHT_TLS_KEY_FILE")
        case (_, nil):
            throw ConfigurationError.invalid(
                variable: "PIPEWRIGHT_TLS_KEY_FILE", reason: "must be set together with PIPEWRIGHT_TLS_CERT_FILE")
        }
        if let raw = value("PIPEWRIGHT_COOKIE_SECURE")?.lowercased() {
            switch raw {
            case "1", "true", "yes", "on": settings.cookieSecureOverride = true
            case "0", "false", "no", "off": settings.cookieSecureOverride = false
            default:
                throw ConfigurationError.invalid(variable: "PIPEWRIGHT_COOKIE_SECURE", reason: "expected true or false")
            }
        }
        return settings
    }
}
