import Foundation
import Vapor

/// `GET /metrics`: the Prometheus text exposition. Open unless `PIPEWRIGHT_METRICS_TOKEN` is set, in which
/// case the scraper must send `Authorization: Bearer <that token>` (401 otherwise).
struct MetricsController: RouteCollection {
    /// The scrape token, or `nil` for an open endpoint.
    let token: String?

    func boot(routes: any RoutesBuilder) throws {
        routes.get("metrics", use: scrape)
    }

    @Sendable func scrape(req: Request) async throws -> Response {
        if let token {
            guard let sent = req.headers.bearerAuthorization?.token, TokenHasher.constantTimeEquals(sent, token) else {
                throw AppError.unauthenticated
            }
        }
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: PipewrightMetrics.exposition()))
    }
}
