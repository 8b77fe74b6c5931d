import Foundation

/// RFC 3339 timestamps (`2026-03-01T12:00:00Z`, `2026-03-01T12:00:00.123+02:00`) as Bitbucket sends
/// them and as API clients pass them in filters.
public enum RFC3339 {
    /// Parses an RFC 3339 date-time, with or without fractional seconds; `nil` for anything else.
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Parses a calendar day `YYYY-MM-DD` (UTC) strictly: `2026-02-30` is `nil`.
    ///
    /// - Returns: the first instant of that day in UTC.
    public static func parseDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        return date
    }
}
