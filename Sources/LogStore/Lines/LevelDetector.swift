/// Assigns a ``LogLevel`` to a line from the words it contains.
///
/// The line is first stripped of ANSI escapes (``ANSIStripper``), then split into words (runs of
/// `A–Z a–z 0–9 _`, so `\b` semantics). A line that contains words of several levels gets the most severe
/// one. Rules:
///
/// | Word (whole word) | Level |
/// |---|---|
/// | `ERROR`, `FATAL`, `CRITICAL`, `ERR!` (npm), `Traceback` | ERROR |
/// | `error`, `fatal`, `critical` in any case, when followed by `:` or `]` | ERROR |
/// | a word ending in `Error` or `Exception` followed by `:` (`ValueError:`, `NullPointerException:`) | ERROR |
/// | `WARN`, `WARNING`; `warn`/`warning` in any case followed by `:` or `]` | WARN |
/// | `INFO`; `info` in any case followed by `:` or `]` | INFO |
/// | `DEBUG`; `debug` in any case followed by `:` or `]` | DEBUG |
///
/// Examples:
///
/// | Line | Level |
/// |---|---|
/// | `2026-11-29T12:00:00Z ERROR Failed to compile` | ERROR |
/// | `ESC[31mERRORESC[0m: test failed` | ERROR |
/// | `npm ERR! code ELIFECYCLE` | ERROR |
/// | `FATAL: could not connect` | ERROR |
/// | `Traceback (most recent call last):` | ERROR |
/// | `ValueError: bad input` | ERROR |
/// | `main.c:3:5: error: expected ';'` | ERROR |
/// | `[error] upstream timed out` | ERROR |
/// | `npm WARN deprecated lodash@1.0.0` | WARN |
/// | `WARNING: Retrying (Retry(total=4))` | WARN |
/// | `warning: unused variable` | WARN |
/// | `[INFO] Downloading from central` | INFO |
/// | `2026-11-29 12:00:00 DEBUG cache hit` | DEBUG |
/// | `INFO retry after ERROR` | ERROR (most severe wins) |
/// | `0 errors, 2 warnings` | none (plural, lower case) |
/// | `error handling tests passed` | none (lower case without `:`) |
/// | `ERRORS=0`, `TypeError` (no colon), `MYERROR` | none |
public enum LevelDetector {
    /// The level of one line.
    ///
    /// - Parameter line: the line's text (escapes allowed; they are stripped first).
    /// - Returns: the most severe level found, or `nil`.
    public static func level(of line: String) -> LogLevel? {
        let stripped = ANSIStripper.strip(Array(line.utf8))
        return stripped.withUnsafeBufferPointer { LogLevel(rank: rank(of: $0)) }
    }

    @inline(__always)
    static func isWordByte(_ c: UInt8) -> Bool {
        (c | 0x20) &- 0x61 < 26 || c &- 0x30 < 10 || c == 0x5F
    }

    /// 256 entries: 1 for `A–Z a–z 0–9 _`, else 0 (allocated once, never freed).
    nonisolated(unsafe) static let wordTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for c in 0..<256 { table[c] = isWordByte(UInt8(c)) ? 1 : 0 }
        return UnsafePointer(table)
    }()

    /// Level rank (0 none … 4 ERROR) of an already stripped line.
    static func rank(of p: UnsafeBufferPointer<UInt8>) -> UInt8 {
        guard let base = p.baseAddress else { return 0 }
        let n = p.count
        let table = wordTable
        var best: UInt8 = 0
        var i = 0
        while i < n {
            let c = base[i]
            if table[Int(c)] == 0 {
                i &+= 1
                continue
            }
            var j = i &+ 1
            while j < n, table[Int(base[j])] != 0 { j &+= 1 }
            let length = j &- i
            if length >= 3, (c | 0x20) &- 0x61 < 26 {
                let next: UInt8 = j < n ? base[j] : 0
                let found = classify(base + i, length, next)
                if found > best {
                    best = found
                    if best == 4 { return 4 }
                }
            }
            i = j
        }
        return best
    }

    @inline(__always)
    static func equals(_ word: UnsafePointer<UInt8>, _ length: Int, _ literal: StaticString, foldCase: Bool) -> Bool {
        guard literal.utf8CodeUnitCount == length else { return false }
        let lit = literal.utf8Start
        for k in 0..<length {
            let a = word[k]
            let b = lit[k]
            if foldCase ? (a | 0x20) != b : a != b { return false }
        }
        return true
    }

    @inline(__always)
    static func hasSuffix(_ word: UnsafePointer<UInt8>, _ length: Int, _ literal: StaticString) -> Bool {
        let m = literal.utf8CodeUnitCount
        guard length >= m else { return false }
        let lit = literal.utf8Start
        let start = word + (length - m)
        for k in 0..<m where start[k] != lit[k] { return false }
        return true
    }

    static func classify(_ w: UnsafePointer<UInt8>, _ length: Int, _ next: UInt8) -> UInt8 {
        let first = w[0]
        let qualified = next == UInt8(ascii: ":") || next == UInt8(ascii: "]")
        // Upper-case forms.
        switch length {
        case 3:
            if next == UInt8(ascii: "!"), equals(w, 3, "ERR", foldCase: false) { return 4 }
        case 4:
            if first == UInt8(ascii: "W"), equals(w, 4, "WARN", foldCase: false) { return 3 }
            if first == UInt8(ascii: "I"), equals(w, 4, "INFO", foldCase: false) { return 2 }
        case 5:
            if first == UInt8(ascii: "E"), equals(w, 5, "ERROR", foldCase: false) { return 4 }
            if first == UInt8(ascii: "F"), equals(w, 5, "FATAL", foldCase: false) { return 4 }
            if first == UInt8(ascii: "D"), equals(w, 5, "DEBUG", foldCase: false) { return 1 }
        case 7:
            if first == UInt8(ascii: "W"), equals(w, 7, "WARNING", foldCase: false) { return 3 }
        case 8:
            if first == UInt8(ascii: "C"), equals(w, 8, "CRITICAL", foldCase: false) { return 4 }
        case 9:
            if first == UInt8(ascii: "T"), equals(w, 9, "Traceback", foldCase: false) { return 4 }
        default:
            break
        }
        guard qualified else { return 0 }
        switch first | 0x20 {
        case UInt8(ascii: "e"):
            if equals(w, length, "error", foldCase: true) { return 4 }
        case UInt8(ascii: "f"):
            if equals(w, length, "fatal", foldCase: true) { return 4 }
        case UInt8(ascii: "c"):
            if equals(w, length, "critical", foldCase: true) { return 4 }
        case UInt8(ascii: "w"):
            if equals(w, length, "warn", foldCase: true) || equals(w, length, "warning", foldCase: true) { return 3 }
        case UInt8(ascii: "i"):
            if equals(w, length, "info", foldCase: true) { return 2 }
        case UInt8(ascii: "d"):
            if equals(w, length, "debug", foldCase: true) { return 1 }
        default:
            break
        }
        if next == UInt8(ascii: ":"), hasSuffix(w, length, "Error") || hasSuffix(w, length, "Exception") { return 4 }
        return 0
    }
}
