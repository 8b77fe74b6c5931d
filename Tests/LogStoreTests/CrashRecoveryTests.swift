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

#if canImport(Glibc)
    import Glibc

    @Suite struct KillNineTests {
        /// A forked child appends as fast as it can and is killed with SIGKILL mid-stream.
        @Test func open_afterSIGKILLMidAppend_hasOnlyCompleteLines() async throws {
            try await withStore { _, directory in
                let child = fork()
                if child == 0 {
                    // Child: only raw syscalls-backed store calls, then busy appending until killed.
                    guard let store = try? LogStore(directory: directory) else { _exit(2) }
                    var index = 0
                    while true {
                        var chunk = ""
                        for _ in 0..<50 {
                            index += 1
                            chunk += "line \(index) é 🚀 " + String(repeating: "x", count: index % 300) + "\n"
                        }
                        // Split each chunk mid-line so a partial line is always held.
                        let bytes = Array(chunk.utf8)
                        _ = try? store.append(execution: 9, step: "S", bytes: Array(bytes[..<(bytes.count / 2)]))
                        _ = try? store.append(execution: 9, step: "S", bytes: Array(bytes[(bytes.count / 2)...]))
                    }
                }
                #expect(child > 0)
                try await Task.sleep(for: .milliseconds(400))
                kill(child, SIGKILL)
                var status: Int32 = 0
                waitpid(child, &status, 0)

                let store = try LogStore(directory: directory)
                let highest = try store.highestSeq(execution: 9)
                #expect(highest > 0, "the child wrote nothing before it was killed")
                let raw = try await collect(store.rawBytes(execution: 9))
                var expected: [UInt8] = []
                for index in 1...max(highest, 1) {
                    expected += Array(("line \(index) é 🚀 " + String(repeating: "x", count: index % 300) + "\n").utf8)
                }
                #expect(raw == expected)
                #expect(try store.stats(execution: 9).totalLines == highest)
                let appended = try store.append(execution: 9, step: "S", bytes: "after restart\n".bytes)
                #expect(appended.map(\.seq) == [highest + 1])
            }
        }
    }
#endif
