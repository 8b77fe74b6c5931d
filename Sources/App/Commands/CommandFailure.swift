import Foundation
import Vapor

/// A command refused or failed for a reason the operator can act on; printed as `error: <message>`.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) { self.message = message }

    var description: String { message }

    /// The one line printed for `error` (no type dumps, no backtrace, never a secret: the errors printed
    /// here carry names and paths only).
    static func line(for error: any Error) -> String {
        let text: String
        switch error {
        case let error as ConfigurationError: text = error.description
        case let error as CommandFailure: text = "error: \(error.message)"
        case let error as any AbortError: text = "error: \(error.reason)"
        default: text = "error: \(String(describing: error))"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
