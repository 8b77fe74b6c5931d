import Fluent
import Foundation
import PipewrightCore

/// A configuration problem found at start-up. Printed as one line naming the variable (README "Configuration").
public enum ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `variable` has a value that cannot be used; `reason` says why (never the value if it is a secret).
    case invalid(variable: String, reason: String)
    /// `variable` is set (or defaults) to `value`, which is not usable now: `reason` says why, e.g.
    /// `PIPEWRIGHT_PORT=8080 is in use by pid 4242 (pipewright)`. Only for values that are not secrets.
    case unusable(variable: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let variable, let reason): "configuration error: \(variable): \(reason)"
        case .unusable(let variable, let value, let reason): "configuration error: \(variable)=\(value) \(reason)"
        }
    }
}
