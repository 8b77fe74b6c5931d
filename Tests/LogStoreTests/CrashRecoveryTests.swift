import Foundation
import LogStore
import PipewrightCore
import Testing

@Suite struct CrashRecoveryTests {
    func appendRaw(_ bytes: [UInt8], to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    @Test func open_tornTail_keepsEveryCompleteLineAndNoGarbage() async throws {
        try await withStore { store, directory in
            let input = "first\nsecond é\n\u{1B}[31mERROR\u{1B}[0m third\n".bytes
            try store.append(execution: 1, step: "S", bytes: input)
            let before = try store.stats(execution: 1)
            store.close(execution: 1)

            // A kill -9 mid-append: data of a line written without its index entry, plus half an index record.
            try appendRaw("fourth line never indexed\npartial".bytes, to: directory + "/1/data.log")
            try appendRaw([0x2A, 0, 0, 0, 0, 0, 0, 0], to: directory + "/1/index.bin")

            let reopened = try LogStore(directory: directory)
            #expect(try reopened.highestSeq(execution: 1) == 3)
            #expect(try await collect(reopened.rawBytes(execution: 1)) == input)
            #expect(try reopened.stats(execution: 1) == before)
            let next = try reopened.append(execution: 1, step: "S", bytes: "fourth\n".bytes)
            #expect(next.map(\.seq) == [4])
            #expect(try await collect(reopened.rawBytes(execution: 1)) == input + "fourth\n".bytes)
            let data = try #require(FileManager.default.contents(atPath: directory + "/1/data.log"))
            #expect(Array(data) == input + "fourth\n".bytes)
        }
    }

    @Test func open_indexEntriesWithoutData_areDropped() async throws {
        try await withStore { store, directory in
            try store.append(execution: 1, step: "S", bytes: "one\ntwo\n".bytes)
            try store.finishStep(execution: 1, step: "S")
            store.close(execution: 1)
            // Index records for two lines whose bytes never reached the data file (offset 8, length 5).
            var record: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 2, 1]
            record += [14, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 2, 1]
            try appendRaw(record, to: directory + "/1/index.bin")
            // And cut the data file mid-line.
            try appendRaw("thr".bytes, to: directory + "/1/data.log")

            let reopened = try LogStore(directory: directory)
            #expect(try reopened.highestSeq(execution: 1) == 2)
            #expect(try await collect(reopened.rawBytes(execution: 1)) == "one\ntwo\n".bytes)
            #expect(try reopened.stats(execution: 1).totalLines == 2)
            #expect(try reopened.lines(execution: 1, query: pageQuery()).items.map(\.text) == ["one", "two"])
        }
    }
}
