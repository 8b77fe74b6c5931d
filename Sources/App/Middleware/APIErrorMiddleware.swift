import Bitbucket
import Fluent
import FluentKit
import Foundation
import NIOHTTP1
import PipewrightCore
import Vapor

/// Renders every error as the envelope `{"error": {"code", "message", "details"}}` (docs/API.md "Errors").
///
/// Replaces `ErrorMiddleware.default`, which puts `String(describing: error)` into bodies outside release
/// builds (a way for a secret to leak). Unknown errors become 500 `internal_error` with a fixed message;
/// they are logged with the request id, clients see nothing of them.
struct APIErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            // A browser's request for a path no route has (a mistyped dashboard URL) gets the dashboard's
            // HTML error page; API paths and other clients keep the JSON envelope.
            if request.route == nil, !request.url.path.hasPrefix("/api/"),
                request.headers[.accept].contains(where: { $0.contains("text/html") })
            {
                return DashboardErrorPage.response(for: error, request: request)
            }
            return Self.response(for: error, request: request)
        }
    }

    /// The envelope for `error`.
    static func response(for error: any Error, request: Request) -> Response {
        let rendered = render(error)
        if rendered.status.code >= 500 {
            request.logger.error(
                "request failed",
                metadata: [
                    "error_type": "\(type(of: error))", "code": "\(rendered.code)",
                    "error": "\(String(reflecting: error).prefix(300))",
                ])
        } else {
            request.logger.debug("request rejected", metadata: ["code": "\(rendered.code)"])
        }
        var headers = HTTPHeaders()
        headers.contentType = .json
        headers.add(contentsOf: rendered.headers)
        if rendered.status == .tooManyRequests || rendered.status == .serviceUnavailable,
            !headers.contains(name: .retryAfter)
        {
            headers.replaceOrAdd(name: .retryAfter, value: "1")
        }
        let body = ErrorEnvelope(
            error: .init(code: rendered.code, message: rendered.message, details: rendered.details))
        let data =
            (try? JSONEncoder().encode(body))
            ?? Data(#"{"error":{"code":"internal_error","message":"Internal error.","details":{}}}"#.utf8)
        return Response(status: rendered.status, headers: headers, body: .init(data: data))
    }

    struct Rendered {
        var status: HTTPResponseStatus
        var code: String
        var message: String
        var details: [String: String]
        var headers: HTTPHeaders = [:]
    }

    static func render(_ error: any Error) -> Rendered {
        switch error {
        case let error as BitbucketError:
            return render(BitbucketHTTPError(error: error))
        case let error as any APIErrorConvertible:
            return Rendered(
                status: error.status, code: error.code, message: error.message, details: error.details,
                headers: error.headers)
        case let error as DecodingError:
            return Rendered(
                status: .badRequest, code: "invalid_body", message: describe(error),
                details: ["path": codingPath(of: error)])
        case let error as any AbortError
        where error.status == .unprocessableEntity || error.status == .unsupportedMediaType:
            // Vapor's own "no body / not JSON" rejections of content decoding.
            return Rendered(
                status: .badRequest, code: "invalid_body",
                message: "The request needs a JSON object body (Content-Type: application/json).", details: [:])
        case let error as any AbortError:
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .payloadTooLarge: code = "payload_too_large"
            case .unsupportedMediaType: code = "unsupported_media_type"
            case .badRequest: code = "bad_request"
            case .unauthorized: code = "unauthenticated"
            case .forbidden: code = "forbidden"
            case .tooManyRequests: code = "rate_limited"
            default: code = error.status.code >= 500 ? "internal_error" : "request_error"
            }
            let message = error.status.code >= 500 ? "Internal error." : sanitizedReason(error)
            return Rendered(status: error.status, code: code, message: message, details: [:], headers: error.headers)
        case is HTTPParserError:
            // The client closed the connection in the middle of its body, or sent a malformed one.
            return Rendered(
                status: .badRequest, code: "bad_request",
                message: "The request could not be read to its end (the body was cut off or malformed).",
                details: [:])
        case let error as any DatabaseError where error.isConstraintFailure:
            return Rendered(
                status: .conflict, code: "conflict", message: "The resource conflicts with an existing one.",
                details: [:])
        case let error where DatabaseReachability.isUnreachable(error):
            // The database is down or restarting (docs/scaling.md "Limits"): not the client's fault, not a bug.
            return Rendered(
                status: .serviceUnavailable, code: "not_ready",
                message: "The database cannot be reached; try again shortly.", details: [:],
                headers: ["Retry-After": "5"])
        default:
            return Rendered(
                status: .internalServerError, code: "internal_error", message: "Internal error.", details: [:])
        }
    }

    /// Vapor's own abort reasons (routing, body collection, content type) are fixed strings without input.
    private static func sanitizedReason(_ error: any AbortError) -> String {
        let reason = error.reason
        return reason.count > 300 ? String(reason.prefix(300)) : reason
    }

    private static func codingPath(of error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            path = context.codingPath
        @unknown default:
            path = []
        }
        var keys = path.map { $0.intValue.map(String.init) ?? snakeCase($0.stringValue) }
        if case .keyNotFound(let key, _) = error { keys.append(snakeCase(key.stringValue)) }
        return keys.joined(separator: ".")
    }

    /// `keyType` → `key_type`, as clients spell fields (the decoder converts from snake_case).
    static func snakeCase(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                if !result.isEmpty { result.append("_") }
                result.append(contentsOf: character.lowercased())
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func describe(_ error: DecodingError) -> String {
        let path = codingPath(of: error)
        let field = path.isEmpty ? "body" : "'\(path)'"
        switch error {
        case .keyNotFound: return "Missing required field \(field)."
        case .typeMismatch(let type, _): return "Field \(field) has the wrong type (expected \(typeName(type)))."
        case .valueNotFound(let type, _): return "Field \(field) must not be null (expected \(typeName(type)))."
        case .dataCorrupted: return path.isEmpty ? "The body is not valid JSON." : "Field \(field) is not valid."
        @unknown default: return "The body is not valid."
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Int64.Type: "integer"
        case is Double.Type: "number"
        case is Bool.Type: "boolean"
        default:
            String(describing: type).hasPrefix("Array") ? "array" : "object"
        }
    }
}

/// The error body of docs/API.md "Errors".
struct ErrorEnvelope: Codable, Sendable {
    struct Body: Codable, Sendable {
        var code: String
        var message: String
        var details: [String: String]
    }

    var error: Body
}
