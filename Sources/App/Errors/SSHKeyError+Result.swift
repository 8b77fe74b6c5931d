import Bitbucket
import Fluent
import Foundation
import PipewrightCore
import SSHKeys

extension OperationErrorResponse {
    /// The per-server `error` object for any error: domain errors keep their code and message; anything
    /// else becomes `internal_error` with a fixed message (details are logged, never returned).
    init(_ error: any Error) {
        switch error {
        case let error as BitbucketError:
            let wrapped = BitbucketHTTPError(error: error)
            self.init(
                code: wrapped.code, message: wrapped.message, details: wrapped.details.isEmpty ? nil : wrapped.details)
        case let error as any APIErrorConvertible:
            self.init(code: error.code, message: error.message, details: error.details.isEmpty ? nil : error.details)
        case let error as any PipewrightError:
            self.init(code: error.code, message: error.message, details: error.details.isEmpty ? nil : error.details)
        default:
            self.init(code: "internal_error", message: "Internal error.", details: nil)
        }
    }
}
