import Foundation
import Vapor

/// Rejects request bodies over `limit` bytes with 413 `payload_too_large` (docs/API.md "Security headers
/// and limits"), `details: {"limit_bytes": "1048576"}`.
///
/// - A declared `Content-Length` over the limit is rejected before any byte of the body is read.
/// - A chunked body is collected by Vapor with `app.routes.defaultMaxBodySize = limit + 1`: collection stops
///   keeping bytes at the first chunk that passes the limit (Vapor's check is `total >= max`, hence the
///   `+ 1`, so a body of exactly `limit` bytes is accepted); the rest of the upload is read and dropped.
///   Vapor's bare `Abort(.payloadTooLarge)` is turned into the envelope with the limit here.
/// - Routes marked `streaming()` (log ingestion; mark SSE and WebSocket routes too) are exempt: they stream.
struct BodyLimitMiddleware: AsyncMiddleware {
    /// Largest accepted body in bytes.
    let limit: Int

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.isStreamingExchange { return try await next.respond(to: request) }
        if let declared = request.headers.first(name: .contentLength), let length = Int(declared), length > limit {
            throw AppError.payloadTooLarge(limitBytes: limit)
        }
        if let collected = request.body.data, collected.readableBytes > limit {
            throw AppError.payloadTooLarge(limitBytes: limit)
        }
        do {
            return try await next.respond(to: request)
        } catch let error as any AbortError where error.status == .payloadTooLarge && !(error is AppError) {
            throw AppError.payloadTooLarge(limitBytes: limit)
        }
    }
}
