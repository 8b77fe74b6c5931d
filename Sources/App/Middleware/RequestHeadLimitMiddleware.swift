import Foundation
import Vapor

/// Refuses oversized request heads with the error envelope (docs/API.md "Security headers and limits";
/// issue 12 item 11): a request target (path and query) over ``maximumTargetBytes`` → 414 `uri_too_long`,
/// header fields over ``maximumHeaderBytes`` in total → 431 `request_header_fields_too_large`, both with
/// `details.limit_bytes`. Nothing else of the request is looked at.
///
/// The limits sit well below the HTTP parser's own ceiling (SwiftNIO's `HTTPRequestDecoder`: 80 KiB per
/// field and 80 KiB for all fields), which Vapor 4 does not let an application change or answer: a head
/// over *that* still makes the parser close the connection without a response. Everything between these
/// limits and the parser's gets a proper answer.
struct RequestHeadLimitMiddleware: AsyncMiddleware {
    /// Largest accepted request target, in bytes (`/api/…?…` as sent).
    static let maximumTargetBytes = 8 * 1024
    /// Largest accepted header block, in bytes: every field's name and value plus 4 (`": "` and CRLF).
    static let maximumHeaderBytes = 32 * 1024

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.url.string.utf8.count > Self.maximumTargetBytes {
            throw AppError.uriTooLong(limitBytes: Self.maximumTargetBytes)
        }
        let headerBytes = request.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        if headerBytes > Self.maximumHeaderBytes {
            throw AppError.headersTooLarge(limitBytes: Self.maximumHeaderBytes)
        }
        return try await next.respond(to: request)
    }
}
