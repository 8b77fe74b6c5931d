import Foundation
import LogStore
import PipewrightCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Two stores on one directory, as two instances sharing `PIPEWRIGHT_LOG_DIR` (docs/scaling.md "Log
/// store"): one writes, the other reads what it appends after it opened the log, and never changes a file.
@Suite struct SharedDirectoryTests {
    @Test func reader_seesLinesAndStepsAppendedAfterItOpenedTheLog() async throws {
        try await withStore { writer, directory in
            let reader = try LogStore(directory: directory)
            try writer.append(execution: 4, step: "Build", bytes: "one\ntwo\nERROR three\n".bytes)
            #expect(try reader.highestSeq(execution: 4) == 3)
            #expect(try reader.stats(execution: 4).totalLines == 3)

            // More lines, and a step the reader has never heard of, after the reader opened the log.
            try writer.append(execution: 4, step: "Build", bytes: "four\n".bytes)
            try writer.append(execution: 4, step: "Deploy", bytes: "five\nsix\n".bytes)
            #expect(try reader.highestSeq(execution: 4) == 6)
            #expect(try allLines(reader, 4).map(\.text) == ["one", "two", "ERROR three", "four", "five", "six"])
            #expect(try allLines(reader, 4).map(\.step) == ["Build", "Build", "Build", "Build", "Deploy", "Deploy"])
            let stats = try reader.stats(execution: 4)
            #expect(stats == (try writer.stats(execution: 4)))
            #expect(stats.bySteps["Deploy"]?.bytes == 9)
            #expect(
                try await collect(reader.rawBytes(execution: 4)) == "one\ntwo\nERROR three\nfour\nfive\nsix\n".bytes)
        }
    }

    @Test func reader_neverPublishesOrTruncatesBytesTheWriterHasNotIndexedYet() async throws {
        try await withStore { writer, directory in
            let reader = try LogStore(directory: directory)
            try writer.append(execution: 2, step: "S", bytes: "a\nb\n".bytes)
            #expect(try reader.highestSeq(execution: 2) == 2)
            // A writer between its data write and its index write: bytes without an index entry.
            let handle = try #require(FileHandle(forWritingAtPath: directory + "/2/data.log"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("c\n".utf8))
            try handle.close()
            #expect(try reader.highestSeq(execution: 2) == 2)
            #expect(try await collect(reader.rawBytes(execution: 2)) == "a\nb\n".bytes)
            let size = try FileManager.default.attributesOfItem(atPath: directory + "/2/data.log")[.size] as? Int
            #expect(size == 6, "a reader must not repair a log someone is writing")
        }
    }

    @Test func secondWriter_isRefusedUntilTheFirstCloses_thenContinuesTheSeqs() async throws {
        try await withStore { first, directory in
            let second = try LogStore(directory: directory)
            try first.append(execution: 9, step: "S", bytes: "1\n2\n".bytes)
            #expect(throws: LogStoreError.self) { try second.append(execution: 9, step: "S", bytes: "x\n".bytes) }
            #expect(throws: LogStoreError.self) { try second.becomeWriter(execution: 9) }
            first.close(execution: 9)
            try second.becomeWriter(execution: 9)
            #expect(try second.stats(execution: 9).bySteps["S"]?.bytes == 4)
            let lines = try second.append(execution: 9, step: "S", bytes: "3\n".bytes)
            #expect(lines.map(\.seq) == [3])
            #expect(throws: LogStoreError.self) { try first.append(execution: 9, step: "S", bytes: "y\n".bytes) }
            #expect(try first.highestSeq(execution: 9) == 3)
            #expect(try await collect(first.rawBytes(execution: 9)) == "1\n2\n3\n".bytes)
        }
    }
}
