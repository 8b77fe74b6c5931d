import Foundation
import LogStore

/// Renders stored log lines as HTML: the one renderer for the execution page's first window, the windows
/// fetched while scrolling, search results and live lines (docs/dashboard.md "Log viewer").
///
/// Colours and attributes come from ``StyledLine`` (SGR, ECMA-48 §8.3.117) and become CSS classes
/// (`f0`–`f255` foreground, `b0`–`b255` background, `sb` bold, `sd` dim, `si` italic, `su` underline, `ss`
/// strikethrough; ``ANSIPalette`` writes their rules), never inline styles (the pages' Content-Security-Policy
/// allows none). A `\r` progress line shows its last segment. Highlights (UTF-16 offsets into
/// ``LogLine/plainText``, as the API returns them) become `<mark>`. Every text goes through
/// ``HTMLEscape/escape(_:)``.
enum LogLineHTML {
    /// One line as a row:
    /// `<div class="ln [lv-error] [cont] [ctx]" id="L<seq>" data-seq data-step><a class="no" href="#L<seq>">seq</a>`
    /// `<span class="ts">HH:mm:ss</span><span class="tx">…</span></div>`.
    ///
    /// - Parameters:
    ///   - line: the stored line.
    ///   - stepIndex: the step's position in the execution (for `data-step`), or `nil`.
    static func row(_ line: LogLine) -> String {
        var classes = "ln"
        if let level = line.level { classes += " lv-\(level.rawValue.lowercased())" }
        if line.isContinuation { classes += " cont" }
        if line.isContext { classes += " ctx" }
        let time = line.timestamp.map { timeFormatter.string(from: $0) } ?? ""
        return "<div class=\"\(classes)\" id=\"L\(line.seq)\" data-seq=\"\(line.seq)\" data-step=\""
            + HTMLEscape.escape(line.step) + "\"><a class=\"no\" href=\"#L\(line.seq)\">\(line.seq)</a>"
            + "<span class=\"ts\">\(time)</span><span class=\"tx\">" + text(line) + "</span></div>"
    }

    /// The rows of `lines`, concatenated.
    static func rows(_ lines: [LogLine]) -> String {
        var html = ""
        html.reserveCapacity(lines.count * 120)
        for line in lines { html += row(line) }
        return html
    }

    /// The displayed text of one line: styled spans and `<mark>`ed highlights, escaped.
    static func text(_ line: LogLine) -> String {
        text(StyledLine.parse(line.bytes), highlights: line.highlights)
    }

    /// The displayed part of `styled` (from ``StyledLine/displayStart``), with `highlights` (UTF-16 offsets
    /// into the joined run texts) marked.
    static func text(_ styled: StyledLine, highlights: [LogHighlight]) -> String {
        var html = ""
        var offset = 0
        let marks = highlights.filter { $0.end > $0.start }.sorted { $0.start < $1.start }
        for run in styled.runs {
            let length = run.text.utf16.count
            defer { offset += length }
            let runEnd = offset + length
            guard runEnd > styled.displayStart, run.text != "\r" else { continue }
            let visibleStart = max(offset, styled.displayStart)
            // Cut the run at highlight boundaries.
            var cuts: [Int] = [visibleStart, runEnd]
            for mark in marks where mark.end > visibleStart && mark.start < runEnd {
                cuts.append(max(mark.start, visibleStart))
                cuts.append(min(mark.end, runEnd))
            }
            cuts = Array(Set(cuts)).sorted()
            let units = Array(run.text.utf16)
            let classes = classNames(run.style)
            for (start, end) in zip(cuts, cuts.dropFirst()) where end > start {
                let piece = String(decoding: units[(start - offset)..<(end - offset)], as: UTF16.self)
                let marked = marks.contains { $0.start <= start && $0.end >= end }
                var fragment = HTMLEscape.escape(piece)
                if marked { fragment = "<mark>" + fragment + "</mark>" }
                html += classes.isEmpty ? fragment : "<span class=\"\(classes)\">" + fragment + "</span>"
            }
        }
        return html
    }

    /// The CSS classes of a style (empty for the default style).
    static func classNames(_ style: TerminalStyle) -> String {
        guard !style.isPlain else { return "" }
        var names: [String] = []
        if let foreground = style.foreground { names.append("f\(foreground)") }
        if let background = style.background { names.append("b\(background)") }
        if style.bold { names.append("sb") }
        if style.dim { names.append("sd") }
        if style.italic { names.append("si") }
        if style.underline { names.append("su") }
        if style.strikethrough { names.append("ss") }
        return names.joined(separator: " ")
    }

    private static let timeFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss"
        return formatter
    }()
}

/// CSS rules for the 256 terminal colours the log renderer's classes name (xterm's palette), tuned for the
/// dark console: colours too dark to read on it (black, dark grey, the darkest cube and grey-ramp entries)
/// are lifted to a minimum lightness, so `ESC[30m` text stays readable.
enum ANSIPalette {
    /// The console background (also in dashboard.css, `--console-bg`).
    static let consoleBackground = (r: 0x0d, g: 0x11, b: 0x17)

    /// `.f<n>{color:#…}` and `.b<n>{background:#…}` for n in 0…255.
    static func css() -> String {
        var css = "/* Terminal colours (generated by ANSIPalette, Sources/App/Dashboard/Shared/LogLineHTML.swift) */\n"
        for index in 0..<256 {
            let colour = rgb(index)
            let readable = lifted(colour)
            css += ".f\(index){color:\(hex(readable))}.b\(index){background:\(hex(colour))}\n"
        }
        return css
    }

    /// The xterm palette: 16 system colours, the 6×6×6 cube, the 24-step grey ramp.
    static func rgb(_ index: Int) -> (r: Int, g: Int, b: Int) {
        let system: [(Int, Int, Int)] = [
            (0x00, 0x00, 0x00), (0xcd, 0x31, 0x31), (0x0d, 0xbc, 0x79), (0xe5, 0xe5, 0x10),
            (0x3b, 0x8e, 0xea), (0xbc, 0x3f, 0xbc), (0x11, 0xa8, 0xcd), (0xe5, 0xe5, 0xe5),
            (0x66, 0x66, 0x66), (0xf1, 0x4c, 0x4c), (0x23, 0xd1, 0x8b), (0xf5, 0xf5, 0x43),
            (0x3b, 0x8e, 0xff), (0xd6, 0x70, 0xd6), (0x29, 0xb8, 0xdb), (0xff, 0xff, 0xff),
        ]
        if index < 16 { return system[index] }
        if index < 232 {
            let levels = [0, 95, 135, 175, 215, 255]
            let n = index - 16
            return (levels[n / 36], levels[(n / 6) % 6], levels[n % 6])
        }
        let grey = 8 + (index - 232) * 10
        return (grey, grey, grey)
    }

    /// `colour` mixed with white until its relative luminance (WCAG 2.1) is at least 0.12, so it keeps a
    /// contrast of about 4:1 against the console background.
    static func lifted(_ colour: (r: Int, g: Int, b: Int)) -> (r: Int, g: Int, b: Int) {
        var current = colour
        var step = 0
        while luminance(current) < 0.12, step < 20 {
            current = (
                current.r + (255 - current.r) / 6 + 4, current.g + (255 - current.g) / 6 + 4,
                current.b + (255 - current.b) / 6 + 4
            )
            current = (min(current.r, 255), min(current.g, 255), min(current.b, 255))
            step += 1
        }
        return current
    }

    /// WCAG 2.1 relative luminance, 0…1.
    static func luminance(_ colour: (r: Int, g: Int, b: Int)) -> Double {
        func channel(_ value: Int) -> Double {
            let c = Double(value) / 255
            return c <= 0.039_28 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)
    }

    static func hex(_ colour: (r: Int, g: Int, b: Int)) -> String {
        String(format: "#%02x%02x%02x", colour.r, colour.g, colour.b)
    }
}
