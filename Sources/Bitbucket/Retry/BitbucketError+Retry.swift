import PipewrightCore

/// What a caller does after a Bitbucket request failed: the one retry rule of the project, used by the
/// client's own retries of idempotent requests (GET, PUT) and by the pipeline trigger (docs/API.md,
/// "Retries of Bitbucket requests", prints the same table).
///
/// | failure | handling | why |
/// |---|---|---|
/// | 429 | `retry` (never sooner than `Retry-After`) | rate limit: waiting helps |
/// | 5xx | `retryAfterLookup` | Bitbucket failed, possibly after acting on the request |
/// | timeout, broken connection | `retryAfterLookup` | the request may have arrived without an answer |
/// | DNS failure: temporary | `retry` | nothing was sent; the resolver may answer next time |
/// | DNS failure: name does not exist | `fail` | NXDOMAIN will not change by retrying |
/// | connection refused | `retry` | nothing was sent; the service may be restarting |
/// | TLS handshake failure | `retry` | nothing was sent; may be a transient middlebox |
/// | TLS certificate refused | `fail` | an expired, untrusted or wrong-name certificate stays refused |
/// | 2xx with an unreadable body | `retryAfterLookup` | the request most likely took effect |
/// | 400, 401, 403, 404, 409 | `fail` | the same request will be refused again |
/// | 410, 422, any other 4xx | `fail` | same |
/// | unexpected 3xx | `fail` | a redirect the client does not follow is a configuration problem |
public enum BitbucketFailureHandling: String, Sendable, Equatable, CaseIterable {
    /// Send the request again after the backoff delay.
    case retry
    /// Send it again after the backoff delay, but a non-idempotent request (a trigger's POST) first looks
    /// whether the failed attempt took effect, and adopts the result instead of repeating it.
    case retryAfterLookup = "retry_after_lookup"
    /// Stop: the request will not succeed as it is.
    case fail
}

extension BitbucketError {
    /// How a caller handles this failure (the table on ``BitbucketFailureHandling``).
    public var handling: BitbucketFailureHandling {
        switch self {
        case .rateLimited: .retry
        case .transport(.dnsFailure(_, let permanent)): permanent ? .fail : .retry
        case .transport(.tlsError(_, let certificate)): certificate ? .fail : .retry
        case .transport(.connectionRefused): .retry
        case .transport(.timeout), .transport(.connection), .invalidResponse: .retryAfterLookup
        case .upstream(let status, _): status >= 500 ? .retryAfterLookup : .fail
        case .unauthorized, .forbidden, .notFound, .conflict, .badRequest: .fail
        }
    }

    /// Whether the request may be sent again (``handling`` is not `fail`).
    public var isRetryable: Bool { handling != .fail }

    /// Whether the failed request may have taken effect: look before sending a non-idempotent one again.
    public var mayHaveTakenEffect: Bool { handling == .retryAfterLookup }

    /// The HTTP status Bitbucket answered with; `nil` when no response arrived, or when a success status
    /// carried an unreadable body.
    public var httpStatus: Int? {
        switch self {
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .badRequest: 400
        case .rateLimited: 429
        case .upstream(let status, _): status
        case .transport, .invalidResponse: nil
        }
    }

    /// The server's requested minimum wait, when it sent one (a floor for the backoff delay).
    public var retryAfter: Duration? {
        if case .rateLimited(let retryAfter) = self { return retryAfter }
        return nil
    }
}
