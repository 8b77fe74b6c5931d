/// What ``retry(policy:clock:classify:onRetry:operation:)`` does with one failure.
public enum RetryDecision: Sendable, Equatable {
    /// Try again (if attempts remain), waiting at least `retryAfter` when the server asked for it.
    case retry(retryAfter: Duration?)
    /// Give up now and rethrow the failure (e.g. 400, 401, 403, 404, 409).
    case stop

    /// Retry with no server-provided minimum delay.
    public static let retry = RetryDecision.retry(retryAfter: nil)
}
