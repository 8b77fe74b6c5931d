import Foundation
import LogStore
import PipewrightCore
import Testing

@Suite struct LogStoreQueryTests {
    @Test func textQuery_ansiColouredLines_matchStrippedTextWithUTF16Highlights() async throws {
        try await withStore { store, _ in
            let input = "\u{1B}[31mERROR\u{1B}[0m: 🚀 日本語 fails here, FAILS again\nplain fails\n\u{1B}[32mok\u{1B}[0m\n"
            try store.append(execution: 1, step: "S", bytes: input.bytes)
            let page = try store.lines(execution: 1, query: pageQuery(LogFilter(text: "fails"), highlights: true))
            #expect(page.total == 2)
            let first = try #require(page.items.first)
            #expect(first.plainText == "ERROR: 🚀 日本語 fails here, FAILS again")
            // "ERROR: " 7 units, 🚀 2, " " 1, 日本語 3, " " 1 → "fails" at 14.
            #expect(first.highlights == [LogHighlight(start: 14, end: 19), LogHighlight(start: 26, end: 31)])
            let utf16 = Array(first.plainText.utf16)
            #expect(String(decoding: utf16[14..<19], as: UTF16.self) == "fails")
            #expect(first.text.hasPrefix("\u{1B}[31m"))
            #expect(first.level == .error)

            // A match that spans an escape sequence in storage.
            #expect(try store.lines(execution: 1, query: pageQuery(LogFilter(text: "error: 🚀"))).total == 1)
            // Escape bytes themselves are not matchable.
            #expect(try store.lines(execution: 1, query: pageQuery(LogFilter(text: "[31m"))).total == 0)
            // Non-ASCII, case-insensitive, highlights in UTF-16.
            let cjk = try store.lines(execution: 1, query: pageQuery(LogFilter(text: "日本語 FAILS"), highlights: true))
            #expect(cjk.items.first?.highlights == [LogHighlight(start: 10, end: 19)])
            // Regex highlights.
            let regex = try store.lines(
                execution: 1, query: pageQuery(LogFilter(text: "f[a-z]+s", isRegex: true), highlights: true))
            #expect(
                regex.items.first?.highlights == [LogHighlight(start: 14, end: 19), LogHighlight(start: 26, end: 31)])
        }
    }

    @Test func textQuery_caseSensitivity_followsFlag() async throws {
        try await withStore { store, _ in
            try store.append(execution: 1, step: "S", bytes: "Error one\nERROR two\nerror three\n".bytes)
            #expect(try store.lines(execution: 1, query: pageQuery(LogFilter(text: "eRRoR"))).total == 3)
            #expect(
                try store.lines(execution: 1, query: pageQuery(LogFilter(text: "ERROR", isCaseSensitive: true))).total
                    == 1)
            let cursor = try store.lines(
                execution: 1, query: LogQuery(filter: LogFilter(text: "error"), pagination: .after(seq: 1, perPage: 1)))
            #expect(cursor.items.map(\.seq) == [2])
            #expect(cursor.nextAfterSeq == 2)
            #expect(cursor.total == nil)
        }
    }

    @Test func levelFilter_warn_meansWarnAndAbove() async throws {
        try await withStore { store, _ in
            let lines = ["ERROR a", "WARN b", "INFO c", "DEBUG d", "plain e", "npm ERR! f", "WARNING g"]
            try store.append(execution: 1, step: "S", bytes: (lines.joined(separator: "\n") + "\n").bytes)
            func texts(_ level: LogLevel) throws -> [String] {
                try store.lines(execution: 1, query: pageQuery(LogFilter(minimumLevel: level))).items.map(\.text)
            }
            #expect(try texts(.error) == ["ERROR a", "npm ERR! f"])
            #expect(try texts(.warn) == ["ERROR a", "WARN b", "npm ERR! f", "WARNING g"])
            #expect(try texts(.info) == ["ERROR a", "WARN b", "INFO c", "npm ERR! f", "WARNING g"])
            #expect(try texts(.debug).count == 6)
            let combined = try store.lines(execution: 1, query: pageQuery(LogFilter(text: "g", minimumLevel: .warn)))
            #expect(combined.items.map(\.text) == ["WARNING g"])
        }
    }

    @Test func stepAndSeqFilters_andContext_areApplied() async throws {
        try await withStore { store, _ in
            for index in 1...10 {
                try store.append(execution: 1, step: index % 2 == 0 ? "Even" : "Odd", bytes: "line \(index)\n".bytes)
            }
            let even = try store.lines(execution: 1, query: pageQuery(LogFilter(step: "Even", fromSeq: 3, toSeq: 8)))
            #expect(even.items.map(\.seq) == [4, 6, 8])
            #expect(try store.lines(execution: 1, query: pageQuery(LogFilter(step: "Nope"))).total == 0)
            let context = try store.lines(execution: 1, query: pageQuery(LogFilter(text: "line 5"), context: 2))
            #expect(context.total == 1)
            #expect(context.items.map(\.seq) == [3, 4, 5, 6, 7])
            #expect(context.items.map(\.isContext) == [true, true, false, true, true])
            let stepContext = try store.lines(
                execution: 1, query: pageQuery(LogFilter(text: "line 6", step: "Even"), context: 1))
            #expect(stepContext.items.map(\.seq) == [4, 6, 8])
        }
    }

    @Test func regex_invalidPattern_throwsInvalidRegex() async throws {
        try await withStore { store, _ in
            try store.append(execution: 1, step: "S", bytes: "x\n".bytes)
            #expect {
                try store.lines(execution: 1, query: pageQuery(LogFilter(text: "(unclosed", isRegex: true)))
            } throws: { error in
                guard case .invalidRegex = error as? LogStoreError else { return false }
                return (error as? LogStoreError)?.code == "invalid_regex"
            }
        }
    }

    @Test func regex_catastrophicPatternOnLongLine_endsWithinBudget() async throws {
        try await withStore { store, _ in
            try store.append(execution: 1, step: "S", bytes: (String(repeating: "a", count: 50_000) + "b\n").bytes)
            var query = try pageQuery(LogFilter(text: "(a+)+$", isRegex: true))
            query.regexBudget = .milliseconds(300)
            let start = ContinuousClock.now
            #expect(throws: LogStoreError.regexTimeout(budget: .milliseconds(300))) {
                try store.lines(execution: 1, query: query)
            }
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }

    @Test func pagination_pageAndCursorWalksWithConcurrentAppender_coverEveryLineOnce() async throws {
        try await withStore { store, _ in
            let total = 20_000
            try store.append(execution: 1, step: "S", bytes: "match 0\n".bytes)
            let finished = Flag()
            let appender = Task.detached {
                defer { finished.set() }
                for index in 1..<total {
                    let text = index % 3 == 0 ? "other \(index)\n" : "match \(index)\n"
                    try store.append(execution: 1, step: "S", bytes: text.bytes)
                }
            }
            var byPage: [Int] = []
            var byCursor: [Int] = []
            var page = 1
            var cursor = 0
            var appending = true
            var queriesWhileAppending = 0
            while true {
                if appending { queriesWhileAppending += 1 }
                let done = !appending
                let paged = try store.lines(
                    execution: 1, query: pageQuery(LogFilter(text: "MATCH"), page: page, perPage: 37))
                if paged.items.count == 37 { byPage += paged.items.map(\.seq); page += 1 }
                let cursored = try store.lines(
                    execution: 1,
                    query: LogQuery(filter: LogFilter(text: "match"), pagination: .after(seq: cursor, perPage: 41)))
                byCursor += cursored.items.map(\.seq)
                cursor = cursored.nextAfterSeq ?? cursor
                if done && paged.items.count < 37 && cursored.items.count < 41 {
                    byPage += paged.items.map(\.seq)
                    break
                }
                if appending, finished.isSet { appending = false }
            }
            try await appender.value
            let expected = (0..<total).filter { $0 == 0 || $0 % 3 != 0 }.map { $0 + 1 }
            #expect(byPage == expected)
            #expect(byCursor == expected)
            #expect(queriesWhileAppending > 1, "the walks must overlap the appends")
        }
    }

    @Test func unfilteredDeepPage_andQueryValidation() async throws {
        try await withStore { store, _ in
            var input = ""
            for index in 1...1000 { input += "l\(index)\n" }
            try store.append(execution: 1, step: "S", bytes: input.bytes)
            let page = try store.lines(execution: 1, query: pageQuery(page: 7, perPage: 100))
            #expect(page.total == 1000)
            #expect(page.items.map(\.seq) == Array(601...700))
            let beyond = try store.lines(execution: 1, query: pageQuery(page: 11, perPage: 100))
            #expect(beyond.items.isEmpty && beyond.total == 1000)
            let clamped = try store.lines(execution: 1, query: LogQuery(pagination: .after(seq: 0, perPage: 500)))
            #expect(clamped.items.count == 100 && clamped.nextAfterSeq == 100)
            let tail = try store.lines(execution: 1, query: LogQuery(pagination: .after(seq: 990, perPage: 100)))
            #expect(tail.items.count == 10 && tail.nextAfterSeq == 1000)
            #expect(throws: LogStoreError.invalidQuery(field: "after_seq", reason: "must be 0 or more")) {
                try store.lines(execution: 1, query: LogQuery(pagination: .after(seq: -1, perPage: 10)))
            }
            #expect(throws: (any Error).self) { try PageRequest(page: 0, perPage: 10) }
            #expect(throws: LogStoreError.executionNotFound(execution: 5)) {
                try store.lines(execution: 5, query: LogQuery())
            }
        }
    }
}

/// A thread-safe one-way flag.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// A whole-log text search counts every matching line of a long log, whatever chunks the scan is split into
/// (docs/log-search.md): 300,000 lines, every 97th an ERROR.
@Suite struct LongLogSearchCountTests {
    @Test func pageQueryTotal_countsEveryMatchOfALongLog() async throws {
        try await withStore { store, _ in
            let lines = 300_000
            var bytes: [UInt8] = []
            for seq in 1...lines {
                let level = seq % 97 == 0 ? "ERROR" : (seq % 13 == 0 ? "WARN" : "INFO")
                bytes += Array(
                    "2026-12-07T02:00:00.\(seq % 1000)Z [\(level)] step \(seq % 7): module \(seq % 1009)\n".utf8)
                if seq % 10_000 == 0 {
                    _ = try bytes.withUnsafeBytes { try store.ingest(execution: 3, step: "Build", bytes: $0) }
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            _ = try store.finishStep(execution: 3, step: "Build")
            for text in ["error", "ERROR", "[error]"] {
                let page = try store.lines(
                    execution: 3,
                    query: LogQuery(
                        filter: LogFilter(text: text), pagination: .page(try PageRequest(page: 1, perPage: 20))))
                #expect(page.total == lines / 97, "\(text): \(page.total ?? -1) of \(lines / 97)")
                #expect(page.resumeAfterSeq == nil)
            }
        }
    }
}
