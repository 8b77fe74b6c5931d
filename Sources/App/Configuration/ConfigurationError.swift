import Fluent
import Foundation
import PipewrightCore

/// A configuration problem found at start-up. Printed as one line naming the variable (README "Configuration").
public enum ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `variable` has a value that cannot be used; `reason` says why (never the value if it is a secret).
    case invalid(variable: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let variable, let reason): "configuration error: \(variable): \(reason)"
        }
    }
}
