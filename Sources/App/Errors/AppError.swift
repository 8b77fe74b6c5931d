import Fluent
import Foundation
import PipewrightCore
import Vapor

/// Errors raised by the HTTP adapter itself (validation, auth, ownership, conflicts).
///
/// Messages are shown to clients: they name fields and limits, never secrets.
enum AppError: APIErrorConvertible, Equatable {
    /// 400: a field is missing or malformed.
    case invalidField(String, reason: String)
    /// 400: the body is not valid JSON of the expected shape.
    case invalidBody(reason: String)
    /// 401: no valid session cookie or bearer token.
    case unauthenticated
    /// 401: wrong username or password.
    case invalidCredentials
    /// 403: a cookie-authenticated state change without a matching `X-CSRF-Token`.
    case csrfTokenMissing
    /// 403: the user may not do this (admin only, …).
    case forbidden(String)
    /// 403: an admin reset the password; only `POST /api/auth/password` (and `me`, `logout`) until it changes.
    case passwordChangeRequired
    /// 403: the account is disabled (after a correct password, so it reveals nothing to a guesser).
    case accountDisabled
    /// 403: private-key export is disabled for this key or by configuration.
    case exportDisabled
    /// 422: well-formed but refers to something that does not exist or cannot be used.
    case unprocessable(String, reason: String)
    /// 404: unknown, or another user's, resource.
    case notFound(String)
    /// 409: another state-changing operation on the same resource is running.
    case operationInProgress(String)
    /// 413: body over the limit.
    case payloadTooLarge(limitBytes: Int)
    /// 414: request target (path and query) over the limit.
    case uriTooLong(limitBytes: Int)
    /// 431: header fields (names and values) over the limit.
    case headersTooLarge(limitBytes: Int)
    /// 503: not ready (database or master key).
    case notReady(String)

    var status: HTTPResponseStatus {
        switch self {
        case .invalidField, .invalidBody: .badRequest
        case .unauthenticated, .invalidCredentials: .unauthorized
        case .csrfTokenMissing, .forbidden, .exportDisabled, .passwordChangeRequired, .accountDisabled: .forbidden
        case .notFound: .notFound
        case .unprocessable: .unprocessableEntity
        case .operationInProgress: .conflict
        case .payloadTooLarge: .payloadTooLarge
        case .uriTooLong: .uriTooLong
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .notReady: .serviceUnavailable
        }
    }

    var code: String {
        switch self {
        case .invalidField: "invalid_field"
        case .invalidBody: "invalid_body"
        case .unauthenticated: "unauthenticated"
        case .invalidCredentials: "invalid_credentials"
        case .csrfTokenMissing: "csrf_token_invalid"
        case .forbidden: "forbidden"
        case .exportDisabled: "export_disabled"
        case .passwordChangeRequired: "password_change_required"
        case .accountDisabled: "account_disabled"
        case .notFound: "not_found"
        case .unprocessable: "invalid_reference"
        case .operationInProgress: "operation_in_progress"
        case .payloadTooLarge: "payload_too_large"
        case .uriTooLong: "uri_too_long"
        case .headersTooLarge: "request_header_fields_too_large"
        case .notReady: "not_ready"
        }
    }

    var message: String {
        switch self {
        case .invalidField(let field, let reason): "Invalid \(field): \(reason)."
        case .invalidBody(let reason): "The request body is not valid: \(reason)."
        case .unauthenticated: "Sign in or send an API token (Authorization: Bearer pw_…)."
        case .invalidCredentials: "Wrong username or password."
        case .csrfTokenMissing:
            "Missing or wrong CSRF token (the X-CSRF-Token header, or a dashboard form's csrf_token field) for a "
                + "cookie-authenticated request; reload the page and try again."
        case .forbidden(let why): why
        case .exportDisabled: "Private-key export is disabled for this key."
        case .passwordChangeRequired:
            "Your password was set by an admin (a new account or a reset): choose your own with POST /api/auth/password before "
                + "anything else."
        case .accountDisabled: "This account is disabled; ask an admin to enable it."
        case .notFound(let what): "\(what) not found."
        case .unprocessable(let field, let reason): "Invalid \(field): \(reason)."
        case .operationInProgress: "Another operation on this resource is in progress; retry when it has finished."
        case .payloadTooLarge(let limit): "The request body is larger than \(limit) bytes."
        case .uriTooLong(let limit): "The request target (path and query) is longer than \(limit) bytes."
        case .headersTooLarge(let limit): "The request header fields are larger than \(limit) bytes in total."
        case .notReady(let why): why
        }
    }

    var details: [String: String] {
        switch self {
        case .invalidField(let field, let reason), .unprocessable(let field, let reason):
            ["field": field, "reason": reason]
        case .operationInProgress(let resource): ["resource": resource]
        case .payloadTooLarge(let limit), .uriTooLong(let limit), .headersTooLarge(let limit):
            ["limit_bytes": String(limit)]
        default: [:]
        }
    }
}
