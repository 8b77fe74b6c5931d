import Foundation
import LogStore
import PipewrightCore
import Testing

@Suite struct LogStoreStorageTests {
    @Test func append_fiveMegabyteLine_isSplitMarkedAndRawByteExact() async throws {
        try await withStore { store, _ in
            // Mixed 1-, 2-, 3- and 4-byte characters so cuts must respect UTF-8 boundaries.
            let unit = Array("abcé日🚀".utf8)
            var line: [UInt8] = []
            while line.count < 5_000_000 { line += unit }
            let input = line + [0x0A] + "after\n".bytes
            var stored: [LogLine] = []
            var position = 0
            while position < input.count {
                let end = min(input.count, position + 65_537)
                stored += try store.append(execution: 1, step: "Build", bytes: Array(input[position..<end]))
                position = end
            }
            // 5 MB in pieces of at most 1 MiB (cut before a character), then "after".
            #expect(stored.count == 6)
            #expect(stored.map(\.seq) == Array(1...6))
            #expect(line.count > 4 * LogStore.maximumLineBytes)
            #expect(stored.dropLast().allSatisfy { $0.bytes.count <= LogStore.maximumLineBytes })
            #expect(stored[0].continuesOnNextLine && !stored[0].isContinuation && !stored[0].hasNewline)
            #expect(stored[1].continuesOnNextLine && stored[1].isContinuation)
            #expect(!stored[4].continuesOnNextLine && stored[4].isContinuation && stored[4].hasNewline)
            #expect(!stored[5].isContinuation && stored[5].text == "after")
            #expect(stored.dropLast().flatMap(\.bytes) == line)
            for piece in stored { #expect(String(validating: piece.bytes, as: UTF8.self) != nil) }
            #expect(try await collect(store.rawBytes(execution: 1)) == input)
            let queried = try store.lines(execution: 1, query: pageQuery(perPage: 10))
            #expect(queried.items.map(\.bytes) == stored.map(\.bytes))
            #expect(queried.items.map(\.continuesOnNextLine) == stored.map(\.continuesOnNextLine))
        }
    }

    @Test func append_200000MultibyteLines_inRandomChunks_areStoredExactly() async throws {
        try await withStore { store, _ in
            var input: [UInt8] = []
            for index in 1...200_000 {
                input += "\(index) déployé ✓ 日本語 🚀 step output line\n".bytes
            }
            var generator = SystemRandomNumberGenerator()
            var position = 0
            var count = 0
            while position < input.count {
                let end = min(input.count, position + Int.random(in: 1...9000, using: &generator))
                count += try input[position..<end].withUnsafeBytes {
                    try store.ingest(execution: 7, step: "Test", bytes: $0)
                }
                position = end
            }
            #expect(count == 200_000)
            #expect(try store.highestSeq(execution: 7) == 200_000)
            #expect(try await collect(store.rawBytes(execution: 7)) == input)
            let page = try store.lines(execution: 7, query: pageQuery(page: 1234, perPage: 100))
            #expect(page.total == 200_000)
            #expect(page.items.first?.seq == 123_301)
            #expect(page.items.first?.text == "123301 déployé ✓ 日本語 🚀 step output line")
            #expect(page.items.allSatisfy { !$0.text.contains("\u{FFFD}") })
            let stats = try store.stats(execution: 7)
            #expect(stats.totalLines == 200_000)
            #expect(stats.bytes == Int64(input.count))
        }
    }

    @Test func append_carriageReturnProgress_isStoredByteExactAndSearchable() async throws {
        try await withStore { store, _ in
            let input = "a 10%\ra 50%\ra 100%\n".bytes  // printf 'a 10%\ra 50%\ra 100%\n'
            let lines = try store.append(execution: 1, step: "S", bytes: input)
            #expect(lines.count == 1)
            #expect(lines[0].bytes == Array(input.dropLast()))
            #expect(lines[0].displayText == "a 100%")
            #expect(try await collect(store.rawBytes(execution: 1)) == input)
            let found = try store.lines(execution: 1, query: pageQuery(LogFilter(text: "50%"), highlights: true))
            #expect(found.total == 1)
            #expect(found.items.first?.highlights == [LogHighlight(start: 8, end: 11)])
        }
    }

    @Test func append_crlfLine_keepsBytesAndPlainTextDropsTrailingCR() async throws {
        try await withStore { store, _ in
            let lines = try store.append(execution: 1, step: "S", bytes: "done\r\n".bytes)
            #expect(lines[0].bytes == "done\r".bytes)
            #expect(lines[0].plainText == "done")
            #expect(try store.lines(execution: 1, query: pageQuery(LogFilter(text: "done"))).total == 1)
        }
    }

    @Test func append_multibyteCharacterSplitAcrossAppends_isJoined() async throws {
        try await withStore { store, _ in
            let text = "déployé 🚀\n".bytes
            let rocket = text.firstIndex(of: 0xF0)!
            var lines = try store.append(execution: 1, step: "S", bytes: Array(text[..<2]))  // "d" + first byte of é
            #expect(lines.isEmpty)
            lines += try store.append(execution: 1, step: "S", bytes: Array(text[2..<(rocket + 2)]))
            lines += try store.append(execution: 1, step: "S", bytes: Array(text[(rocket + 2)...]))
            #expect(lines.count == 1)
            #expect(lines[0].text == "déployé 🚀")
            #expect(!lines[0].text.contains("\u{FFFD}"))
        }
    }

    @Test func append_invalidUTF8_neverLosesBytes() async throws {
        try await withStore { store, _ in
            let input: [UInt8] = [0x66, 0xFF, 0xFE, 0x6F, 0xC3, 0x0A, 0xE2, 0x82, 0x0A, 0x80, 0x80, 0x41]
            var lines = try store.append(execution: 1, step: "S", bytes: input)
            lines += try store.finishStep(execution: 1, step: "S")
            #expect(lines.map(\.bytes) == [[0x66, 0xFF, 0xFE, 0x6F, 0xC3], [0xE2, 0x82], [0x80, 0x80, 0x41]])
            #expect(lines[2].hasNewline == false)
            #expect(lines[0].text.contains("\u{FFFD}"))
            #expect(try await collect(store.rawBytes(execution: 1)) == input)
            let read = try store.lines(execution: 1, query: pageQuery())
            #expect(read.items.map(\.bytes) == lines.map(\.bytes))
        }
    }

    @Test func finishStep_flushesPartialLineWithoutNewline() async throws {
        try await withStore { store, _ in
            #expect(try store.append(execution: 1, step: "S", bytes: "no newline".bytes).isEmpty)
            #expect(try store.highestSeq(execution: 1) == 0)
            let flushed = try store.finishStep(execution: 1, step: "S")
            #expect(flushed.map(\.text) == ["no newline"])
            #expect(flushed.first?.hasNewline == false)
            #expect(try store.highestSeq(execution: 1) == 1)
        }
    }

    @Test func rawBytes_rangesAndSteps_followHTTPSemantics() async throws {
        try await withStore { store, _ in
            try store.append(execution: 1, step: "A", bytes: "a1\na2\n".bytes)
            try store.append(execution: 1, step: "B", bytes: "b1\n".bytes)
            try store.append(execution: 1, step: "A", bytes: "a3\n".bytes)
            #expect(try await collect(store.rawBytes(execution: 1)) == "a1\na2\nb1\na3\n".bytes)
            let stepA = try store.rawBytes(execution: 1, step: "A")
            #expect(stepA.totalLength == 9)
            #expect(try await collect(stepA) == "a1\na2\na3\n".bytes)
            #expect(
                try await collect(store.rawBytes(execution: 1, step: "A", range: .bounded(first: 4, last: 7)))
                    == "2\na3".bytes)
            #expect(try await collect(store.rawBytes(execution: 1, range: .suffix(length: 3))) == "a3\n".bytes)
            #expect(try await collect(store.rawBytes(execution: 1, range: .from(9))) == "a3\n".bytes)
            #expect(try await collect(store.rawBytes(execution: 1, range: .bounded(first: 0, last: 999))).count == 12)
            #expect(throws: LogStoreError.invalidRange(length: 12)) {
                try store.rawBytes(execution: 1, range: .from(12))
            }
            #expect(throws: LogStoreError.executionNotFound(execution: 1)) {
                try store.rawBytes(execution: 1, step: "Z")
            }
            #expect(throws: LogStoreError.executionNotFound(execution: 2)) { try store.rawBytes(execution: 2) }
        }
    }

    @Test func delete_removesOnlyThatExecution() async throws {
        try await withStore { store, _ in
            try store.append(execution: 1, step: "S", bytes: "one\n".bytes)
            try store.append(execution: 2, step: "S", bytes: "two\n".bytes)
            #expect(try store.storedExecutions() == [1, 2])
            #expect(store.lastModified(execution: 1) != nil)
            try store.delete(execution: 1)
            #expect(!store.hasLog(execution: 1))
            #expect(try store.storedExecutions() == [2])
            #expect(throws: LogStoreError.executionNotFound(execution: 1)) { try store.stats(execution: 1) }
            #expect(try store.highestSeq(execution: 1) == 0)
            #expect(try store.lines(execution: 2, query: pageQuery()).items.map(\.text) == ["two"])
            try store.delete(execution: 99)
        }
    }

    // MARK: - Per-step cap (issue 12, item 9)

    @Test func stepCap_dropsAndCountsTheRest_oneMarkerAtFinish_otherStepsUnaffected() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "logstore-cap-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LogStore(directory: directory, maximumStepBytes: 100)
        let line = Array("0123456789abcdefghi\n".utf8)  // 20 bytes
        var appended: [LogLine] = []
        for _ in 0..<12 { appended += try store.append(execution: 1, step: "Build", bytes: line) }
        try store.append(execution: 1, step: "Build", bytes: [0x00, 0xFF] + Array(repeating: 0x41, count: 1000))
        try store.append(execution: 1, step: "Test", bytes: Array("ok\n".utf8))
        #expect(appended.count == 5)
        var stats = try store.stats(execution: 1)
        #expect(stats.droppedBytes == 12 * 20 - 100 + 1002)
        #expect(stats.bySteps["Build"]?.droppedBytes == 1142)
        #expect(stats.bySteps["Build"]?.bytes == 100)
        #expect(stats.bySteps["Test"]?.droppedBytes == 0)
        let finished = try store.finishStep(execution: 1, step: "Build")
        #expect(
            finished.map(\.text) == [
                "[pipewright] log truncated: this step printed more than 100 bytes (PIPEWRIGHT_LOG_MAX_STEP_BYTES); 1142 bytes were dropped"
            ])
        #expect(try store.finishStep(execution: 1, step: "Build").isEmpty)  // one marker only
        stats = try store.stats(execution: 1)
        #expect(stats.totalLines == 7)
        let raw = try await collect(try store.rawBytes(execution: 1, step: "Build"))
        #expect(raw.count == Int(stats.bySteps["Build"]?.bytes ?? 0))
        #expect(String(decoding: raw, as: UTF8.self).hasSuffix("1142 bytes were dropped\n"))
        // Reopened, the dropped count is kept.
        store.close(execution: 1)
        #expect(try LogStore(directory: directory, maximumStepBytes: 100).stats(execution: 1).droppedBytes == 1142)
    }

    @Test func safeText_replacesControlBytesButTabEscapeAndCR() {
        let line = LogLine(
            seq: 1, step: "s", timestamp: nil, level: nil, bytes: [0x41, 0x00, 0x09, 0x1B, 0x0D, 0x07, 0x7F, 0xFF])
        #expect(line.safeText == "A\u{FFFD}\t\u{1B}\r\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(line.safeText.utf16.count == line.text.utf16.count)
    }
}
