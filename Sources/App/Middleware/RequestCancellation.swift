import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Carries "cancel this request's work" from `RequestTimeoutMiddleware` to the route handler.
///
/// Vapor runs every middleware layer and the route closure in a new unstructured task
/// (`promise.completeWithTask`), so cancelling the middleware's task never reaches the handler. The
/// middleware therefore puts a `RequestCancellation` into a task-local value (inherited by those tasks),
/// and routes registered through `RoutesBuilder.cancellable()` run their handler in a task that this
/// scope cancels: SSH sessions are killed, sleeps and HTTP calls end.
final class RequestCancellation: Sendable {
    /// The scope of the request being handled (set by `RequestTimeoutMiddleware`).
    @TaskLocal static var current: RequestCancellation?

    private let state = NIOLockedValueBox<(cancelled: Bool, handlers: [@Sendable () -> Void])>((false, []))

    /// Whether `cancel()` was called.
    var isCancelled: Bool { state.withLockedValue { $0.cancelled } }

    /// Runs every registered handler once; later registrations run at once.
    func cancel() {
        let handlers = state.withLockedValue { state -> [@Sendable () -> Void] in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            defer { state.handlers = [] }
            return state.handlers
        }
        for handler in handlers { handler() }
    }

    /// Calls `handler` on `cancel()` (immediately when already cancelled).
    func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLockedValue { state -> Bool in
            if state.cancelled { return true }
            state.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}

/// Runs a route's own responder in a task that the request's `RequestCancellation` can cancel.
struct CancellableResponder: AsyncResponder {
    let base: any Responder

    func respond(to request: Request) async throws -> Response {
        guard let scope = RequestCancellation.current else { return try await call(request) }
        let inner = Task { try await call(request) }
        scope.onCancel { inner.cancel() }
        return try await withTaskCancellationHandler {
            try await inner.value
        } onCancel: {
            inner.cancel()
        }
    }

    private func call(_ request: Request) async throws -> Response {
        if let async = base as? any AsyncResponder { return try await async.respond(to: request) }
        return try await base.respond(to: request).get()
    }
}

/// Wraps each route's handler in `CancellableResponder` before outer groups add their middleware.
struct CancellableRoutesBuilder: RoutesBuilder {
    let base: any RoutesBuilder

    func add(_ route: Route) {
        route.responder = CancellableResponder(base: route.responder)
        base.add(route)
    }
}

extension RoutesBuilder {
    /// A builder whose routes' handlers are cancelled when their request times out
    /// (`PIPEWRIGHT_REQUEST_TIMEOUT`). Call it last, after `grouped(middleware)`, so the wrapping is innermost.
    func cancellable() -> any RoutesBuilder {
        CancellableRoutesBuilder(base: self)
    }
}
