import Foundation
import NIOConcurrencyHelpers
import PipewrightCore
import Vapor

/// 503 `request_timeout`: the request ran longer than `PIPEWRIGHT_REQUEST_TIMEOUT`.
///
/// 503 rather than 504: the time ran out in this service (504 is kept for a Bitbucket or SSH server that
/// did not answer, docs/API.md "Errors"). Work already done (keys written to some servers) stays done; look at the
/// resource before retrying.
struct RequestTimeoutError: APIErrorConvertible {
    /// The configured bound.
    let timeout: Duration

    var status: HTTPResponseStatus { .serviceUnavailable }
    var code: String { "request_timeout" }
    var message: String { "The request took longer than \(Self.seconds(timeout)) s and was cancelled." }
    var details: [String: String] { ["timeout_s": Self.seconds(timeout)] }

    static func seconds(_ duration: Duration) -> String {
        let value = duration.seconds
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// Answers a request still running after `timeout` with `RequestTimeoutError` and cancels its work.
///
/// The rest of the chain runs in its own task: on timeout the response goes out at once and the work is
/// cancelled through `RequestCancellation` (routes registered via `cancellable()`; cooperatively: SSH
/// sessions are killed, database calls finish). Routes marked `Route.streaming()` (log ingestion, raw
/// download, SSE, WebSocket upgrades) are exempt: their bodies may legitimately run for hours. (A streamed
/// response body is written after the handler returned, outside the timed part, in any case.)
struct RequestTimeoutMiddleware: AsyncMiddleware {
    let timeout: Duration
    /// Where graceful shutdown finds requests to abort when its grace period is over.
    let inFlight: InFlightRequests

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.isStreamingExchange { return try await next.respond(to: request) }
        let timeout = self.timeout
        let race = Race()
        let scope = RequestCancellation()
        let work = RequestCancellation.$current.withValue(scope) {
            Task { try await next.respond(to: request) }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                race.install(continuation)
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    if race.finish(.failure(RequestTimeoutError(timeout: timeout))) {
                        request.logger.warning(
                            "request timed out; cancelling its work",
                            metadata: ["timeout_s": .string(RequestTimeoutError.seconds(timeout))])
                        scope.cancel()
                        work.cancel()
                    }
                }
                let key = ObjectIdentifier(race)
                inFlight.insert(key) {
                    if race.finish(.failure(ShuttingDownError())) {
                        scope.cancel()
                        work.cancel()
                    }
                }
                Task {
                    let result = await work.result
                    timer.cancel()
                    race.finish(result)
                    inFlight.remove(key)
                }
            }
        } onCancel: {
            scope.cancel()
            work.cancel()
        }
    }

    /// Resumes the continuation exactly once.
    private final class Race: Sendable {
        private let state = NIOLockedValueBox<(continuation: CheckedContinuation<Response, any Error>?, done: Bool)>(
            (nil, false))

        func install(_ continuation: CheckedContinuation<Response, any Error>) {
            state.withLockedValue { $0.continuation = continuation }
        }

        /// `true` when this call delivered the outcome.
        @discardableResult
        func finish(_ result: Result<Response, any Error>) -> Bool {
            let continuation: CheckedContinuation<Response, any Error>? = state.withLockedValue { state in
                guard !state.done, let continuation = state.continuation else { return nil }
                state.done = true
                state.continuation = nil
                return continuation
            }
            continuation?.resume(with: result)
            return continuation != nil
        }
    }
}
