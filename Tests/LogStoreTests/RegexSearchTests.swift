import Foundation
import PipewrightCore
import Testing

@testable import LogStore

@Suite struct RegexLiteralsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let pattern: String
        let caseInsensitive: Bool
        let needles: Set<String>
        let isExact: Bool
        var testDescription: String { "\(pattern) (\(caseInsensitive ? "ignoring case" : "case-sensitive"))" }
    }

    static let cases: [Case] = [
        Case(
            pattern: "error|fail(ed|ure)", caseInsensitive: true, needles: ["error", "failed", "failure"], isExact: true
        ),
        Case(
            pattern: "error|fail(ed|ure)|warn(ing)?", caseInsensitive: true, needles: ["erro", "fail", "warn"],
            isExact: false),
        Case(
            pattern: "error|failed|failure|fatal", caseInsensitive: false, needles: ["erro", "fail", "fata"],
            isExact: false),
        Case(pattern: "a|bb|ccc|dddd", caseInsensitive: false, needles: ["a", "bb", "ccc", "dddd"], isExact: true),
        Case(pattern: "error|warn", caseInsensitive: true, needles: ["error", "warn"], isExact: true),
        Case(pattern: "Error|WARN", caseInsensitive: false, needles: ["Error", "WARN"], isExact: true),
        Case(pattern: #"\b[0-9]{3} ms\b"#, caseInsensitive: true, needles: [" ms"], isExact: false),
        Case(pattern: #"^\S+ WARN "#, caseInsensitive: true, needles: [" warn "], isExact: false),
        Case(pattern: #"^\S+ WARN "#, caseInsensitive: false, needles: [" WARN "], isExact: false),
        Case(pattern: "colou?r", caseInsensitive: false, needles: ["color", "colour"], isExact: true),
        Case(pattern: "(ab)+c", caseInsensitive: false, needles: ["ab"], isExact: false),
        Case(pattern: "a.*", caseInsensitive: false, needles: ["a"], isExact: false),
        Case(pattern: #"foo\.bar"#, caseInsensitive: false, needles: ["foo.bar"], isExact: true),
        Case(pattern: #"\Qa.b*\E"#, caseInsensitive: false, needles: ["a.b*"], isExact: true),
        Case(pattern: "(?<name>abc)d", caseInsensitive: false, needles: ["abcd"], isExact: true),
        Case(pattern: "(?=abc)xyz", caseInsensitive: false, needles: ["xyz"], isExact: false),
        Case(pattern: "(?i)Error", caseInsensitive: false, needles: ["error"], isExact: false),
        Case(pattern: "[a-z]+error", caseInsensitive: true, needles: ["error"], isExact: false),
        Case(pattern: "[[a-z]&&[^e]]rror", caseInsensitive: true, needles: ["rror"], isExact: false),
        Case(pattern: "café", caseInsensitive: true, needles: ["caf"], isExact: false),
        Case(pattern: "café", caseInsensitive: false, needles: ["café"], isExact: true),
        Case(pattern: "npm (ERR!|WARN)", caseInsensitive: false, needles: ["npm ERR!", "npm WARN"], isExact: true),
        // No requirement: every line is a candidate.
        Case(pattern: #"\d+"#, caseInsensitive: false, needles: [], isExact: false),
        Case(pattern: "x?", caseInsensitive: false, needles: [], isExact: false),
        Case(pattern: "x*y*", caseInsensitive: false, needles: [], isExact: false),
        Case(pattern: #"error|\d"#, caseInsensitive: false, needles: [], isExact: false),
        Case(pattern: "(?x) a b", caseInsensitive: false, needles: [], isExact: false),
        Case(pattern: "a|b|c|d|e|f|g|h|i", caseInsensitive: false, needles: [], isExact: false),
    ]

    @Test(arguments: cases) func analyze_pattern_givesNeedles(_ testCase: Case) {
        let literals = RegexLiterals.analyze(testCase.pattern, caseInsensitive: testCase.caseInsensitive)
        #expect(Set(literals.needles) == testCase.needles)
        #expect(literals.isExact == testCase.isExact)
    }

    @Test func icuOnlySets_areDetected() {
        #expect(RegexMatcher.hasICUOnlySets("[[a-z]&&[^e]]x"))
        #expect(RegexMatcher.hasICUOnlySets("[[:alpha:]]"))
        #expect(RegexMatcher.hasICUOnlySets("[a-z--[x]]"))
        #expect(!RegexMatcher.hasICUOnlySets(#"[\[\]a-] \[x\]"#))
        #expect(!RegexMatcher.hasICUOnlySets("[]a] [^]b] (x|y)"))
    }
}

@Suite struct RegexSearchTests {
    /// A deterministic log mixing ASCII, ANSI colours, CRLF, `\r` progress, non-ASCII text and the Unicode
    /// case variants of `k` and `s` (U+212A, U+017F).
    static func generatedLog(lines: Int, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let packages = ["express", "lodash", "react", "numpy", "serde", "vapor", "KIT", "Sass"]
        var text = ""
        for index in 1...lines {
            let package = packages[next(packages.count)]
            let ms = next(2000)
            let line: String
            switch next(16) {
            case 0: line = "2026-11-01T10:00:\(index % 60)Z ERROR Failed to compile \(package): error TS2345"
            case 1: line = "\u{1B}[31mERROR\u{1B}[0m: test_\(package) failed: expected 200, got 502"
            case 2: line = "2026-11-01T10:00:00Z WARN  Slow test \(package).spec.ts took \(ms)ms"
            case 3: line = "npm WARN deprecated \(package)@1.2.3: no longer supported"
            case 4: line = "  déployé sur le serveur ✓ — \(package) 🚀 \(ms) ms"
            case 5: line = "日本語 のログ FAILURE \(package) \(ms) MS\r"
            case 6: line = "Progress: 10%\r50%\r100% \(package)"
            case 7: line = "\u{212A}elvin \(package) ma\u{17F}\u{17F} \(ms) m\u{17F}"
            case 8: line = ""
            case 9: line = "INFO Test suite \(package) passed (\(ms) ms) colour color"
            case 10: line = "\u{1B}[32m✔\u{1B}[0m \(package) installed in \(ms)ms \u{1B}]0;title\u{07}done"
            default: line = "DEBUG cache hit for key build-\(index) \(package) fail"
            }
            text += line + "\n"
        }
        return Array(text.utf8)
    }

    static let patterns = [
        "error|fail(ed|ure)", #"\b[0-9]{3} ms\b"#, #"^\S+ WARN "#, "colou?r", "kelvin|mass", #"ms\b"#, "KIT|Sass",
        "déployé|日本語", "🚀 [0-9]+", #"\d{4}-\d{2}"#, "^$", "x*", "(?i)warn", "Progress.*100%", "✓ — [a-z]+",
        "(?<=ERROR: )test_[a-z]+", "[[a-z]&&[^aeiou]]ail", "e", "FAILURE|Failed|failed", "title|\u{1B}",
    ]

    /// The naive reference: every line's ANSI-stripped text through `NSRegularExpression`.
    static func reference(_ lines: [LogLine], pattern: String, caseSensitive: Bool) throws -> [(Int, [LogHighlight])] {
        let regex = try NSRegularExpression(pattern: pattern, options: caseSensitive ? [] : [.caseInsensitive])
        var result: [(Int, [LogHighlight])] = []
        for line in lines {
            let text = line.plainText
            let matches = regex.matches(in: text, range: NSRange(location: 0, length: text.utf16.count))
            guard !matches.isEmpty else { continue }
            let highlights = matches.map(\.range).filter { $0.length > 0 }.map {
                LogHighlight(start: $0.location, end: $0.location + $0.length)
            }
            result.append((line.seq, highlights))
        }
        return result
    }

    @Test(arguments: [true, false]) func regexResults_equalNaivePerLineRegex(usesPCRE2: Bool) async throws {
        try await withStore { store, _ in
            try store.append(execution: 1, step: "S", bytes: Self.generatedLog(lines: 3000))
            let all = try allLines(store, 1)
            #expect(all.count == 3000)
            for pattern in Self.patterns {
                for caseSensitive in [false, true] {
                    let expected = try Self.reference(all, pattern: pattern, caseSensitive: caseSensitive)
                    var found: [(Int, [LogHighlight])] = []
                    var page = 1
                    var total: Int?
                    while true {
                        let query = try pageQuery(
                            LogFilter(text: pattern, isRegex: true, isCaseSensitive: caseSensitive), page: page,
                            perPage: 100,
                            highlights: true)
                        let result = try store.lines(
                            execution: 1, query: query, budget: .unlimited(), usesPCRE2: usesPCRE2)
                        #expect(!result.isPartial)
                        total = result.total
                        found += result.items.map { ($0.seq, $0.highlights) }
                        if result.items.count < 100 { break }
                        page += 1
                    }
                    let label = "\(pattern) case_sensitive=\(caseSensitive) pcre2=\(usesPCRE2)"
                    #expect(total == expected.count, "\(label)")
                    #expect(found.map(\.0) == expected.map(\.0), "\(label)")
                    #expect(found.map(\.1) == expected.map(\.1), "\(label)")
                }
            }
        }
    }

    @Test func pcre2_isLoadedOnThisMachine() {
        // Debian's libpcre2-8-0 is part of every installation; the fast path must be the one tested.
        #expect(PCRE2Library.shared != nil)
        #expect(RegexMatcher.Worker(try! RegexMatcher(pattern: "a+", caseInsensitive: true)).matchData != nil)
    }

    @Test func partialPages_andTheirCursor_coverTheWholeLogWithoutGapOrRepeat() async throws {
        try await withStore { store, _ in
            // 40,000 lines: three chunks, so two workers scan concurrently and the merge must keep a prefix.
            try store.append(execution: 1, step: "S", bytes: Self.generatedLog(lines: 40_000, seed: 7))
            let filter = LogFilter(text: #"error|fail(ed|ure)|\b[0-9]{3} ms\b"#, isRegex: true)
            let expected = try Self.reference(try allLines(store, 1), pattern: filter.text!, caseSensitive: false).map(
                \.0)
            #expect(expected.count > 5_000)

            // Cursor walk, each request allowed 300 lines per chunk: pages end early, partial, and resume exactly.
            var seqs: [Int] = []
            var cursor = 0
            var partialPages = 0
            var requests = 0
            while requests < 1_000 {
                requests += 1
                let page = try store.lines(
                    execution: 1, query: LogQuery(filter: filter, pagination: .after(seq: cursor, perPage: 100)),
                    budget: .lines(300))
                seqs += page.items.map(\.seq)
                #expect(page.items.allSatisfy { $0.seq > cursor })
                if page.isPartial {
                    partialPages += 1
                    let resume = try #require(page.resumeAfterSeq)
                    #expect(resume > cursor, "every partial page makes progress")
                    #expect(page.nextAfterSeq == resume)
                    #expect(page.items.allSatisfy { $0.seq <= resume })
                }
                guard let next = page.nextAfterSeq, next < page.highestSeq else { break }
                cursor = next
            }
            #expect(partialPages > 0)
            #expect(seqs == expected, "no gap, no repeat")

            // A page query out of budget: matches of the scanned prefix, total a lower bound, resumable.
            let partial = try store.lines(
                execution: 1, query: try pageQuery(filter, perPage: 100), budget: .lines(10_000))
            let resume = try #require(partial.resumeAfterSeq)
            #expect(resume >= 1 && resume < 40_000)
            let inPrefix = expected.filter { $0 <= resume }
            #expect(partial.total == inPrefix.count)
            #expect(partial.items.map(\.seq) == Array(inPrefix.prefix(100)))
            let full = try store.lines(execution: 1, query: try pageQuery(filter, perPage: 100))
            #expect(!full.isPartial && full.resumeAfterSeq == nil && full.total == expected.count)

            // A sparse pattern and 20,000 lines per chunk: the first chunk (16,384 lines) completes and the
            // second stops inside, so the partial answer merges a whole chunk with part of the next.
            let sparse = LogFilter(text: "build-[0-9]+000 ", isRegex: true)
            let sparseExpected = try Self.reference(try allLines(store, 1), pattern: sparse.text!, caseSensitive: false)
                .map(\.0)
            #expect(sparseExpected.count > 5 && sparseExpected.count < 100)
            let first = try store.lines(
                execution: 1, query: LogQuery(filter: sparse, pagination: .after(seq: 0, perPage: 100)),
                budget: .lines(20_000))
            #expect(first.resumeAfterSeq == 16_384 + 20_000)
            #expect(first.items.map(\.seq) == sparseExpected.filter { $0 <= 36_384 })
            let rest = try store.lines(
                execution: 1, query: LogQuery(filter: sparse, pagination: .after(seq: 36_384, perPage: 100)),
                budget: .lines(20_000))
            #expect(!rest.isPartial)
            #expect((first.items + rest.items).map(\.seq) == sparseExpected)
        }
    }

    @Test func catastrophicPattern_afterDecidedLines_givesPartialPageThenTimeout() async throws {
        try await withStore { store, _ in
            var input = ""
            for index in 1...100 { input += index % 10 == 0 ? "aab\n" : "line \(index)\n" }
            input += String(repeating: "a", count: 50_000) + "b\n"
            try store.append(execution: 1, step: "S", bytes: input.bytes)
            var query = LogQuery(
                filter: LogFilter(text: "(a+)+$|b$", isRegex: true), pagination: .after(seq: 0, perPage: 100))
            query.regexBudget = .seconds(1)
            let start = ContinuousClock.now
            let page = try store.lines(execution: 1, query: query)
            #expect(page.isPartial)
            #expect(page.resumeAfterSeq == 100)
            #expect(page.items.map(\.seq) == Array(stride(from: 10, through: 100, by: 10)))
            query.pagination = .after(seq: 100, perPage: 100)
            #expect(throws: LogStoreError.regexTimeout(budget: .seconds(1))) {
                try store.lines(execution: 1, query: query)
            }
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }
}
