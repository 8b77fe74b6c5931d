import Foundation

/// A budget: at most `requests` per `period`, refilled continuously (token bucket).
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Bucket size: how many requests may come at once.
    public var requests: Int
    /// Time in which a full bucket refills, in seconds.
    public var periodSeconds: Double

    public init(requests: Int, periodSeconds: Double) {
        self.requests = requests
        self.periodSeconds = periodSeconds
    }

    /// Parses `N/SECONDS` (e.g. `10/60`: 10 requests per 60 seconds).
    static func parse(_ text: String) -> RateLimit? {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let requests = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            let period = Double(parts[1].trimmingCharacters(in: .whitespaces)), (1...1_000_000).contains(requests),
            period > 0, period <= 86_400
        else { return nil }
        return RateLimit(requests: requests, periodSeconds: period)
    }

    public var description: String { "\(requests)/\(periodSeconds.formatted(.number.grouping(.never)))" }
}

/// The rate-limited actions (docs/API.md "Rate limits") and their budgets. Each action is counted per
/// user **and** per client IP (both must have budget left); login per client IP and per (username,
/// client IP).
public struct RateLimitSettings: Sendable, Equatable {
    /// The limited actions, with their variable suffix (`PIPEWRIGHT_RATE_LIMIT_<SUFFIX>`).
    public enum Action: String, Sendable, CaseIterable {
        case login = "LOGIN"
        case loginPerIP = "LOGIN_IP"
        case trigger = "TRIGGER"
        case deploy = "DEPLOY"
        case test = "TEST"
        case undeploy = "UNDEPLOY"
        case rotate = "ROTATE"
        case export = "EXPORT"
        case provision = "PROVISION"

        /// `PIPEWRIGHT_RATE_LIMIT_…`.
        public var variable: String { "PIPEWRIGHT_RATE_LIMIT_\(rawValue)" }
    }

    public var limits: [Action: RateLimit]
    /// Delay added to a failed login per consecutive failure of the same (username, client IP).
    public var loginFailureDelayStep: Duration
    /// Upper bound of that delay.
    public var loginFailureDelayCap: Duration

    public subscript(action: Action) -> RateLimit { limits[action] ?? RateLimit(requests: 1_000_000, periodSeconds: 1) }

    /// Production defaults (documented in README and docs/API.md).
    public static let defaults = RateLimitSettings(
        limits: [
            .login: RateLimit(requests: 10, periodSeconds: 300),
            .loginPerIP: RateLimit(requests: 50, periodSeconds: 300),
            .trigger: RateLimit(requests: 30, periodSeconds: 60),
            .deploy: RateLimit(requests: 20, periodSeconds: 60),
            .test: RateLimit(requests: 30, periodSeconds: 60),
            .undeploy: RateLimit(requests: 20, periodSeconds: 60),
            .rotate: RateLimit(requests: 5, periodSeconds: 60),
            .export: RateLimit(requests: 10, periodSeconds: 60),
            .provision: RateLimit(requests: 20, periodSeconds: 60),
        ],
        loginFailureDelayStep: .milliseconds(250), loginFailureDelayCap: .seconds(2))

    /// Limits high enough that functional tests are never throttled (dedicated tests set low ones).
    public static let generous = RateLimitSettings(
        limits: Dictionary(
            uniqueKeysWithValues: Action.allCases.map { ($0, RateLimit(requests: 100_000, periodSeconds: 1)) }),
        loginFailureDelayStep: .zero, loginFailureDelayCap: .zero)

    /// Reads `PIPEWRIGHT_RATE_LIMIT_<ACTION>` (`N/SECONDS`) and `PIPEWRIGHT_LOGIN_FAILURE_DELAY_MS`.
    static func fromEnvironment(_ value: (String) -> String?) throws -> RateLimitSettings {
        var settings = RateLimitSettings.defaults
        for action in Action.allCases {
            guard let raw = value(action.variable) else { continue }
            guard let limit = RateLimit.parse(raw) else {
                throw ConfigurationError.invalid(
                    variable: action.variable, reason: "expected REQUESTS/SECONDS, e.g. 10/60")
            }
            settings.limits[action] = limit
        }
        if let raw = value("PIPEWRIGHT_LOGIN_FAILURE_DELAY_MS") {
            guard let step = Int(raw), (0...10_000).contains(step) else {
                throw ConfigurationError.invalid(
                    variable: "PIPEWRIGHT_LOGIN_FAILURE_DELAY_MS", reason: "expected milliseconds 0-10000")
            }
            settings.loginFailureDelayStep = .milliseconds(step)
        }
        return settings
    }
}
