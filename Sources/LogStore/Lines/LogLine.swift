import Foundation

/// One stored log line, as returned by queries and by ``LogStore/append(execution:step:bytes:)``.
///
/// Storage is byte-exact: ``bytes`` are the bytes the step printed for this line, without the `\n` that
/// ended it (a `\r` before that newline, `\r` progress updates inside the line and ANSI escapes are all
/// kept). Invalid UTF-8 is stored as is; only the `String` views (``text``, ``plainText``) replace it with
/// U+FFFD, one per maximal invalid subsequence (Unicode §3.9).
///
/// Lines longer than ``LogStore/maximumLineBytes`` (1 MiB) are split into pieces of at most 1 MiB, cut on
/// a UTF-8 character boundary; each piece has its own `seq`. The first piece has
/// ``continuesOnNextLine`` set, later pieces have ``isContinuation`` set, and the last piece has
/// ``continuesOnNextLine`` unset. Concatenating the pieces' ``bytes`` gives the original line.
public struct LogLine: Sendable, Equatable {
    /// Line number within the execution, 1-based, assigned in storage order and never reused.
    public let seq: Int
    /// Name of the step that printed the line.
    public let step: String
    /// Timestamp found near the start of the line (``TimestampParser``), or `nil`.
    public let timestamp: Date?
    /// Level found by ``LevelDetector``, or `nil`.
    public let level: LogLevel?
    /// The exact stored bytes, without the terminating `\n`.
    public let bytes: [UInt8]
    /// `true` when the stored line ended with `\n`; `false` for a last line flushed by
    /// ``LogStore/finishStep(execution:step:)`` and for split pieces other than the last.
    public let hasNewline: Bool
    /// `true` when this piece continues the previous piece of the same step (a split long line).
    public let isContinuation: Bool
    /// `true` when the next piece of the same step continues this one (a split long line).
    public let continuesOnNextLine: Bool
    /// `true` when the line is in a result only as context around a match (``LogQuery/context``).
    public var isContext: Bool
    /// Matches as `[start, end)` offsets in UTF-16 code units into ``plainText``; empty unless the query
    /// asked for highlights.
    public var highlights: [LogHighlight]

    /// Creates a line (tests and adapters; the store builds its own).
    ///
    /// - Parameters:
    ///   - seq: 1-based line number.
    ///   - step: step name.
    ///   - timestamp: parsed timestamp.
    ///   - level: detected level.
    ///   - bytes: raw bytes without the terminating `\n`.
    ///   - hasNewline: whether a `\n` followed in storage.
    ///   - isContinuation: continues a previous split piece.
    ///   - continuesOnNextLine: continued by the next split piece.
    ///   - isContext: included only as context.
    ///   - highlights: UTF-16 ranges into ``plainText``.
    public init(
        seq: Int, step: String, timestamp: Date?, level: LogLevel?, bytes: [UInt8], hasNewline: Bool = true,
        isContinuation: Bool = false, continuesOnNextLine: Bool = false, isContext: Bool = false,
        highlights: [LogHighlight] = []
    ) {
        self.seq = seq
        self.step = step
        self.timestamp = timestamp
        self.level = level
        self.bytes = bytes
        self.hasNewline = hasNewline
        self.isContinuation = isContinuation
        self.continuesOnNextLine = continuesOnNextLine
        self.isContext = isContext
        self.highlights = highlights
    }

    /// The stored bytes decoded as UTF-8 (escapes and `\r` included; invalid bytes become U+FFFD).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The text JSON responses and live events carry (`text`): ``text`` with every control byte other than
    /// TAB, ESC and CR (`0x00–0x08`, `0x0B`, `0x0C`, `0x0E–0x1A`, `0x1C–0x1F`, `0x7F`) replaced by U+FFFD,
    /// so a NUL or a bell from binary output never reaches a client. One byte becomes one UTF-16 unit, so
    /// offsets stay where they were. The raw download keeps the original bytes.
    public var safeText: String { Self.jsonSafe(bytes) }

    /// ``safeText`` of any bytes.
    public static func jsonSafe(_ bytes: [UInt8]) -> String {
        guard bytes.contains(where: isReplacedControl) else { return String(decoding: bytes, as: UTF8.self) }
        var cleaned: [UInt8] = []
        cleaned.reserveCapacity(bytes.count + 16)
        for byte in bytes {
            if isReplacedControl(byte) { cleaned += [0xEF, 0xBF, 0xBD] } else { cleaned.append(byte) }
        }
        return String(decoding: cleaned, as: UTF8.self)
    }

    /// ``safeText`` of a string (text already decoded, e.g. a first error's).
    public static func jsonSafe(_ text: String) -> String {
        guard text.utf8.contains(where: isReplacedControl) else { return text }
        return jsonSafe(Array(text.utf8))
    }

    /// Control bytes replaced in JSON text: C0 except TAB, LF (never inside a line), CR and ESC; and DEL.
    @inline(__always)
    static func isReplacedControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x1B) || byte == 0x7F
    }

    /// The text queries match and highlights index: ANSI escapes removed (``ANSIStripper``), one trailing
    /// `\r` (from a CRLF line end) removed, inner `\r` kept, invalid bytes as U+FFFD.
    public var plainText: String { String(decoding: Self.plainBytes(bytes), as: UTF8.self) }

    /// What a terminal shows for a `\r` progress line: the part of ``plainText`` after its last `\r`.
    ///
    /// `"a 10%\ra 50%\ra 100%"` displays as `"a 100%"`. Queries still match the whole ``plainText``, so
    /// every progress update stays searchable.
    public var displayText: String {
        let plain = plainText
        guard let last = plain.utf8.lastIndex(of: UInt8(ascii: "\r")) else { return plain }
        return String(plain[plain.utf8.index(after: last)...])
    }

    /// ANSI-stripped bytes without one trailing `\r`.
    static func plainBytes(_ bytes: [UInt8]) -> [UInt8] {
        var stripped = bytes.contains(ANSIStripper.escape) ? ANSIStripper.strip(bytes) : bytes
        if stripped.last == UInt8(ascii: "\r") { stripped.removeLast() }
        return stripped
    }
}

/// A highlighted match: `[start, end)` in UTF-16 code units of ``LogLine/plainText``.
///
/// UTF-16 is what JavaScript strings index, so a browser can slice `text.substring(start, end)` directly.
/// An emoji such as 🚀 counts 2 units, `é` and CJK characters 1.
public struct LogHighlight: Sendable, Equatable, Hashable, Codable {
    /// First UTF-16 offset of the match.
    public let start: Int
    /// UTF-16 offset just past the match.
    public let end: Int

    /// Creates a range.
    ///
    /// - Parameters:
    ///   - start: first UTF-16 offset.
    ///   - end: UTF-16 offset past the match (≥ `start`).
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
}
