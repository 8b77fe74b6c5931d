import Foundation

/// Finds the timestamp a CI tool printed near the start of a line.
///
/// The first 64 bytes of the ANSI-stripped line are searched for a date-time; the first one found is the
/// line's ``LogLine/timestamp``. Accepted forms (RFC 3339 §5.6 and the common relaxations CI tools print):
///
/// | Text | Parsed as |
/// |---|---|
/// | `2026-11-29T12:00:00Z` | RFC 3339, UTC |
/// | `2026-11-29T12:00:00.1234567Z` (GitHub Actions, Docker: up to 9 fraction digits) | UTC, fraction kept |
/// | `2026-11-29T13:00:00+01:00`, `…+0100`, `…-05:00` | offset applied (→ 12:00:00Z) |
/// | `2026-11-29 12:00:00`, `2026-11-29 12:00:00,123` (no zone: Python logging, Maven) | UTC |
/// | `[2026-11-29T12:00:00.000Z] step` (Jenkins) | UTC |
/// | `12:00:00`, `[12:00:00]` (bare time, no date) | not a timestamp: `nil` (the date is unknown) |
///
/// Ranges are validated (month 1–12, day 1–31, hour 0–23, minute 0–59, second 0–60; a leap second 60 is
/// read as 59.999…); anything else yields `nil`.
public enum TimestampParser {
    /// How far into the stripped line a timestamp may start, in bytes.
    public static let searchWindow = 64

    /// The timestamp in a line of text.
    ///
    /// - Parameter line: the line (ANSI escapes allowed; they are stripped first).
    /// - Returns: the parsed instant, or `nil` when the first 64 bytes hold none.
    public static func timestamp(in line: String) -> Date? {
        let stripped = ANSIStripper.strip(Array(line.utf8))
        return stripped.withUnsafeBufferPointer { seconds(in: $0) }.map { Date(timeIntervalSince1970: $0) }
    }

    @inline(__always)
    static func digit(_ c: UInt8) -> Int? {
        let d = c &- 0x30
        return d < 10 ? Int(d) : nil
    }

    /// Seconds since 1970 of the first timestamp in the first ``searchWindow`` bytes of a stripped line.
    static func seconds(in p: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let base = p.baseAddress else { return nil }
        let n = p.count
        guard n >= 19 else { return nil }
        let limit = min(n - 19, searchWindow)
        var i = 0
        while i <= limit {
            if base[i] &- 0x30 < 10, i == 0 || base[i - 1] &- 0x30 >= 10, base[i + 4] == UInt8(ascii: "-") {
                if let value = parse(base, i, n) { return value }
            }
            i += 1
        }
        return nil
    }

    @inline(__always)
    static func number(_ base: UnsafePointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        var value = 0
        for k in 0..<count {
            guard let d = digit(base[at + k]) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    static func parse(_ b: UnsafePointer<UInt8>, _ s: Int, _ n: Int) -> Double? {
        // YYYY-MM-DD?HH:MM:SS is 19 bytes; the caller guarantees s + 19 <= n.
        guard let year = number(b, s, 4), b[s + 4] == UInt8(ascii: "-"),
            let month = number(b, s + 5, 2), b[s + 7] == UInt8(ascii: "-"),
            let day = number(b, s + 8, 2)
        else { return nil }
        let separator = b[s + 10]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ") else {
            return nil
        }
        guard let hour = number(b, s + 11, 2), b[s + 13] == UInt8(ascii: ":"),
            let minute = number(b, s + 14, 2), b[s + 16] == UInt8(ascii: ":"),
            var second = number(b, s + 17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var fraction = 0.0
        var i = s + 19
        if i < n, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
            var scale = 0.1
            var j = i + 1
            while j < n, let d = digit(b[j]) {
                if j - i <= 9 {
                    fraction += Double(d) * scale
                    scale /= 10
                }
                j += 1
            }
            if j > i + 1 { i = j }
        }
        if second == 60 {
            second = 59
            fraction = 0.999_999
        }
        var offset = 0
        if i < n {
            let zone = b[i]
            if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
                if i + 6 <= n, let oh = number(b, i + 1, 2), b[i + 3] == UInt8(ascii: ":"), let om = number(b, i + 4, 2)
                {
                    offset = (oh * 3600 + om * 60) * (zone == UInt8(ascii: "+") ? 1 : -1)
                } else if i + 5 <= n, let oh = number(b, i + 1, 2), let om = number(b, i + 3, 2) {
                    offset = (oh * 3600 + om * 60) * (zone == UInt8(ascii: "+") ? 1 : -1)
                }
            }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let whole = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Double(whole) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
