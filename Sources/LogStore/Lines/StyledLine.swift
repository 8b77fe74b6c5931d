/// A stored line as a terminal shows it: runs of text, each with the SGR style in effect.
///
/// The escape-sequence grammar is ``ANSIStripper``'s, so the runs' texts joined are exactly
/// ``LogLine/plainText`` and the UTF-16 offsets of ``LogHighlight`` apply to them unchanged. Of the
/// sequences only SGR (`CSI … m`, ECMA-48 §8.3.117) changes the style; every other sequence is dropped.
///
/// | SGR | Effect |
/// |---|---|
/// | `0` / empty | reset everything |
/// | `1`, `2`, `3`, `4` (and `21`), `9` | bold, dim, italic, underline, strikethrough |
/// | `22`, `23`, `24`, `29` | bold and dim off, italic off, underline off, strikethrough off |
/// | `30–37`, `90–97` / `40–47`, `100–107` | foreground / background colour 0–7, 8–15 |
/// | `38;5;n` / `48;5;n` | foreground / background from the 256-colour palette (xterm) |
/// | `38;2;r;g;b` / `48;2;r;g;b` | truecolor, mapped to the nearest 256-palette colour (``nearestPaletteIndex(red:green:blue:)``) |
/// | `39` / `49` | default foreground / background |
///
/// Other SGR parameters (blink, inverse, fonts, …) are ignored.
public struct StyledLine: Sendable, Equatable {
    /// A stretch of text with one style.
    public struct Run: Sendable, Equatable {
        /// The text (escapes removed; control bytes other than TAB and CR replaced by U+FFFD).
        public var text: String
        /// The style in effect.
        public var style: TerminalStyle
    }

    /// The runs in order; empty texts are never included.
    public var runs: [Run]
    /// UTF-16 offset, in the joined text, where the displayed part starts: just after the last `\r`
    /// (progress output shows its last update), else 0.
    public var displayStart: Int

    /// Parses one stored line.
    ///
    /// - Parameter bytes: the raw stored bytes without the terminating `\n` (``LogLine/bytes``).
    /// - Returns: the runs, without one trailing `\r` (a CRLF line end), as ``LogLine/plainText``.
    public static func parse(_ bytes: [UInt8]) -> StyledLine {
        var runs: [Run] = []
        var style = TerminalStyle()
        var pending: [UInt8] = []
        var carriageReturns: [Int] = []  // UTF-16 offsets just after each `\r`
        var utf16Count = 0

        func flush() {
            guard !pending.isEmpty else { return }
            let text = String(decoding: pending, as: UTF8.self)
            utf16Count += text.utf16.count
            runs.append(Run(text: text, style: style))
            pending.removeAll(keepingCapacity: true)
        }

        bytes.withUnsafeBufferPointer { input in
            var i = 0
            while i < input.count {
                let byte = input[i]
                if byte == ANSIStripper.escape {
                    let next = ANSIStripper.endOfSequence(input, at: i)
                    if next - i >= 3, input[i + 1] == UInt8(ascii: "["), input[next - 1] == UInt8(ascii: "m") {
                        var updated = style
                        updated.apply(sgr: Array(input[(i + 2)..<(next - 1)]))
                        if updated != style {
                            flush()
                            style = updated
                        }
                    }
                    i = next
                    continue
                }
                if byte == UInt8(ascii: "\r") {
                    flush()
                    utf16Count += 1
                    carriageReturns.append(utf16Count)
                    runs.append(Run(text: "\r", style: style))
                } else if LogLine.isReplacedControl(byte) {
                    pending += [0xEF, 0xBF, 0xBD]  // U+FFFD, one UTF-16 unit as the byte was
                } else {
                    pending.append(byte)
                }
                i += 1
            }
        }
        flush()
        // One trailing `\r` is a CRLF line end, not progress output (``LogLine/plainBytes(_:)``).
        if runs.last?.text == "\r" {
            runs.removeLast()
            carriageReturns.removeLast()
        }
        return StyledLine(runs: runs, displayStart: carriageReturns.last ?? 0)
    }

    /// The xterm 256-colour palette index nearest to a truecolor value: the 6×6×6 cube (16–231) or the
    /// grey ramp (232–255), whichever is closer in RGB distance.
    ///
    /// - Parameters:
    ///   - red: 0–255.
    ///   - green: 0–255.
    ///   - blue: 0–255.
    /// - Returns: an index from 16 to 255.
    public static func nearestPaletteIndex(red: Int, green: Int, blue: Int) -> UInt8 {
        func cubeLevel(_ value: Int) -> Int {
            // Cube levels are 0, 95, 135, 175, 215, 255.
            value < 48 ? 0 : value < 115 ? 1 : (value - 35) / 40
        }
        let levels = [0, 95, 135, 175, 215, 255]
        let (r, g, b) = (cubeLevel(red), cubeLevel(green), cubeLevel(blue))
        let cube = (levels[r], levels[g], levels[b])
        let average = (red + green + blue) / 3
        let greyIndex = average > 238 ? 23 : max(0, (average - 3) / 10)
        let grey = 8 + greyIndex * 10
        func distance(_ c: (Int, Int, Int)) -> Int {
            let (dr, dg, db) = (c.0 - red, c.1 - green, c.2 - blue)
            return dr * dr + dg * dg + db * db
        }
        if distance((grey, grey, grey)) < distance(cube) { return UInt8(232 + greyIndex) }
        return UInt8(16 + 36 * r + 6 * g + b)
    }
}

/// The SGR attributes of a run of terminal text.
public struct TerminalStyle: Sendable, Hashable {
    /// Foreground palette index (0–255), `nil` for the default colour.
    public var foreground: UInt8?
    /// Background palette index (0–255), `nil` for the default colour.
    public var background: UInt8?
    /// SGR 1.
    public var bold = false
    /// SGR 2.
    public var dim = false
    /// SGR 3.
    public var italic = false
    /// SGR 4 (and 21).
    public var underline = false
    /// SGR 9.
    public var strikethrough = false

    /// The default style (no attribute, default colours).
    public init() {}

    /// Whether this is the default style.
    public var isPlain: Bool { self == TerminalStyle() }

    /// Applies the parameters of one `CSI … m` sequence (the bytes between `[` and `m`).
    mutating func apply(sgr parameters: [UInt8]) {
        // Sub-parameters (`38:5:n`, ITU T.416) are read like `;`-separated ones.
        var values: [Int?] = []
        var current: Int?
        for byte in parameters {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                current = min((current ?? 0) * 10 + Int(byte - UInt8(ascii: "0")), 100_000)
            case UInt8(ascii: ";"), UInt8(ascii: ":"):
                values.append(current)
                current = nil
            default:
                return  // private parameters (`<=>?`) or intermediates: not an SGR this renderer knows
            }
        }
        values.append(current)
        var index = 0
        while index < values.count {
            let code = values[index] ?? 0
            index += 1
            switch code {
            case 0: self = TerminalStyle()
            case 1: bold = true
            case 2: dim = true
            case 3: italic = true
            case 4, 21: underline = true
            case 9: strikethrough = true
            case 22:
                bold = false
                dim = false
            case 23: italic = false
            case 24: underline = false
            case 29: strikethrough = false
            case 30...37: foreground = UInt8(code - 30)
            case 90...97: foreground = UInt8(code - 90 + 8)
            case 40...47: background = UInt8(code - 40)
            case 100...107: background = UInt8(code - 100 + 8)
            case 39: foreground = nil
            case 49: background = nil
            case 38, 48:
                guard index < values.count else { return }
                let mode = values[index] ?? 0
                var colour: UInt8?
                if mode == 5, index + 1 < values.count {
                    if let n = values[index + 1], n <= 255 { colour = UInt8(n) }
                    index += 2
                } else if mode == 2, index + 3 < values.count {
                    let rgb = values[(index + 1)...(index + 3)].map { min($0 ?? 0, 255) }
                    colour = StyledLine.nearestPaletteIndex(red: rgb[0], green: rgb[1], blue: rgb[2])
                    index += 4
                } else {
                    return  // malformed extended colour: ignore the rest of the sequence
                }
                if let colour {
                    if code == 38 { foreground = colour } else { background = colour }
                }
            default: break
            }
        }
    }
}
