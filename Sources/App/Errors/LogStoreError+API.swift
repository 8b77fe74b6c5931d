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

    /// A 416 carries `Content-Range: bytes */LENGTH` (RFC 9110 §15.5.17) beside the error envelope.
    public var headers: HTTPHeaders {
        switch self {
        case .invalidRange(let length): ["Content-Range": "bytes */\(length)", "Accept-Ranges": "bytes"]
        default: [:]
        }
    }
}
