/// Which lines of an execution a query selects (the `q`, `regex`, `case_sensitive`, `level`, `step` and
/// `from_seq` parameters of docs/API.md "Logs", plus an upper bound `to_seq`). All conditions must hold;
/// an empty filter selects every line.
public struct LogFilter: Sendable, Equatable {
    /// Text to find in the line's ``LogLine/plainText`` (ANSI escapes removed); `nil` or empty: no text condition.
    ///
    /// A literal unless ``isRegex``. A text containing `\n` matches nothing (lines never contain one).
    public var text: String?
    /// Treats ``text`` as an ICU regular expression (`NSRegularExpression` syntax), matched per line
    /// within ``LogQuery/regexBudget``. Lines are prefiltered by the literals the pattern requires and
    /// decided by PCRE2 when it is installed (docs/log-search.md; the few edge cases where PCRE2 and ICU
    /// differ are listed there).
    public var isRegex: Bool
    /// Case-sensitive matching; the default (`false`) ignores case. ASCII texts fold `A–Z`/`a–z` on raw
    /// bytes (fast path); texts with non-ASCII characters and regexes use Unicode case-insensitive matching.
    public var isCaseSensitive: Bool
    /// Keeps lines of this level or more severe: `.warn` keeps WARN and ERROR. Lines without a level are dropped.
    public var minimumLevel: LogLevel?
    /// Keeps lines of this step (exact name).
    public var step: String?
    /// Lowest seq to consider (inclusive, 1-based).
    public var fromSeq: Int?
    /// Highest seq to consider (inclusive).
    public var toSeq: Int?

    /// Creates a filter.
    ///
    /// - Parameters:
    ///   - text: literal or regex to find, `nil` for none.
    ///   - isRegex: whether `text` is a regular expression.
    ///   - isCaseSensitive: whether matching respects case (default: ignores it).
    ///   - minimumLevel: least severe level kept.
    ///   - step: step name kept.
    ///   - fromSeq: first seq considered (≥ 1).
    ///   - toSeq: last seq considered.
    public init(
        text: String? = nil, isRegex: Bool = false, isCaseSensitive: Bool = false, minimumLevel: LogLevel? = nil,
        step: String? = nil, fromSeq: Int? = nil, toSeq: Int? = nil
    ) {
        self.text = text
        self.isRegex = isRegex
        self.isCaseSensitive = isCaseSensitive
        self.minimumLevel = minimumLevel
        self.step = step
        self.fromSeq = fromSeq
        self.toSeq = toSeq
    }

    /// `true` when a text or regex condition applies.
    var hasText: Bool { !(text ?? "").isEmpty }
}
