import Foundation
import Vapor

/// Counts every HTTP request by method, route pattern and status, and records its latency
/// (`pipewright_http_requests_total`, `pipewright_http_request_duration_seconds`).
///
/// The `route` label is the matched route's pattern (`/api/ssh-keys/:keyID`), never the raw path, so ids and
/// probing requests cannot create new time series; requests that match no route count as `unmatched`.
/// Installed outermost, after the error middleware has turned errors into responses, so error statuses
/// are counted as clients see them.
struct MetricsMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next.respond(to: request)
            record(request, status: Int(response.status.code), since: started)
            return response
        } catch {
            // Only reached when no inner middleware rendered the error; Vapor answers 500 then.
            record(request, status: Int((error as? any AbortError)?.status.code ?? 500), since: started)
            throw error
        }
    }

    private func record(_ request: Request, status: Int, since started: ContinuousClock.Instant) {
        PipewrightMetrics.httpRequest(
            method: request.method.rawValue, route: Self.routeLabel(request), status: status,
            duration: ContinuousClock.now - started)
    }

    /// `/api/ssh-keys/:keyID` for a matched route, `unmatched` otherwise.
    static func routeLabel(_ request: Request) -> String {
        guard let route = request.route else { return "unmatched" }
        return "/" + route.path.map(\.description).joined(separator: "/")
    }
}
