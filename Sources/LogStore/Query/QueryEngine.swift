import Foundation
import PipewrightCore

/// Runs one ``LogQuery`` against one execution's files, streaming them in bounded batches.
///
/// Memory: one index buffer (64 Ki entries, 1 MiB) and one data buffer (≤ 8 MiB + one 1 MiB line),
/// whatever the log size. Batches start at 256 KiB of data and double, so a cursor page that is satisfied
/// early reads little.
struct QueryEngine {
    /// How a line's text is tested.
    enum Matcher {
        case bytes(ByteSearcher)
        case regex(NSRegularExpression)
        case nothing
    }

    static let maximumPatternLength = 4096
    static let indexBatch = 65_536
    static let initialDataBatch = 256 << 10
    static let maximumDataBatch = 8 << 20

    let log: ExecutionLog
    let snapshot: ExecutionLog.Snapshot
    let query: LogQuery
    let matcher: Matcher?
    let minimumRank: UInt8
    /// `nil`: any step; `.some(nil)`: a step that does not exist (nothing matches).
    let step: UInt16??
    let deadline: ContinuousClock.Instant

    init(log: ExecutionLog, query: LogQuery) throws(LogStoreError) {
        self.log = log
        self.query = query
        snapshot = log.snapshot()
        minimumRank = query.filter.minimumLevel?.rank ?? 0
        if let name = query.filter.step {
            step = .some(snapshot.steps.firstIndex(of: name).map { UInt16($0) })
        } else {
            step = nil
        }
        deadline = ContinuousClock.now.advanced(by: query.regexBudget)
        matcher = try Self.matcher(for: query.filter)
    }

    static func matcher(for filter: LogFilter) throws(LogStoreError) -> Matcher? {
        guard filter.hasText, let text = filter.text else { return nil }
        guard text.utf8.count <= maximumPatternLength else {
            throw .invalidQuery(field: "q", reason: "must be at most \(maximumPatternLength) bytes")
        }
        if filter.isRegex {
            do {
                let regex = try NSRegularExpression(
                    pattern: text, options: filter.isCaseSensitive ? [] : [.caseInsensitive])
                return .regex(regex)
            } catch {
                throw .invalidRegex(reason: "\(String(describing: text.prefix(100))) is not a valid ICU regular expression")
            }
        }
        let bytes = Array(text.utf8)
        if bytes.contains(0x0A) { return .nothing }
        if !filter.isCaseSensitive, bytes.contains(where: { $0 >= 0x80 }) {
            // Unicode case folding cannot be done on raw bytes: a literal regex, case-insensitive.
            do {
                return .regex(
                    try NSRegularExpression(
                        pattern: NSRegularExpression.escapedPattern(for: text), options: [.caseInsensitive]))
            } catch {
                throw .invalidRegex(reason: "the text could not be matched case-insensitively")
            }
        }
        return .bytes(ByteSearcher(needle: bytes, caseInsensitive: !filter.isCaseSensitive))
    }

    // MARK: - Running

    func run() throws(LogStoreError) -> LogPage {
        let lines = snapshot.lines
        var first = max(1, query.filter.fromSeq ?? 1)
        let last = min(lines, query.filter.toSeq ?? lines)
        var matches: [Int] = []
        var total: Int?
        var nextAfterSeq: Int?
        var page: PageRequest?
        let unfiltered = matcher == nil && minimumRank == 0 && step == nil

        switch query.pagination {
        case .page(let request):
            page = request
            let skip = request.offset
            let wanted = request.perPage
            if unfiltered {
                let count = max(0, last - first + 1)
                total = count
                if skip < count { matches = Array((first + skip)...(first + min(count, skip + wanted) - 1)) }
            } else {
                var seen = 0
                try scan(first: first, last: last) { seq in
                    if seen >= skip, seen < skip + wanted { matches.append(seq) }
                    seen += 1
                    return true
                }
                total = seen
            }
            nextAfterSeq = matches.last
        case .after(let afterSeq, let perPage):
            guard afterSeq >= 0 else { throw .invalidQuery(field: "after_seq", reason: "must be 0 or more") }
            guard perPage >= 1 else { throw .invalidQuery(field: "per_page", reason: "must be 1 or more") }
            let wanted = min(perPage, PageRequest.maximumPerPage)
            first = max(first, afterSeq + 1)
            if unfiltered {
                if first <= last { matches = Array(first...min(last, first + wanted - 1)) }
            } else {
                try scan(first: first, last: last) { seq in
                    matches.append(seq)
                    return matches.count < wanted
                }
            }
            if matches.count == wanted {
                nextAfterSeq = matches.last
            } else if let toSeq = query.filter.toSeq, toSeq <= lines {
                nextAfterSeq = nil
            } else {
                nextAfterSeq = max(last, afterSeq)
            }
        }
        let items = try materialize(matches: matches)
        return LogPage(items: items, total: total, page: page, nextAfterSeq: nextAfterSeq, highestSeq: lines)
    }

    /// Calls `visit` with each matching seq in `first...last`, in order, until it returns `false`.
    func scan(first: Int, last: Int, visit: (Int) throws(LogStoreError) -> Bool) throws(LogStoreError) {
        guard first <= last else { return }
        if case .some(.none) = step { return }
        if case .nothing = matcher { return }
        let wantedStep: UInt16? = step ?? nil
        let needsData = matcher != nil
        let indexBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.indexBatch * IndexEntry.size, alignment: 16)
        defer { indexBuffer.deallocate() }
        let dataCapacity = needsData ? Self.maximumDataBatch + LogStore.maximumLineBytes + 64 : 0
        let dataBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(dataCapacity, 16), alignment: 16)
        defer { dataBuffer.deallocate() }
        var scratch: [UInt8] = []
        var dataBatch = Self.initialDataBatch
        var seq = first
        let minimumRank = self.minimumRank

        while seq <= last {
            var count = min(Self.indexBatch, last - seq + 1)
            let read = try log.index.read(
                into: UnsafeMutableRawBufferPointer(rebasing: indexBuffer[0..<(count * IndexEntry.size)]),
                at: Int64((seq - 1) * IndexEntry.size))
            count = min(count, read / IndexEntry.size)
            guard count > 0 else { throw .ioFailure(reason: "index of execution \(log.execution) is shorter than expected") }
            let entries = UnsafeRawPointer(indexBuffer.baseAddress!)
            var dataBase: Int64 = 0
            var dataCount = 0
            if needsData {
                dataBase = IndexEntry(entries).offset
                // Largest prefix of entries whose starts lie within the data batch.
                var low = 1
                var high = count
                while low < high {
                    let middle = (low + high + 1) / 2
                    if IndexEntry(entries + (middle - 1) * IndexEntry.size).offset - dataBase < Int64(dataBatch) {
                        low = middle
                    } else {
                        high = middle - 1
                    }
                }
                count = low
                let end = IndexEntry(entries + (count - 1) * IndexEntry.size).end
                dataCount = Int(end - dataBase)
                let got = try log.data.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: dataBuffer[0..<dataCount]), at: dataBase)
                guard got == dataCount else { throw .ioFailure(reason: "data of execution \(log.execution) is shorter than its index") }
                dataBatch = min(dataBatch * 2, Self.maximumDataBatch)
            }
            let data = UnsafePointer(dataBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self))

            switch matcher {
            case .bytes(let searcher):
                let m = searcher.needle.count
                var hit = -1
                for e in 0..<count {
                    let record = entries + e * IndexEntry.size
                    if record.load(fromByteOffset: 14, as: UInt8.self) < minimumRank { continue }
                    let entry = IndexEntry(record)
                    if let wantedStep, entry.step != wantedStep { continue }
                    let start = Int(entry.offset - dataBase)
                    var end = start + entry.length
                    let matched: Bool
                    if entry.flags & IndexEntry.Flags.escape != 0 {
                        ANSIStripper.strip(UnsafeBufferPointer(start: data + start, count: entry.length), into: &scratch)
                        if scratch.last == UInt8(ascii: "\r") { scratch.removeLast() }
                        matched = scratch.withUnsafeBufferPointer { plain in
                            plain.count >= m && searcher.first(in: plain.baseAddress!, from: 0, to: plain.count) != nil
                        }
                    } else {
                        if entry.flags & IndexEntry.Flags.trailingCR != 0 { end -= 1 }
                        if hit < start { hit = searcher.first(in: data, from: start, to: dataCount) ?? Int.max }
                        while hit < end, hit > end - m {
                            hit = searcher.first(in: data, from: hit + 1, to: dataCount) ?? Int.max
                        }
                        matched = hit <= end - m
                    }
                    if matched, try !visit(seq + e) { return }
                }
            case .regex(let regex):
                for e in 0..<count {
                    let record = entries + e * IndexEntry.size
                    if record.load(fromByteOffset: 14, as: UInt8.self) < minimumRank { continue }
                    let entry = IndexEntry(record)
                    if let wantedStep, entry.step != wantedStep { continue }
                    let line = UnsafeBufferPointer(start: data + Int(entry.offset - dataBase), count: entry.length)
                    let text = Self.plainString(line, flags: entry.flags, scratch: &scratch)
                    if try regexMatches(regex, in: text), try !visit(seq + e) { return }
                }
            case .nothing:
                return
            case nil:
                for e in 0..<count {
                    let record = entries + e * IndexEntry.size
                    if record.load(fromByteOffset: 14, as: UInt8.self) < minimumRank { continue }
                    if let wantedStep, record.loadUnaligned(fromByteOffset: 12, as: UInt16.self) != wantedStep.littleEndian {
                        continue
                    }
                    if try !visit(seq + e) { return }
                }
            }
            seq += count
        }
    }

    /// The line's ``LogLine/plainText``.
    static func plainString(_ line: UnsafeBufferPointer<UInt8>, flags: UInt8, scratch: inout [UInt8]) -> String {
        if flags & IndexEntry.Flags.escape != 0 {
            ANSIStripper.strip(line, into: &scratch)
            if scratch.last == UInt8(ascii: "\r") { scratch.removeLast() }
            return String(decoding: scratch, as: UTF8.self)
        }
        let count = flags & IndexEntry.Flags.trailingCR != 0 ? line.count - 1 : line.count
        return String(decoding: UnsafeBufferPointer(rebasing: line[0..<count]), as: UTF8.self)
    }

    /// Whether `regex` matches `text`, checking the deadline before and during the match.
    func regexMatches(_ regex: NSRegularExpression, in text: String) throws(LogStoreError) -> Bool {
        try !regexRanges(regex, in: text, all: false).isEmpty
    }

    /// Match ranges (UTF-16) of `regex` in `text`: the first only, or all; empty matches count for `all: false`.
    func regexRanges(_ regex: NSRegularExpression, in text: String, all: Bool) throws(LogStoreError) -> [NSRange] {
        if ContinuousClock.now >= deadline { throw .regexTimeout(budget: query.regexBudget) }
        var ranges: [NSRange] = []
        var timedOut = false
        let deadline = self.deadline
        regex.enumerateMatches(
            in: text, options: [.reportProgress], range: NSRange(location: 0, length: text.utf16.count)
        ) { result, _, stop in
            if let result {
                ranges.append(result.range)
                if !all { stop.pointee = true }
            } else if ContinuousClock.now >= deadline {
                timedOut = true
                stop.pointee = true
            }
        }
        if timedOut { throw .regexTimeout(budget: query.regexBudget) }
        return ranges
    }

    // MARK: - Building the items

    func materialize(matches: [Int]) throws(LogStoreError) -> [LogLine] {
        guard !matches.isEmpty else { return [] }
        var wanted: [Int: Bool] = [:]  // seq → isContext
        for seq in matches { wanted[seq] = false }
        let context = min(max(query.context, 0), LogQuery.maximumContext)
        if context > 0 {
            for seq in matches {
                for neighbour in try neighbours(of: seq, count: context) where wanted[neighbour] == nil {
                    wanted[neighbour] = true
                }
            }
        }
        let order = wanted.keys.sorted()
        var items: [LogLine] = []
        items.reserveCapacity(order.count)
        var runStart = 0
        var scratch: [UInt8] = []
        while runStart < order.count {
            var runEnd = runStart
            while runEnd + 1 < order.count, order[runEnd + 1] == order[runEnd] + 1, runEnd - runStart < 255 { runEnd += 1 }
            let records = try log.readLines(from: order[runStart], count: runEnd - runStart + 1)
            for (offset, (entry, bytes)) in records.enumerated() {
                let seq = order[runStart + offset]
                let isContext = wanted[seq] ?? false
                items.append(try line(seq: seq, entry: entry, bytes: bytes, isContext: isContext, scratch: &scratch))
            }
            runStart = runEnd + 1
        }
        return items
    }

    /// Up to `count` seqs before and after `seq` (same step when the query filters by step).
    func neighbours(of seq: Int, count: Int) throws(LogStoreError) -> [Int] {
        let lines = snapshot.lines
        guard let wantedStep = step ?? nil else {
            return Array(max(1, seq - count)..<seq) + Array((seq + 1)..<min(lines + 1, seq + count + 1))
        }
        let window = min(4096, count * 64)
        var result: [Int] = []
        let lowest = max(1, seq - window)
        let before = try log.readEntries(from: lowest, count: seq - lowest)
        var found = 0
        for (offset, entry) in before.enumerated().reversed() where found < count && entry.step == wantedStep {
            result.append(lowest + offset)
            found += 1
        }
        let highest = min(lines, seq + window)
        if highest > seq {
            let after = try log.readEntries(from: seq + 1, count: highest - seq)
            found = 0
            for (offset, entry) in after.enumerated() where found < count && entry.step == wantedStep {
                result.append(seq + 1 + offset)
                found += 1
            }
        }
        return result
    }

    /// Builds the public line, with highlights for matches when asked.
    func line(seq: Int, entry: IndexEntry, bytes: [UInt8], isContext: Bool, scratch: inout [UInt8]) throws(LogStoreError)
        -> LogLine
    {
        let stepName = Int(entry.step) < snapshot.steps.count ? snapshot.steps[Int(entry.step)] : ""
        var plain = LogLine.plainBytes(bytes)
        let timestamp = plain.withUnsafeBufferPointer { TimestampParser.seconds(in: $0) }
        var highlights: [LogHighlight] = []
        if query.includesHighlights, !isContext, let matcher {
            switch matcher {
            case .bytes(let searcher):
                highlights = plain.withUnsafeBufferPointer { buffer in
                    var ranges: [(Int, Int)] = []
                    guard let base = buffer.baseAddress else { return [] }
                    var position = 0
                    while let hit = searcher.first(in: base, from: position, to: buffer.count) {
                        ranges.append((hit, hit + searcher.needle.count))
                        position = hit + searcher.needle.count
                    }
                    return Self.utf16Ranges(ranges, in: buffer)
                }
            case .regex(let regex):
                let text = String(decoding: plain, as: UTF8.self)
                highlights = try regexRanges(regex, in: text, all: true)
                    .filter { $0.length > 0 }
                    .map { LogHighlight(start: $0.location, end: $0.location + $0.length) }
            case .nothing:
                break
            }
        }
        plain.removeAll()
        return LogLine(
            seq: seq, step: stepName, timestamp: timestamp.map { Date(timeIntervalSince1970: $0) },
            level: LogLevel(rank: entry.level), bytes: bytes, hasNewline: entry.flags & IndexEntry.Flags.newline != 0,
            isContinuation: entry.flags & IndexEntry.Flags.continuation != 0,
            continuesOnNextLine: entry.flags & IndexEntry.Flags.continuesOnNextLine != 0, isContext: isContext,
            highlights: highlights)
    }

    /// Converts sorted, non-overlapping UTF-8 byte ranges to UTF-16 offsets of the lossily decoded text.
    static func utf16Ranges(_ ranges: [(Int, Int)], in bytes: UnsafeBufferPointer<UInt8>) -> [LogHighlight] {
        var result: [LogHighlight] = []
        var bytePosition = 0
        var unitPosition = 0
        func advance(to target: Int) {
            let segment = UnsafeBufferPointer(rebasing: bytes[bytePosition..<target])
            unitPosition += String(decoding: segment, as: UTF8.self).utf16.count
            bytePosition = target
        }
        for (start, end) in ranges {
            advance(to: start)
            let startUnit = unitPosition
            advance(to: end)
            result.append(LogHighlight(start: startUnit, end: unitPosition))
        }
        return result
    }
}
