import Fluent
import Foundation
import PipewrightCore
import Vapor

/// An error that knows its HTTP rendering: status plus the envelope of docs/API.md "Errors", `{"error": {"code", "message", "details"}}`.
///
/// Refines Vapor's `AbortError` so stock tooling (status, reason) keeps working.
protocol APIErrorConvertible: AbortError {
    var code: String { get }
    var message: String { get }
    var details: [String: String] { get }
}

extension APIErrorConvertible {
    var reason: String { message }
}
