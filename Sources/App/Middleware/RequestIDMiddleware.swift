import Foundation
import Logging
import PipewrightCore
import Vapor

/// Gives every request an id and writes one structured log line per request (docs/API.md "Security
/// headers and limits", request ids).
///
/// The id is the incoming `X-Request-ID` when it is safe (1-128 characters of `[A-Za-z0-9._-]`), else a
/// new random UUID. It is echoed in the `X-Request-ID` response header and set as `request_id` in
/// `req.logger`'s metadata, so every line logged for the request carries it. The request line holds
/// `method`, `route` (the route pattern such as `/api/ssh-keys/:keyID`, or the path without its query
/// string when no route matched), `status`, `duration_ms` (until the response head is ready; a streamed
/// body may take longer) and `request_id`. Query strings are never logged.
///
/// Installed first, so errors of inner middleware are rendered (the error envelope of docs/API.md "Errors")
/// before it logs them.
struct RequestIDMiddleware: AsyncMiddleware {
    /// `X-Request-ID`.
    static let header = HTTPHeaders.Name("X-Request-ID")
    /// Longest accepted incoming id.
    static let maxLength = 128

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let id = Self.acceptable(request.headers.first(name: Self.header)) ?? UUID().uuidString.lowercased()
        // Vapor adds its own `request-id`; one id per request is enough.
        request.logger[metadataKey: "request-id"] = nil
        request.logger[metadataKey: "request_id"] = .string(id)
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            response = APIErrorMiddleware.response(for: error, request: request)
        }
        response.headers.replaceOrAdd(name: Self.header, value: id)
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.milliseconds
        request.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue),
                "route": .string(Self.routeDescription(of: request)),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.1f", milliseconds)),
            ])
        return response
    }

    /// The incoming id when it is 1-128 characters of `[A-Za-z0-9._-]`.
    static func acceptable(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= maxLength else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
        return allowed ? value : nil
    }

    /// `/api/ssh-keys/:keyID` for a matched route, else the path (no query string, at most 200 characters).
    static func routeDescription(of request: Request) -> String {
        if let route = request.route {
            return "/" + route.path.map(\.description).joined(separator: "/")
        }
        let path = request.url.path
        let printable = String(
            String.UnicodeScalarView(
                path.unicodeScalars.prefix(200).map {
                    $0.properties.generalCategory == .control ? "?" : $0
                }))
        return printable
    }
}
