import Foundation

/// How much of a log one query may examine: a wall-clock deadline (``LogQuery/regexBudget``), unlimited
/// (literal text queries), or, for tests, a number of lines per chunk (deterministic, whatever the machine's
/// speed and however the chunks are spread over threads).
///
/// Scanners ask for a slice of lines (≤ ``sliceLines``) before examining it; the budget grants all of it,
/// part of it (a line budget running out) or none (the deadline passed). Examining stops at the first
/// refusal, so the lines examined are always a prefix of what was asked for.
final class ScanBudget: @unchecked Sendable {
    // @unchecked: `remainingLines` is guarded by `lock`; the other fields are immutable.

    /// Most lines examined between two checks of the clock (≈ 0.1 ms of PCRE2 matching, 2 ms of ICU's).
    static let sliceLines = 1024

    /// When matching must stop; `nil` for none.
    let deadline: ContinuousClock.Instant?
    /// The budget a timeout reports.
    let duration: Duration
    /// Lines each chunk may examine; `nil` for no such limit.
    private let linesPerChunk: Int?
    private let lock = NSLock()
    private var refused = false

    private init(deadline: ContinuousClock.Instant?, duration: Duration, lines: Int?) {
        self.deadline = deadline
        self.duration = duration
        linesPerChunk = lines
    }

    /// No limit.
    static func unlimited() -> ScanBudget { ScanBudget(deadline: nil, duration: .zero, lines: nil) }

    /// Until `duration` from now.
    static func time(_ duration: Duration) -> ScanBudget {
        ScanBudget(deadline: ContinuousClock.now.advanced(by: duration), duration: duration, lines: nil)
    }

    /// At most `lines` lines examined in each chunk of the scan (tests; the first chunk always gets them).
    static func lines(_ lines: Int) -> ScanBudget { ScanBudget(deadline: nil, duration: .zero, lines: max(0, lines)) }

    /// How many of the next `lines` lines of a chunk that has examined `examined` lines may be examined.
    func grant(_ lines: Int, examined: Int) -> Int {
        if let deadline, ContinuousClock.now >= deadline {
            lock.withLock { refused = true }
            return 0
        }
        guard let linesPerChunk else { return lines }
        let granted = max(0, min(lines, linesPerChunk - examined))
        if granted < lines { lock.withLock { refused = true } }
        return granted
    }

    /// Records that a line could not be decided in time (a catastrophic pattern on one line).
    func markSpent() { lock.withLock { refused = true } }

    /// Whether the budget has refused lines (so the scan stopped early).
    var isSpent: Bool { lock.withLock { refused } }

    /// Whether the deadline has passed (for the engines' own in-line checks).
    var isPastDeadline: Bool {
        guard let deadline else { return false }
        return ContinuousClock.now >= deadline
    }
}
