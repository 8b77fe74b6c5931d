import Vapor

extension Route {
    /// Marks a route whose request or response body streams (log ingestion, raw log download, SSE,
    /// WebSocket upgrades): `BodyLimitMiddleware` and `RequestTimeoutMiddleware` leave it alone.
    ///
    /// - Returns: `self`, for chaining after `routes.on(…)`.
    @discardableResult
    public func streaming() -> Route {
        userInfo["pipewright.streaming"] = true
        return self
    }

    /// Whether `streaming()` was called on the route.
    public var isStreaming: Bool {
        (userInfo["pipewright.streaming"] as? Bool) == true
    }
}

extension Request {
    /// A streaming route, a WebSocket upgrade or an SSE request: exempt from body limit and timeout.
    var isStreamingExchange: Bool {
        if route?.isStreaming == true { return true }
        if headers.first(name: .upgrade)?.lowercased() == "websocket" { return true }
        if headers[.accept].contains(where: { $0.lowercased().contains("text/event-stream") }) { return true }
        return false
    }
}
