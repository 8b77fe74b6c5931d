import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files of one execution's log and the state that goes with them.
///
/// Directory `<root>/<execution>/`:
/// - `data.log`: the lines' raw bytes, in seq order, each followed by its `\n` when it had one;
/// - `index.bin`: one 16-byte ``IndexEntry`` per line, so line `seq` is a seek to `(seq - 1) * 16`;
/// - `steps.json`: step names, a JSON array; an entry's step number indexes it;
/// - `stats.json`: the ``StatisticsAccumulator`` snapshot.
///
/// Write order per append: data bytes, then index entries, then the in-memory publication; readers only
/// look at lines up to the published count, so they never see a line whose bytes are not written.
/// After a crash, ``open(directory:execution:create:)`` drops index entries whose bytes are missing and
/// data bytes no entry points to.
final class ExecutionLog: @unchecked Sendable {
    // @unchecked: mutable state is guarded by `writeLock` (writer-only fields) and `stateLock`
    // (published fields); the files are append-only and read with pread.
    let execution: Int
    let directory: String
    let data: LogFile
    let index: LogFile
    /// Most bytes of output stored per step (``LogStore/maximumStepBytes``); the rest is dropped and counted.
    let maximumStepBytes: Int64

    private let writeLock = NSLock()
    private let stateLock = NSLock()

    // Published state (stateLock).
    /// The open `writer.lock` holding the exclusive `flock`, `nil` for a reader (or once released).
    private var writerLock: LogFile?
    private var publishedLines: Int
    private var publishedBytes: Int64
    private var publishedSteps: [String]
    private var publishedStats: StatisticsAccumulator

    // Writer state (writeLock).
    private struct Pending {
        var bytes: [UInt8] = []
        var isContinuation = false
    }
    private var pending: [UInt16: Pending] = [:]
    private var stepIDs: [String: UInt16]
    private var working: StatisticsAccumulator
    private var bytesSinceSnapshot: Int64 = 0
    private var scratch: [UInt8] = []

    /// Bytes of data after which the statistics snapshot is rewritten.
    static let snapshotInterval: Int64 = 8 << 20

    /// Lines, bytes, steps and statistics visible to readers at one instant.
    struct Snapshot {
        let lines: Int
        let bytes: Int64
        let steps: [String]
        let stats: StatisticsAccumulator
    }

    private init(
        execution: Int, directory: String, data: LogFile, index: LogFile, lines: Int, bytes: Int64, steps: [String],
        stats: StatisticsAccumulator, maximumStepBytes: Int64, writerLock: LogFile? = nil
    ) {
        self.maximumStepBytes = maximumStepBytes
        self.writerLock = writerLock
        self.execution = execution
        self.directory = directory
        self.data = data
        self.index = index
        publishedLines = lines
        publishedBytes = bytes
        publishedSteps = steps
        publishedStats = stats
        working = stats
        stepIDs = Dictionary(steps.enumerated().map { ($1, UInt16($0)) }, uniquingKeysWith: { first, _ in first })
    }

    /// Opens an execution's files; `nil` when absent and `create` is false.
    ///
    /// - Parameter writer: open as the one writer of the log: takes the exclusive `flock(2)` on
    ///   `writer.lock` (held until ``releaseWriter()`` or deinit) and repairs the files after a crash
    ///   (truncates what no complete line covers). A reader (`false`) never changes a file: it sees the
    ///   complete lines and follows lines another process appends through ``refresh()``.
    /// - Throws: ``LogStoreError/ioFailure(reason:)``, also when another process holds the writer lock.
    static func open(
        directory: String, execution: Int, create: Bool, maximumStepBytes: Int64 = .max, writer: Bool = true
    ) throws(LogStoreError) -> ExecutionLog? {
        let manager = FileManager.default
        if !manager.fileExists(atPath: directory + "/index.bin") {
            guard create else { return nil }
            do {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .ioFailure(reason: "create directory for execution \(execution): \(error.localizedDescription)")
            }
        }
        // The writer lock comes before anything is read: the files cannot change under the repair.
        let writerLock = try writer ? LogFile.lockExclusively(path: directory + "/writer.lock") : nil
        var steps: [String] = try readSteps(directory: directory, execution: execution)
        // Data first: an index without data would be repaired away anyway.
        let data = try LogFile(path: directory + "/data.log", create: true)
        let index = try LogFile(path: directory + "/index.bin", create: true)

        // Crash repair: drop a torn index record, entries without their bytes, and bytes without entries.
        let indexSize = try index.size()
        let dataSize = try data.size()
        var lines = Int(indexSize / Int64(IndexEntry.size))
        var end: Int64 = 0
        while lines > 0 {
            let record = try index.read(
                count: IndexEntry.size * (lines >= 2 ? 2 : 1),
                at: Int64((lines - (lines >= 2 ? 2 : 1)) * IndexEntry.size))
            // Safe: a read of at least one entry: the base address exists.
            // swift-format-ignore: NeverForceUnwrap
            let last = record.withUnsafeBytes { IndexEntry($0.baseAddress! + (lines >= 2 ? IndexEntry.size : 0)) }
            // swift-format-ignore: NeverForceUnwrap
            let expectedOffset = lines >= 2 ? record.withUnsafeBytes { IndexEntry($0.baseAddress!) }.end : 0
            if !writer, Int(last.step) >= steps.count {
                // A reader may have read steps.json just before the writer added this step.
                steps = try readSteps(directory: directory, execution: execution)
            }
            if last.offset == expectedOffset, last.end <= dataSize, Int(last.step) < steps.count,
                last.length <= LogStore.maximumLineBytes, last.level <= 4
            {
                end = last.end
                break
            }
            lines -= 1
        }
        if writer {
            if indexSize != Int64(lines * IndexEntry.size) { try index.truncate(to: Int64(lines * IndexEntry.size)) }
            if dataSize != end { try data.truncate(to: end) }
        }

        // Statistics: the snapshot, plus the lines stored after it.
        var stats = StatisticsAccumulator()
        if let json = manager.contents(atPath: directory + "/stats.json"),
            let saved = try? JSONDecoder().decode(StatisticsAccumulator.self, from: json), saved.lineCount <= lines
        {
            stats = saved
        }
        let log = ExecutionLog(
            execution: execution, directory: directory, data: data, index: index, lines: lines, bytes: end,
            steps: steps,
            stats: stats, maximumStepBytes: maximumStepBytes, writerLock: writerLock)
        if stats.lineCount < lines {
            try log.replayStatistics(through: lines)
            if writer { try log.writeSnapshot() }
        }
        return log
    }

    /// The step names in `steps.json` (empty when absent).
    private static func readSteps(directory: String, execution: Int) throws(LogStoreError) -> [String] {
        guard let json = FileManager.default.contents(atPath: directory + "/steps.json") else { return [] }
        do {
            return try JSONDecoder().decode([String].self, from: json)
        } catch {
            throw .ioFailure(reason: "steps.json of execution \(execution) is unreadable")
        }
    }

    /// Whether this object is the log's one writer (it holds `writer.lock`).
    var isWriter: Bool { stateLock.withLock { writerLock != nil } }

    /// Gives up the writer lock (``LogStore/close(execution:)``): another process may now write the log.
    func releaseWriter() {
        stateLock.withLock { writerLock = nil }
    }

    /// A reader's catch-up: publishes the complete lines another process appended since the last look
    /// (one `fstat` when nothing changed). A writer's own state is always current: a no-op there.
    ///
    /// Lines are accepted in seq order while each entry starts where the previous one ended, its bytes
    /// are in the data file and its step is in `steps.json` (re-read when the writer added a step), so a
    /// reader never publishes a line whose bytes the writer has not finished writing.
    func refresh() throws(LogStoreError) {
        if isWriter { return }
        writeLock.lock()
        defer { writeLock.unlock() }
        let (current, publishedEnd, publishedNames) = stateLock.withLock {
            (publishedLines, publishedBytes, publishedSteps)
        }
        var end = publishedEnd
        var steps = publishedNames
        let available = Int(try index.size() / Int64(IndexEntry.size))
        guard available > current else { return }
        let dataSize = try data.size()
        var accepted = current
        scan: while accepted < available {
            let entries = try readEntries(from: accepted + 1, count: min(available - accepted, 65_536))
            if entries.isEmpty { break }
            for entry in entries {
                if Int(entry.step) >= steps.count {
                    steps = try Self.readSteps(directory: directory, execution: execution)
                }
                guard entry.offset == end, entry.end <= dataSize, Int(entry.step) < steps.count,
                    entry.length <= LogStore.maximumLineBytes, entry.level <= 4
                else { break scan }
                end = entry.end
                accepted += 1
            }
        }
        guard accepted > current else { return }
        let names = steps
        stateLock.withLock { publishedSteps = names }
        try replayStatistics(through: accepted)
        stateLock.withLock {
            publishedLines = accepted
            publishedBytes = end
        }
    }

    /// Recomputes statistics for lines after the snapshot by reading them back.
    private func replayStatistics(through lines: Int) throws(LogStoreError) {
        var stats = working
        var seq = stats.lineCount + 1
        while seq <= lines {
            let batch = min(4096, lines - seq + 1)
            let records = try readLines(from: seq, count: batch)
            var plainBuffer: [UInt8] = []
            for (entry, bytes) in records {
                let hasEscape = entry.flags & IndexEntry.Flags.escape != 0
                if hasEscape { bytes.withUnsafeBufferPointer { ANSIStripper.strip($0, into: &plainBuffer) } }
                (hasEscape ? plainBuffer : bytes).withUnsafeBufferPointer { plain in
                    stats.add(
                        step: Int(entry.step), storedBytes: entry.end - entry.offset, level: entry.level,
                        timestamp: TimestampParser.seconds(in: plain), plain: { Array(plain) })
                }
            }
            seq += batch
        }
        working = stats
        stateLock.withLock { publishedStats = stats }
    }

    // MARK: - Reading

    /// What readers may see now.
    func snapshot() -> Snapshot {
        stateLock.withLock {
            Snapshot(lines: publishedLines, bytes: publishedBytes, steps: publishedSteps, stats: publishedStats)
        }
    }

    /// Index entries for `count` lines starting at `seq` (1-based).
    func readEntries(from seq: Int, count: Int) throws(LogStoreError) -> [IndexEntry] {
        let raw = try index.read(count: count * IndexEntry.size, at: Int64((seq - 1) * IndexEntry.size))
        let available = raw.count / IndexEntry.size
        return raw.withUnsafeBytes { buffer in
            // Safe: only reached when `available` > 0.
            // swift-format-ignore: NeverForceUnwrap
            (0..<available).map { IndexEntry(buffer.baseAddress! + $0 * IndexEntry.size) }
        }
    }

    /// Entries and bytes (without `\n`) of `count` consecutive lines starting at `seq`.
    func readLines(from seq: Int, count: Int) throws(LogStoreError) -> [(IndexEntry, [UInt8])] {
        let entries = try readEntries(from: seq, count: count)
        guard let first = entries.first, let last = entries.last else { return [] }
        let bytes = try data.read(count: Int(last.end - first.offset), at: first.offset)
        return entries.map { entry in
            let start = Int(entry.offset - first.offset)
            let stop = min(start + entry.length, bytes.count)
            return (entry, start < stop ? Array(bytes[start..<stop]) : [])
        }
    }

    // MARK: - Writing

    /// Stores the complete lines in `bytes` for `step`; see ``LogStore/append(execution:step:bytes:)``.
    ///
    /// - Returns: the stored lines when `collect` is true (else empty), and how many were stored.
    func append(step: String, bytes: UnsafeBufferPointer<UInt8>, collect: Bool) throws(LogStoreError) -> (
        [LogLine], Int
    ) {
        writeLock.lock()
        defer { writeLock.unlock() }
        let stepID = try id(for: step)
        var held = pending[stepID] ?? Pending()
        // The per-step cap: bytes past it are counted, not stored (the marker line comes at finishStep).
        let stored = Int(stepID) < working.steps.count ? working.steps[Int(stepID)].bytes : 0
        let room = max(0, maximumStepBytes - stored - Int64(held.bytes.count))
        var bytes = bytes
        if Int64(bytes.count) > room {
            let kept = Int(room)
            working.addDropped(step: Int(stepID), count: Int64(bytes.count - kept))
            let published = working
            stateLock.withLock { publishedStats = published }
            bytes = UnsafeBufferPointer(rebasing: bytes[..<kept])
            if bytes.isEmpty { return ([], 0) }
        }
        let result: ([LogLine], Int, Pending)
        if held.bytes.isEmpty {
            result = try store(
                step: stepID, name: step, bytes, isContinuation: held.isContinuation, flushAll: false, collect: collect)
        } else {
            held.bytes.append(contentsOf: bytes)
            result = try held.bytes.withUnsafeBufferPointer { (combined) throws(LogStoreError) in
                try store(
                    step: stepID, name: step, combined, isContinuation: held.isContinuation, flushAll: false,
                    collect: collect)
            }
        }
        pending[stepID] = result.2
        return (result.0, result.1)
    }

    /// Stores the held partial line of `step` (without a newline) and writes the statistics snapshot.
    func finishStep(_ step: String) throws(LogStoreError) -> [LogLine] {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard let stepID = stepIDs[step] else { return [] }
        var lines: [LogLine] = []
        var held = pending.removeValue(forKey: stepID) ?? Pending()
        let figures = Int(stepID) < working.steps.count ? working.steps[Int(stepID)] : StatisticsAccumulator.Step()
        if let dropped = figures.droppedBytes, dropped > 0, figures.isTruncationMarked != true {
            // One marker line, after the kept output (its partial last line ends here).
            if !held.bytes.isEmpty { held.bytes.append(0x0A) }
            held.bytes += Array(Self.truncationMarker(limit: maximumStepBytes, dropped: dropped).utf8) + [0x0A]
            working.steps[Int(stepID)].isTruncationMarked = true
        }
        if !held.bytes.isEmpty {
            lines = try held.bytes.withUnsafeBufferPointer { (combined) throws(LogStoreError) in
                try store(
                    step: stepID, name: step, combined, isContinuation: held.isContinuation, flushAll: true,
                    collect: true
                ).0
            }
        }
        try writeSnapshot()
        return lines
    }

    /// The line stored once at the end of a step whose output went past the cap.
    static func truncationMarker(limit: Int64, dropped: Int64) -> String {
        "[pipewright] log truncated: this step printed more than \(limit) bytes (PIPEWRIGHT_LOG_MAX_STEP_BYTES); "
            + "\(dropped) bytes were dropped"
    }

    /// Writes `stats.json` (atomically: temporary file, then rename).
    func writeSnapshot() throws(LogStoreError) {
        let stats = stateLock.withLock { publishedStats }
        do {
            let json = try JSONEncoder().encode(stats)
            try json.write(to: URL(fileURLWithPath: directory + "/stats.json"), options: .atomic)
        } catch {
            throw .ioFailure(reason: "write stats.json of execution \(execution): \(error.localizedDescription)")
        }
        bytesSinceSnapshot = 0
    }

    private func id(for step: String) throws(LogStoreError) -> UInt16 {
        if let id = stepIDs[step] { return id }
        let names = stateLock.withLock { publishedSteps }
        guard names.count < LogStore.maximumStepsPerExecution else { throw .tooManySteps(execution: execution) }
        let updated = names + [step]
        do {
            let json = try JSONEncoder().encode(updated)
            try json.write(to: URL(fileURLWithPath: directory + "/steps.json"), options: .atomic)
        } catch {
            throw .ioFailure(reason: "write steps.json of execution \(execution): \(error.localizedDescription)")
        }
        let id = UInt16(names.count)
        stepIDs[step] = id
        stateLock.withLock { publishedSteps = updated }
        return id
    }

    /// Cuts `bytes` (held bytes + new bytes) into lines, writes them, publishes them.
    ///
    /// - Returns: the lines (if `collect`), their count, and what is held back for the next append.
    private func store(
        step: UInt16, name: String, _ bytes: UnsafeBufferPointer<UInt8>, isContinuation: Bool, flushAll: Bool,
        collect: Bool
    ) throws(LogStoreError) -> ([LogLine], Int, Pending) {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return ([], 0, Pending(isContinuation: isContinuation))
        }
        let n = bytes.count
        let maximum = LogStore.maximumLineBytes
        let (startLines, startBytes) = stateLock.withLock { (publishedLines, publishedBytes) }
        var stats = working
        var indexBytes: [UInt8] = []
        var lines: [LogLine] = []
        var count = 0
        var continuation = isContinuation
        var scratch = self.scratch
        defer { self.scratch = scratch }

        func emit(_ start: Int, _ length: Int, newline: Bool, continues: Bool) {
            let line = UnsafeBufferPointer(start: base + start, count: length)
            var flags: UInt8 = newline ? IndexEntry.Flags.newline : 0
            if continues { flags |= IndexEntry.Flags.continuesOnNextLine }
            if continuation { flags |= IndexEntry.Flags.continuation }
            let hasEscape = length > 0 && memchr(base + start, Int32(ANSIStripper.escape), length) != nil
            if hasEscape { flags |= IndexEntry.Flags.escape }
            if length > 0, line[length - 1] == UInt8(ascii: "\r") { flags |= IndexEntry.Flags.trailingCR }
            let level: UInt8
            let timestamp: Double?
            if hasEscape {
                ANSIStripper.strip(line, into: &scratch)
                (level, timestamp) = scratch.withUnsafeBufferPointer {
                    (LevelDetector.rank(of: $0), TimestampParser.seconds(in: $0))
                }
            } else {
                level = LevelDetector.rank(of: line)
                timestamp = TimestampParser.seconds(in: line)
            }
            let entry = IndexEntry(
                offset: startBytes + Int64(start), length: length, step: step, level: level, flags: flags)
            entry.append(to: &indexBytes)
            stats.add(
                step: Int(step), storedBytes: Int64(length + (newline ? 1 : 0)), level: level, timestamp: timestamp,
                plain: { hasEscape ? scratch : Array(line) })
            count += 1
            if collect {
                lines.append(
                    LogLine(
                        seq: startLines + count, step: name,
                        timestamp: timestamp.map { Date(timeIntervalSince1970: $0) },
                        level: LogLevel(rank: level), bytes: Array(line), hasNewline: newline,
                        isContinuation: continuation, continuesOnNextLine: continues))
            }
            continuation = continues
        }

        /// Length of a piece of at most `maximum` bytes starting at `start`, cut before a UTF-8 lead byte.
        func pieceLength(_ start: Int) -> Int {
            var cut = maximum
            var backoff = 0
            while backoff < 3, base[start + cut] & 0xC0 == 0x80 {
                cut -= 1
                backoff += 1
            }
            return base[start + cut] & 0xC0 == 0x80 ? maximum : cut
        }

        var position = 0
        while position < n {
            let found = memchr(base + position, 0x0A, n - position)
            if let found {
                let newline = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - base
                var start = position
                while newline - start > maximum {
                    let length = pieceLength(start)
                    emit(start, length, newline: false, continues: true)
                    start += length
                }
                emit(start, newline - start, newline: true, continues: false)
                position = newline + 1
            } else {
                while n - position > maximum {
                    let length = pieceLength(position)
                    emit(position, length, newline: false, continues: true)
                    position += length
                }
                if flushAll {
                    emit(position, n - position, newline: false, continues: false)
                    position = n
                }
                break
            }
        }

        if position > 0 {
            try data.append(UnsafeRawBufferPointer(start: base, count: position))
            try indexBytes.withUnsafeBufferPointer { (buffer) throws(LogStoreError) in
                try index.append(UnsafeRawBufferPointer(buffer))
            }
            working = stats
            let published = stats
            stateLock.withLock {
                publishedLines = startLines + count
                publishedBytes = startBytes + Int64(position)
                publishedStats = published
            }
            bytesSinceSnapshot += Int64(position)
            if bytesSinceSnapshot >= Self.snapshotInterval { try writeSnapshot() }
        }
        let rest = Pending(bytes: position < n ? Array(bytes[position...]) : [], isContinuation: continuation)
        return (lines, count, rest)
    }
}
