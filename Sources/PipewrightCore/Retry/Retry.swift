/// Runs `operation` until it succeeds, `classify` says stop, or `policy.maxAttempts` is used up,
/// sleeping on `clock` between attempts as ``RetryPolicy/delay(beforeAttempt:retryAfter:random:)`` says.
///
/// ```swift
/// let user = try await retry(policy: policy, clock: ContinuousClock(), classify: { error in
///     error.isRetryable ? .retry(retryAfter: error.retryAfter) : .stop
/// }) { attempt in try await client.currentUser() }
/// ```
///
/// Cancellation: the task is checked before every attempt and the pause is a cancellable
/// `clock.sleep`. Because the error type is the operation's own (`Failure`), a cancelled task ends the
/// loop by rethrowing the **last failure** instead of `CancellationError`; callers that care check
/// `Task.isCancelled`.
///
/// - Parameters:
///   - policy: attempts, backoff, cap and jitter.
///   - clock: the clock to sleep on (inject a test clock to run without real waiting).
///   - random: the jitter source.
///   - classify: decides per failure whether to retry and with which server minimum delay.
///   - onRetry: called before each pause with the failed attempt number (1-based), its failure and the
///     pause about to be taken (for logging or recording `next_retry_at`).
///   - operation: one attempt; receives the attempt number, 1-based.
/// - Returns: the first successful result.
/// - Throws: the last `Failure` when attempts are exhausted, `classify` returned `.stop`, or the task
///   was cancelled.
public func retry<Success, Failure: Error>(
    policy: RetryPolicy,
    clock: any Clock<Duration>,
    random: inout some RandomNumberGenerator,
    classify: (Failure) -> RetryDecision,
    onRetry: (_ attempt: Int, _ failure: Failure, _ delay: Duration) async -> Void = { _, _, _ in },
    operation: (_ attempt: Int) async throws(Failure) -> Success
) async throws(Failure) -> Success {
    var attempt = 1
    while true {
        let failure: Failure
        do throws(Failure) {
            return try await operation(attempt)
        } catch {
            failure = error
        }
        guard case .retry(let retryAfter) = classify(failure), policy.allowsAttempt(after: attempt),
            !Task.isCancelled
        else { throw failure }
        let pause = policy.delay(beforeAttempt: attempt, retryAfter: retryAfter, random: &random)
        await onRetry(attempt, failure, pause)
        do {
            try await sleep(on: clock, for: pause)
        } catch {
            throw failure
        }
        attempt += 1
    }
}

/// ``retry(policy:clock:random:classify:onRetry:operation:)`` with the system random generator.
///
/// - Throws: the last `Failure` (see the full overload).
public func retry<Success, Failure: Error>(
    policy: RetryPolicy,
    clock: any Clock<Duration>,
    classify: (Failure) -> RetryDecision,
    onRetry: (_ attempt: Int, _ failure: Failure, _ delay: Duration) async -> Void = { _, _, _ in },
    operation: (_ attempt: Int) async throws(Failure) -> Success
) async throws(Failure) -> Success {
    var random = SystemRandomNumberGenerator()
    return try await retry(
        policy: policy, clock: clock, random: &random, classify: classify, onRetry: onRetry,
        operation: operation)
}

/// Sleeps `duration` on an existential clock (opened generically).
private func sleep<C: Clock>(on clock: C, for duration: Duration) async throws where C.Duration == Duration {
    guard duration > .zero else { return }
    try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil)
}
