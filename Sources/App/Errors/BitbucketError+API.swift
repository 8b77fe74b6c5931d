import Bitbucket
import Foundation
import Vapor

/// HTTP rendering of the Bitbucket client's errors (docs/API.md "Errors": upstream failures are 502/504; the
/// codes `bitbucket_auth_failed`, `repository_not_found`, `branch_moved`). The domain error keeps its own
/// codes for logs and metrics; this wrapper decides what API clients see.
struct BitbucketHTTPError: APIErrorConvertible {
    let error: BitbucketError

    var status: HTTPResponseStatus {
        switch error {
        case .unauthorized, .forbidden, .badRequest, .upstream, .invalidResponse, .transport(.connection),
            .transport(.dnsFailure), .transport(.connectionRefused), .transport(.tlsError):
            .badGateway
        case .notFound: .notFound
        case .conflict: .conflict
        case .rateLimited: .serviceUnavailable
        case .transport(.timeout): .gatewayTimeout
        }
    }

    var code: String {
        switch error {
        case .unauthorized: "bitbucket_auth_failed"
        case .forbidden: "bitbucket_forbidden"
        case .notFound: "repository_not_found"
        case .conflict: "branch_moved"
        case .badRequest: "bitbucket_rejected"
        case .rateLimited: "bitbucket_rate_limited"
        case .upstream: "bitbucket_unavailable"
        case .transport(.timeout): "bitbucket_timeout"
        // `details.transport_error` says what happened (`dns_failure host=…`, `connection_refused …`, `tls_error …`).
        case .transport(.connection), .transport(.dnsFailure), .transport(.connectionRefused), .transport(.tlsError):
            "bitbucket_unreachable"
        case .invalidResponse: "bitbucket_invalid_response"
        }
    }

    var message: String {
        switch error {
        case .notFound(let message):
            "Bitbucket answered 404: the repository or path does not exist or is not visible to this connection (\(message))."
        case .conflict: "The branch moved on Bitbucket while the commit was prepared; nothing was changed. Try again."
        case .rateLimited: "Bitbucket's rate limit was hit and retries did not get through; try again later."
        default: error.message
        }
    }

    var details: [String: String] { error.details }

    var headers: HTTPHeaders {
        guard case .rateLimited(let retryAfter) = error else { return [:] }
        let seconds = max(1, Int(retryAfter?.components.seconds ?? 60))
        return ["Retry-After": String(seconds)]
    }
}
