import Foundation
import Plot

/// Dates and durations as the dashboard shows them: UTC, `2026-12-06 14:03:22`, inside `<time datetime>`
/// so a script (or a reader) has the exact RFC 3339 value.
enum Formatting {
    static func timestamp(_ date: Date?) -> String {
        guard let date else { return "—" }
        return display.string(from: date)
    }

    static func rfc3339(_ date: Date) -> String { date.formatted(.iso8601) }

    /// `1.2 s`, `3 min 4 s`, `1 h 02 min`.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds >= 0 else { return "—" }
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }

    private static let display: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }()
}

extension Node where Context == HTML.BodyContext {
    /// `<time datetime="RFC 3339">2026-12-06 14:03:22</time>`, or `—`.
    static func time(_ date: Date?) -> Node {
        guard let date else { return .text("—") }
        return .raw(
            "<time datetime=\"\(Formatting.rfc3339(date))\">\(HTMLEscape.escape(Formatting.timestamp(date)))</time>")
    }

    /// A status badge: `<span class="badge status-<value>">value</span>`. Bitbucket's step states
    /// (`COMPLETED/SUCCESSFUL`) are coloured by their last part (`status-successful`).
    static func badge(_ value: String, _ extraClass: String = "") -> Node {
        let last = value.lowercased().split(separator: "/").last.map(String.init) ?? ""
        let name = String(last.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "_" })
        let classes = "badge status-\(name) \(extraClass)".trimmingCharacters(in: .whitespaces)
        return .span(.safeAttribute("class", classes), .safe(value))
    }

    /// An error paragraph announced to screen readers.
    static func alert(_ message: String?) -> Node {
        guard let message else { return .empty }
        return .p(.class("error"), .attribute(named: "role", value: "alert"), .safe(message))
    }
}
