import PipewrightCore

/// A query over one execution's lines: a filter, a page or cursor, context and highlights.
public struct LogQuery: Sendable, Equatable {
    /// Largest ``context`` served; larger values are clamped to it.
    public static let maximumContext = 20
    /// Default ``regexBudget``.
    public static let defaultRegexBudget: Duration = .seconds(2)

    /// Which lines match.
    public var filter: LogFilter
    /// Which part of the matches to return.
    public var pagination: LogPagination
    /// Lines of the same step shown before and after each match (`0...20`; more is clamped to 20). Context
    /// lines have ``LogLine/isContext`` set, do not count towards `per_page` or `total`, and may repeat
    /// across pages when two matches on adjacent pages are close; matches never repeat.
    public var context: Int
    /// Fills ``LogLine/highlights`` of matching lines (UTF-16 offsets into ``LogLine/plainText``).
    public var includesHighlights: Bool
    /// Wall-clock limit for the regex matching of the whole query, including a single long line. When it
    /// runs out the page holds the matches of the lines scanned so far and is partial
    /// (``LogPage/isPartial``, ``LogPage/resumeAfterSeq``); only a query that could not decide a single
    /// line throws ``LogStoreError/regexTimeout(budget:)``. Literal text queries have no budget.
    public var regexBudget: Duration

    /// Creates a query.
    ///
    /// - Parameters:
    ///   - filter: the conditions (default: all lines).
    ///   - pagination: page or cursor (default: page 1 of 20).
    ///   - context: lines around matches, `0...20`.
    ///   - includesHighlights: whether to compute highlights.
    ///   - regexBudget: time limit for regex matching.
    // The default page (1, 20) is valid, so `try!` cannot trap.
    // swift-format-ignore: NeverUseForceTry
    public init(
        filter: LogFilter = LogFilter(), pagination: LogPagination = .page(try! PageRequest(page: 1, perPage: 20)),
        context: Int = 0, includesHighlights: Bool = false, regexBudget: Duration = LogQuery.defaultRegexBudget
    ) {
        self.filter = filter
        self.pagination = pagination
        self.context = context
        self.includesHighlights = includesHighlights
        self.regexBudget = regexBudget
    }
}

/// How a query pages through matches.
public enum LogPagination: Sendable, Equatable {
    /// Page `page` of `perPage` matches (`PageRequest`: page ≥ 1, per_page clamped to 1…100); the result
    /// carries the total number of matches.
    case page(PageRequest)
    /// Up to `perPage` matches with seq greater than `afterSeq` (≥ 0); `perPage` above 100 is clamped to 100,
    /// below 1 is rejected. No total is computed, so it costs only the lines scanned to fill the page.
    case after(seq: Int, perPage: Int)
}

/// One page of lines.
public struct LogPage: Sendable, Equatable {
    /// Matching lines (and context lines, flagged) in seq order.
    public var items: [LogLine]
    /// Number of matching lines (context excluded) in the whole log, for ``LogPagination/page(_:)``; `nil` for
    /// cursors. A lower bound when ``isPartial`` (the matches among the lines scanned).
    public var total: Int?
    /// The page request, for ``LogPagination/page(_:)``.
    public var page: PageRequest?
    /// Cursor for the next request (`after_seq`). With a cursor query: the last match's seq when the page is
    /// full, otherwise the last seq examined (poll again with it to get lines appended later; `nil` once
    /// `to_seq` was reached). With a page query: the last match's seq on this page (`nil` when empty).
    public var nextAfterSeq: Int?
    /// Highest seq that existed when the query ran (lines appended later were not examined).
    public var highestSeq: Int
    /// Set when the regex budget ran out before the scan was done: the page holds the matches among
    /// the lines up to ``resumeAfterSeq``, ``total`` is a lower bound, and the same query with
    /// `after_seq = resumeAfterSeq` continues exactly after the last line examined (no gap, no repeat).
    public var resumeAfterSeq: Int?

    /// Whether the scan stopped early because the regex budget ran out (see ``resumeAfterSeq``).
    public var isPartial: Bool { resumeAfterSeq != nil }

    /// Creates a page.
    ///
    /// - Parameters:
    ///   - items: lines in seq order.
    ///   - total: matches overall, page queries only.
    ///   - page: the page request, page queries only.
    ///   - nextAfterSeq: cursor for the next request.
    ///   - highestSeq: highest seq visible to the query.
    ///   - resumeAfterSeq: last seq examined when the budget ran out, `nil` for a complete scan.
    public init(
        items: [LogLine], total: Int?, page: PageRequest?, nextAfterSeq: Int?, highestSeq: Int,
        resumeAfterSeq: Int? = nil
    ) {
        self.items = items
        self.total = total
        self.page = page
        self.nextAfterSeq = nextAfterSeq
        self.highestSeq = highestSeq
        self.resumeAfterSeq = resumeAfterSeq
    }
}
