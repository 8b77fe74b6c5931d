import Foundation

/// Decides which lines a regex query matches: literal needles find candidate lines at byte-search speed
/// (``RegexLiterals``), and a regex engine decides the candidates, on the line's bytes.
///
/// The engine is PCRE2 with its JIT (``PCRE2Regex``) when `libpcre2-8.so.0` loads and accepts the
/// pattern, else ICU (`NSRegularExpression`, which also validates every pattern first, so the accepted
/// syntax is ICU's either way). A line PCRE2 gives up on (its match limit) is decided by ICU within the
/// query's deadline. docs/log-search.md explains the choice and the measurements.
///
/// Needles are exact only for ASCII case folding, so when matching ignores case a line that might match
/// through a Unicode case variant is always handed to the engine: with PCRE2 (simple case folding) a
/// line containing `K` (U+212A, folds to `k`) or `ſ` (U+017F, folds to `s`) when a needle has a `k` or
/// `s`; with ICU (full case folding, `ß` = `ss`, `ﬁ` = `fi`) any line with a non-ASCII byte.
final class RegexMatcher: @unchecked Sendable {
    // @unchecked: every field is immutable after init; NSRegularExpression and PCRE2 code match concurrently.

    /// How one line was decided.
    enum Decision {
        case match
        case noMatch
        /// The engine ran out of time on this line.
        case undecided
    }

    let pattern: String
    let icu: NSRegularExpression
    let pcre2: PCRE2Regex?
    let literals: RegexLiterals
    /// A candidate line contains one of these (empty: every line is a candidate).
    let needles: [ByteSearcher]
    /// A line containing one of these is a candidate the engine must decide, even without a needle.
    let verifyNeedles: [ByteSearcher]
    /// ICU ignoring case: lines with a non-ASCII byte are candidates the engine must decide.
    let nonASCIILinesAreCandidates: Bool
    /// A line containing a needle matches (no engine needed).
    let isExact: Bool

    /// Compiles `pattern` for line matching.
    ///
    /// - Parameters:
    ///   - pattern: ICU syntax.
    ///   - caseInsensitive: whether matching ignores case.
    ///   - library: PCRE2, `nil` to use ICU only.
    /// - Throws: ``LogStoreError/invalidRegex(reason:)`` when ICU rejects the pattern.
    init(pattern: String, caseInsensitive: Bool, library: PCRE2Library? = PCRE2Library.shared) throws(LogStoreError) {
        self.pattern = pattern
        do {
            icu = try NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
        } catch {
            throw .invalidRegex(
                reason: "\(String(describing: pattern.prefix(100))) is not a valid ICU regular expression")
        }
        pcre2 =
            Self.hasICUOnlySets(pattern)
            ? nil : PCRE2Regex(pattern: pattern, caseInsensitive: caseInsensitive, library: library)
        let literals = RegexLiterals.analyze(pattern, caseInsensitive: caseInsensitive)
        self.literals = literals
        needles = literals.needles.map { ByteSearcher(needle: Array($0.utf8), caseInsensitive: literals.foldsCase) }
        var verify: [ByteSearcher] = []
        var nonASCII = false
        if literals.foldsCase, !needles.isEmpty {
            if pcre2 != nil {
                if literals.needles.contains(where: { $0.contains("k") || $0.contains("s") }) {
                    verify = ["\u{212A}", "\u{17F}"].map {
                        ByteSearcher(needle: Array($0.utf8), caseInsensitive: false)
                    }
                }
            } else {
                nonASCII = true
            }
        }
        verifyNeedles = verify
        nonASCIILinesAreCandidates = nonASCII
        isExact = literals.isExact
    }

    /// Whether the pattern uses ICU set syntax PCRE2 would read differently (`[a-z&&[^aeiou]]`, `[[:alpha:]]`,
    /// `[a-z--[x]]`): such patterns always use ICU.
    static func hasICUOnlySets(_ pattern: String) -> Bool {
        let scalars = Array(pattern.unicodeScalars)
        var index = 0
        var inClass = false
        var classStart = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\\" {
                index += 2
                continue
            }
            if inClass {
                if scalar == "]", index > classStart { inClass = false }
                if scalar == "[" { return true }
                if index + 1 < scalars.count,
                    (scalar == "&" && scalars[index + 1] == "&") || (scalar == "-" && scalars[index + 1] == "-")
                {
                    return true
                }
            } else if scalar == "[" {
                inClass = true
                classStart = index + 1
                if classStart < scalars.count, scalars[classStart] == "^" { classStart += 1 }
            }
            index += 1
        }
        return false
    }

    /// Per-thread state: PCRE2 match data.
    final class Worker {
        let matchData: PCRE2Regex.MatchData?
        init(_ matcher: RegexMatcher) { matchData = matcher.pcre2?.makeMatchData() }
    }

    /// Decides a line (its ANSI-stripped bytes) given what the needle searches found in it.
    @inline(__always)
    func decide(
        _ line: UnsafePointer<UInt8>?, count: Int, hasNeedle: Bool, hasVerify: Bool, worker: Worker, budget: ScanBudget
    ) -> Decision {
        if !needles.isEmpty {
            if hasNeedle && isExact { return .match }
            if !hasNeedle && !hasVerify { return .noMatch }
        }
        return evaluate(line, count: count, worker: worker, budget: budget)
    }

    /// Decides a stripped line on its own (needles searched in it here).
    func decide(plain: UnsafeBufferPointer<UInt8>, worker: Worker, budget: ScanBudget) -> Decision {
        guard let base = plain.baseAddress, !needles.isEmpty else {
            return evaluate(plain.baseAddress, count: plain.count, worker: worker, budget: budget)
        }
        let hasNeedle = needles.contains { $0.first(in: base, from: 0, to: plain.count) != nil }
        var hasVerify = false
        if !hasNeedle {
            hasVerify =
                verifyNeedles.contains { $0.first(in: base, from: 0, to: plain.count) != nil }
                || (nonASCIILinesAreCandidates && plain.contains { $0 >= 0x80 })
        }
        return decide(
            base, count: plain.count, hasNeedle: hasNeedle, hasVerify: hasVerify, worker: worker, budget: budget)
    }

    /// Runs the engine on a line.
    func evaluate(_ line: UnsafePointer<UInt8>?, count: Int, worker: Worker, budget: ScanBudget) -> Decision {
        guard let subject = line else {
            let zero: UInt8 = 0
            return withUnsafePointer(to: zero) { evaluate($0, count: 0, worker: worker, budget: budget) }
        }
        if let pcre2, let data = worker.matchData {
            switch pcre2.firstMatch(in: subject, count: count, using: data) {
            case .match: return .match
            case .noMatch: return .noMatch
            case .undecided: break
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: subject, count: count), as: UTF8.self)
        guard let ranges = Self.icuRanges(icu, in: text, all: false, budget: budget) else { return .undecided }
        return ranges.isEmpty ? .noMatch : .match
    }

    /// Highlights (UTF-16, non-empty) of the matches in a stripped line; best effort when time runs out.
    func highlights(in plain: UnsafeBufferPointer<UInt8>, budget: ScanBudget) -> [LogHighlight] {
        if let pcre2, let data = pcre2.makeMatchData(), let ranges = pcre2.allMatches(in: plain, using: data) {
            return QueryEngine.utf16Ranges(ranges.map { ($0.lowerBound, $0.upperBound) }, in: plain)
        }
        let text = String(decoding: plain, as: UTF8.self)
        let ranges = Self.icuRanges(icu, in: text, all: true, budget: budget, partialOnTimeout: true) ?? []
        return ranges.filter { $0.length > 0 }.map { LogHighlight(start: $0.location, end: $0.location + $0.length) }
    }

    /// ICU match ranges (UTF-16) of `regex` in `text`; `nil` when the deadline passed first (unless
    /// `partialOnTimeout`, which returns those found so far).
    static func icuRanges(
        _ regex: NSRegularExpression, in text: String, all: Bool, budget: ScanBudget, partialOnTimeout: Bool = false
    ) -> [NSRange]? {
        if budget.isPastDeadline { return partialOnTimeout ? [] : nil }
        var ranges: [NSRange] = []
        var timedOut = false
        regex.enumerateMatches(
            in: text, options: budget.deadline == nil ? [] : [.reportProgress],
            range: NSRange(location: 0, length: text.utf16.count)
        ) { result, _, stop in
            if let result {
                ranges.append(result.range)
                if !all { stop.pointee = true }
            } else if budget.isPastDeadline {
                timedOut = true
                stop.pointee = true
            }
        }
        if timedOut && !partialOnTimeout { return nil }
        return ranges
    }
}
