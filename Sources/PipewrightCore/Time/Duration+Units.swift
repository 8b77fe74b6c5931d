extension Duration {
    /// The duration in seconds as a floating-point number (`.milliseconds(1500)` → `1.5`).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in milliseconds as a floating-point number (`.seconds(2)` → `2000.0`).
    public var milliseconds: Double { seconds * 1000 }

    /// The duration in whole nanoseconds, truncated, clamped to `0...Int64.max` (negative durations give 0).
    ///
    /// For APIs that take integer nanoseconds (NIO's `TimeAmount`, `Int64.random(in:)` draws).
    public var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? 0 : Int64.max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? Int64.max : max(0, total)
    }

    /// Whole seconds rounded up (`.milliseconds(1001)` → 2), for settings that only take seconds.
    public var wholeSecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        return seconds + (attoseconds > 0 ? 1 : 0)
    }
}
