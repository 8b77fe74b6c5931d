import Foundation

/// Small charts as inline SVG markup, drawn in Swift (no chart library, no script): horizontal bars with
/// labels and values. Colours come from CSS classes (`bar`, `bar err`); every label is escaped.
enum SVGChart {
    struct Bar: Sendable, Equatable {
        var label: String
        var value: Double
        /// Text after the bar (e.g. "1,204 lines").
        var caption: String
        /// An extra class for the bar (`err` paints it as an error).
        var tone: String = ""
    }

    /// A horizontal bar chart, one row per bar, scaled to the largest value.
    ///
    /// - Parameters:
    ///   - title: the accessible name (`<title>` and `aria-label`).
    ///   - bars: rows in display order.
    /// - Returns: `<svg …>…</svg>`, `role="img"`, 360 px wide, 22 px per row.
    static func bars(title: String, _ bars: [Bar]) -> String {
        let rowHeight = 22
        let width = 360
        let labelWidth = 120
        let barSpace = 150
        let height = max(bars.count, 1) * rowHeight + 4
        let maximum = bars.map(\.value).max() ?? 0
        var svg =
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" "
            + "width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(HTMLEscape.escape(title))\">"
            + "<title>\(HTMLEscape.escape(title))</title>"
        for (index, bar) in bars.enumerated() {
            let y = index * rowHeight + 2
            let length = maximum > 0 ? max(bar.value > 0 ? 2 : 0, Int((bar.value / maximum) * Double(barSpace))) : 0
            let label = bar.label.count > 18 ? String(bar.label.prefix(17)) + "…" : bar.label
            svg += "<text class=\"label\" x=\"0\" y=\"\(y + 15)\">\(HTMLEscape.escape(label))</text>"
            svg +=
                "<rect class=\"\(HTMLEscape.escape(("bar " + bar.tone).trimmingCharacters(in: .whitespaces)))\" "
                + "x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(length)\" height=\"14\" rx=\"2\"/>"
            svg +=
                "<text class=\"value\" x=\"\(labelWidth + length + 6)\" y=\"\(y + 15)\">"
                + "\(HTMLEscape.escape(bar.caption))</text>"
        }
        return svg + "</svg>"
    }
}
