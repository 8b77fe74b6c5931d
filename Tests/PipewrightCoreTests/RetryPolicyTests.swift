import Foundation
import PipewrightCore
import PipewrightTesting
import Testing

@Suite struct RetryPolicyTests {
    @Test func ceiling_doublesFromTwiceBase_untilCap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .seconds(1), cap: .seconds(20))
        let table: [(Int, Duration)] = [
            (0, .seconds(1)), (1, .seconds(2)), (2, .seconds(4)), (3, .seconds(8)),
            (4, .seconds(16)), (5, .seconds(20)), (6, .seconds(20)),
        ]
        for (n, expected) in table {
            #expect(policy.ceiling(afterAttempts: n) == expected, "n = \(n)")
        }
    }

    @Test func delay_noJitter_isTheCeiling() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(500), cap: .seconds(60), jitter: .none)
        var random = SplitMix64(seed: 1)
        let delays = (1...5).map { policy.delay(beforeAttempt: $0, retryAfter: nil, random: &random) }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])
    }

    @Test func delay_fullJitter_isUniformBetweenZeroAndCeiling() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: .seconds(1), cap: .seconds(60))
        var random = SplitMix64(seed: 42)
        for n in 1...5 {
            let ceiling = Duration.seconds(1 << n)
            let draws = (0..<2_000).map { _ in policy.delay(beforeAttempt: n, retryAfter: nil, random: &random) }
            #expect(draws.allSatisfy { $0 >= .zero && $0 <= ceiling }, "n = \(n)")
            // Full jitter spreads over the whole range, not just near the ceiling.
            #expect(draws.contains { $0 < ceiling / 10 }, "n = \(n)")
            #expect(draws.contains { $0 > ceiling * 9 / 10 }, "n = \(n)")
            let mean = draws.reduce(Duration.zero, +) / draws.count
            #expect(mean > ceiling * 4 / 10 && mean < ceiling * 6 / 10, "n = \(n)")
        }
    }

    @Test func delay_isCapped() {
        let policy = RetryPolicy(maxAttempts: 20, baseDelay: .seconds(1), cap: .seconds(30))
        var random = SplitMix64(seed: 7)
        for _ in 0..<500 {
            #expect(policy.delay(beforeAttempt: 12, retryAfter: nil, random: &random) <= .seconds(30))
        }
    }

    @Test func delay_retryAfterLonger_isTheFloor() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), cap: .seconds(10))
        var random = SplitMix64(seed: 3)
        for n in 1...4 {
            // Even above the cap: the server's Retry-After wins.
            #expect(policy.delay(beforeAttempt: n, retryAfter: .seconds(45), random: &random) == .seconds(45))
        }
    }

    @Test func delay_retryAfterShorter_doesNotShorten() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), cap: .seconds(60), jitter: .none)
        var random = SplitMix64(seed: 3)
        #expect(policy.delay(beforeAttempt: 3, retryAfter: .seconds(1), random: &random) == .seconds(8))
    }

    @Test func ceiling_hugeAttemptNumber_doesNotOverflow() {
        let policy = RetryPolicy(maxAttempts: .max, baseDelay: .seconds(1), cap: .seconds(300))
        #expect(policy.ceiling(afterAttempts: 10_000) == .seconds(300))
        #expect(policy.ceiling(afterAttempts: .max) == .seconds(300))
    }

    @Test func init_clampsNonsense() {
        let policy = RetryPolicy(maxAttempts: 0, baseDelay: .seconds(-1), cap: .seconds(-5))
        #expect(policy.maxAttempts == 1)
        #expect(policy.ceiling(afterAttempts: 3) == .zero)
        #expect(!policy.allowsAttempt(after: 1))
    }

    @Test func retry_succeedsAfterTwoFailures_sleepingBetweenAttempts() async throws {
        let clock = ImmediateClock()
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), cap: .seconds(60), jitter: .none)
        var attempts: [Int] = []
        let value = try await retry(policy: policy, clock: clock, classify: { (_: TestFailure) in .retry }) {
            (attempt: Int) async throws(TestFailure) -> String in
            attempts.append(attempt)
            if attempt < 3 { throw TestFailure(id: attempt) }
            return "ok"
        }
        #expect(value == "ok")
        #expect(attempts == [1, 2, 3])
        #expect(clock.sleeps == [.seconds(2), .seconds(4)])
    }

    @Test func retry_nonRetryableFailure_stopsAtOnce() async {
        let clock = ImmediateClock()
        let policy = RetryPolicy(maxAttempts: 5, cap: .seconds(60))
        var attempts = 0
        await #expect(throws: TestFailure(id: 1)) {
            try await retry(policy: policy, clock: clock, classify: { (_: TestFailure) in .stop }) {
                (attempt: Int) async throws(TestFailure) -> Void in
                attempts += 1
                throw TestFailure(id: attempt)
            }
        }
        #expect(attempts == 1)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func retry_exhaustsAttempts_rethrowsLastFailure() async {
        let clock = ImmediateClock()
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(100), cap: .seconds(1))
        var reported: [Int] = []
        await #expect(throws: TestFailure(id: 4)) {
            try await retry(
                policy: policy, clock: clock, classify: { (_: TestFailure) in .retry },
                onRetry: { attempt, _, _ in reported.append(attempt) }
            ) { (attempt: Int) async throws(TestFailure) -> Void in
                throw TestFailure(id: attempt)
            }
        }
        #expect(reported == [1, 2, 3])
        #expect(clock.sleeps.count == 3)
        #expect(clock.sleeps.allSatisfy { $0 <= .seconds(1) })
    }

    @Test func retry_honoursRetryAfterFromClassifier() async throws {
        let clock = ImmediateClock()
        let policy = RetryPolicy(maxAttempts: 2, baseDelay: .seconds(1), cap: .seconds(2))
        _ = try await retry(
            policy: policy, clock: clock, classify: { (_: TestFailure) in .retry(retryAfter: .seconds(30)) }
        ) {
            (attempt: Int) async throws(TestFailure) -> Int in
            if attempt == 1 { throw TestFailure(id: 1) }
            return attempt
        }
        #expect(clock.sleeps == [.seconds(30)])
    }
}

private struct TestFailure: Error, Equatable { var id: Int }
