import LogStore
import Vapor

/// HTTP mapping of the log store's errors.
extension LogStoreError: APIErrorConvertible {
    public var reason: String { message }

    public var status: HTTPResponseStatus {
        switch self {
        case .invalidRegex, .invalidQuery, .regexTimeout: .badRequest
        case .executionNotFound: .notFound
        case .invalidRange: .rangeNotSatisfiable
        case .tooManySteps: .unprocessableEntity
        case .ioFailure: .serviceUnavailable
        }
    }
}
