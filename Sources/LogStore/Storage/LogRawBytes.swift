/// The raw bytes of an execution's log (or of one step's), streamed in chunks of at most 64 KiB.
///
/// The bytes are exactly what the steps printed, ANSI escapes, `\r` and invalid UTF-8 included, for the
/// lines stored when ``LogStore/rawBytes(execution:step:range:)`` was called (a partial last line still held
/// in memory is not included). Without a step, the steps' outputs follow each other in storage order; a
/// step that ended without a final newline runs into the next line. Iterating reads the files with `pread`
/// (blocking I/O) and keeps one chunk in memory.
public struct LogRawBytes: AsyncSequence, Sendable {
    /// A chunk of bytes.
    public typealias Element = [UInt8]
    /// Largest chunk yielded, in bytes.
    public static let chunkSize = 64 << 10

    /// Size of the whole raw log (execution or step) in bytes, for `Content-Range: bytes a-b/total`.
    public let totalLength: Int64
    /// The byte range this sequence yields, within `0..<totalLength`.
    public let range: Range<Int64>

    let log: ExecutionLog
    let step: UInt16?
    let lines: Int

    /// Starts reading.
    public func makeAsyncIterator() -> Iterator {
        Iterator(state: IteratorState(log: log, step: step, lines: lines, range: range))
    }

    /// Reads the chunks in order.
    public struct Iterator: AsyncIteratorProtocol {
        let state: IteratorState

        /// The next chunk, or `nil` at the end of the range.
        ///
        /// - Throws: ``LogStoreError/ioFailure(reason:)``.
        public mutating func next() async throws -> [UInt8]? {
            try state.next()
        }
    }

    /// Reading position: plain offsets for a whole execution, index-walk for one step.
    final class IteratorState {
        let log: ExecutionLog
        let step: UInt16?
        let lines: Int
        /// Virtual (raw-log) position and end.
        var position: Int64
        let end: Int64
        /// Current file segment for a step: [segmentStart, segmentEnd) in data, with its virtual start.
        var segmentStart: Int64 = 0
        var segmentEnd: Int64 = 0
        var segmentVirtualStart: Int64 = 0
        var virtualCursor: Int64 = 0
        var nextSeq = 1
        var entries: [IndexEntry] = []
        var entriesStart = 1

        init(log: ExecutionLog, step: UInt16?, lines: Int, range: Range<Int64>) {
            self.log = log
            self.step = step
            self.lines = lines
            position = range.lowerBound
            end = range.upperBound
        }

        func next() throws(LogStoreError) -> [UInt8]? {
            guard position < end else { return nil }
            guard let step else {
                let count = Int(Swift.min(Int64(LogRawBytes.chunkSize), end - position))
                let bytes = try log.data.read(count: count, at: position)
                guard bytes.count == count else {
                    throw .ioFailure(reason: "data of execution \(log.execution) ended early")
                }
                position += Int64(count)
                return bytes
            }
            // Find the segment containing `position`.
            while position >= segmentVirtualStart + (segmentEnd - segmentStart) {
                guard try advanceSegment(step: step) else {
                    throw .ioFailure(reason: "step data of execution \(log.execution) ended early")
                }
            }
            let fileOffset = segmentStart + (position - segmentVirtualStart)
            let available = Swift.min(segmentEnd - fileOffset, end - position)
            let count = Int(Swift.min(Int64(LogRawBytes.chunkSize), available))
            let bytes = try log.data.read(count: count, at: fileOffset)
            guard bytes.count == count else {
                throw .ioFailure(reason: "data of execution \(log.execution) ended early")
            }
            position += Int64(count)
            return bytes
        }

        /// Moves to the next run of contiguous lines of `step`; `false` at the end of the snapshot.
        private func advanceSegment(step: UInt16) throws(LogStoreError) -> Bool {
            segmentVirtualStart += segmentEnd - segmentStart
            var start: Int64?
            var stop: Int64 = 0
            while nextSeq <= lines {
                if nextSeq - entriesStart >= entries.count {
                    entriesStart = nextSeq
                    entries = try log.readEntries(from: nextSeq, count: Swift.min(4096, lines - nextSeq + 1))
                    if entries.isEmpty { break }
                }
                let entry = entries[nextSeq - entriesStart]
                if entry.step == step {
                    if let _ = start {
                        if entry.offset != stop { break }
                        stop = entry.end
                    } else {
                        start = entry.offset
                        stop = entry.end
                    }
                } else if start != nil {
                    nextSeq += 1
                    break
                }
                nextSeq += 1
            }
            guard let start else { return false }
            segmentStart = start
            segmentEnd = stop
            return true
        }
    }
}
