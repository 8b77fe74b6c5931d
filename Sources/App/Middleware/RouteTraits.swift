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
    /// The matched route is marked `streaming()`: exempt from body limit and request timeout.
    ///
    /// Only the route decides (never a request header a client could add to dodge the limits).
    var isStreamingExchange: Bool {
        route?.isStreaming == true
    }
}
