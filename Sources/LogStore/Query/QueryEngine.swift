import Foundation
import PipewrightCore

/// Runs one ``LogQuery`` against one execution's files, streaming them in bounded batches.
///
/// **Chunks and cores.** The seqs to scan are cut into chunks (16 Ki lines, doubling up to 256 Ki) that
/// up to ``maximumWorkers`` threads take in order; each records its matches as a bitmap, so a page of
/// any depth costs one bit per line. Results are merged in seq order, and only the contiguous prefix of
/// finished chunks counts: a scan that stops early (budget, or a cursor page already full) still reports
/// exactly the lines `first…scannedThrough`, never a gap.
///
/// **Memory.** Per worker one index buffer (64 Ki entries, 1 MiB) and one data buffer (≤ 8 MiB + one 1 MiB
/// line), whatever the log size, plus the bitmaps (1 bit per line). Batches start at 256 KiB of data and
/// double, so a cursor page that is satisfied early reads little.
///
/// **Budget.** Regex queries stop when ``LogQuery/regexBudget`` is spent (checked every
/// ``ScanBudget/sliceLines`` lines, and inside a line by ICU); the page then holds the matches of the
/// lines scanned so far and is marked partial (``LogPage/isPartial``). Only a scan that examined no
/// line at all throws ``LogStoreError/regexTimeout(budget:)``.
struct QueryEngine: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init and itself thread-safe (ExecutionLog guards
    // its state, ScanBudget its counter, RegexMatcher is read-only); workers share it across threads.

    /// How a line's text is tested.
    enum Matcher {
        case bytes(ByteSearcher)
        case regex(RegexMatcher)
        case nothing
    }

    static let maximumPatternLength = 4096
    static let indexBatch = 65_536
    static let initialDataBatch = 256 << 10
    static let maximumDataBatch = 8 << 20
    static let firstChunkLines = 16_384
    static let maximumChunkLines = 262_144
    /// Threads per query (the machine's cores, at most 4).
    static let maximumWorkers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4))

    let log: ExecutionLog
    let snapshot: ExecutionLog.Snapshot
    let query: LogQuery
    let matcher: Matcher?
    let minimumRank: UInt8
    /// `nil`: any step; `.some(nil)`: a step that does not exist (nothing matches).
    let step: UInt16??
    let budget: ScanBudget

    /// Prepares a query.
    ///
    /// - Parameters:
    ///   - log: the execution's files.
    ///   - query: the query.
    ///   - budget: overrides the regex budget (tests); by default regex queries get ``LogQuery/regexBudget``
    ///     from now and literal queries none.
    ///   - library: PCRE2, or `nil` for ICU only.
    init(
        log: ExecutionLog, query: LogQuery, budget: ScanBudget? = nil, library: PCRE2Library? = PCRE2Library.shared
    ) throws(LogStoreError) {
        self.log = log
        self.query = query
        snapshot = log.snapshot()
        minimumRank = query.filter.minimumLevel?.rank ?? 0
        if let name = query.filter.step {
            step = .some(snapshot.steps.firstIndex(of: name).map { UInt16($0) })
        } else {
            step = nil
        }
        let matcher = try Self.matcher(for: query.filter, library: library)
        self.matcher = matcher
        if let budget {
            self.budget = budget
        } else if case .regex = matcher {
            self.budget = .time(query.regexBudget)
        } else {
            self.budget = .unlimited()
        }
    }

    static func matcher(for filter: LogFilter, library: PCRE2Library? = PCRE2Library.shared) throws(LogStoreError)
        -> Matcher?
    {
        guard filter.hasText, let text = filter.text else { return nil }
        guard text.utf8.count <= maximumPatternLength else {
            throw .invalidQuery(field: "q", reason: "must be at most \(maximumPatternLength) bytes")
        }
        if filter.isRegex {
            return .regex(try RegexMatcher(pattern: text, caseInsensitive: !filter.isCaseSensitive, library: library))
        }
        let bytes = Array(text.utf8)
        if bytes.contains(0x0A) { return .nothing }
        if !filter.isCaseSensitive, bytes.contains(where: { $0 >= 0x80 }) {
            // Unicode case folding cannot be done on raw bytes: a literal regex, case-insensitive.
            do {
                return .regex(
                    try RegexMatcher(
                        pattern: NSRegularExpression.escapedPattern(for: text), caseInsensitive: true, library: library)
                )
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
        var resumeAfterSeq: Int?
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
                let outcome = try scan(first: first, last: last, stopAfter: nil)
                total = outcome.count
                matches = outcome.seqs(skipping: skip, limit: wanted)
                if !outcome.isComplete { resumeAfterSeq = outcome.scannedThrough }
            }
            nextAfterSeq = matches.last
        case .after(let afterSeq, let perPage):
            guard afterSeq >= 0 else { throw .invalidQuery(field: "after_seq", reason: "must be 0 or more") }
            guard perPage >= 1 else { throw .invalidQuery(field: "per_page", reason: "must be 1 or more") }
            let wanted = min(perPage, PageRequest.maximumPerPage)
            first = max(first, afterSeq + 1)
            var outcome: ScanOutcome?
            if unfiltered {
                if first <= last { matches = Array(first...min(last, first + wanted - 1)) }
            } else {
                let scanned = try scan(first: first, last: last, stopAfter: wanted)
                matches = scanned.seqs(skipping: 0, limit: wanted)
                outcome = scanned
            }
            if matches.count == wanted {
                nextAfterSeq = matches.last
            } else if let outcome, !outcome.isComplete {
                resumeAfterSeq = max(outcome.scannedThrough, afterSeq)
                nextAfterSeq = resumeAfterSeq
            } else if let toSeq = query.filter.toSeq, toSeq <= lines {
                nextAfterSeq = nil
            } else {
                nextAfterSeq = max(last, afterSeq)
            }
        }
        if let resumeAfterSeq, resumeAfterSeq < first {
            // The budget was spent before a single line was decided (a pathological pattern).
            throw .regexTimeout(budget: budget.duration)
        }
        let items = try materialize(matches: matches)
        return LogPage(
            items: items, total: total, page: page, nextAfterSeq: nextAfterSeq, highestSeq: lines,
            resumeAfterSeq: resumeAfterSeq)
    }

    // MARK: - Scanning

    /// The matches of one chunk of seqs, as a bitmap.
    struct Chunk {
        let first: Int
        let last: Int
        var bits: [UInt64]
        var count = 0
        /// Last seq examined (`first - 1`: none).
        var scannedThrough: Int

        init(first: Int, last: Int) {
            self.first = first
            self.last = last
            bits = [UInt64](repeating: 0, count: (last - first + 64) / 64)
            scannedThrough = first - 1
        }

        var isComplete: Bool { scannedThrough >= last }

        @inline(__always)
        mutating func mark(_ seq: Int) {
            let offset = seq - first
            bits[offset >> 6] |= 1 << UInt64(offset & 63)
            count += 1
        }
    }

    /// The merged result of a scan: the chunks of its contiguous scanned prefix.
    struct ScanOutcome {
        var chunks: [Chunk] = []
        var count = 0
        var scannedThrough: Int
        var isComplete: Bool

        /// Matching seqs in order, after skipping `skip` of them, at most `limit`.
        func seqs(skipping skip: Int, limit: Int) -> [Int] {
            var result: [Int] = []
            var toSkip = skip
            for chunk in chunks {
                if toSkip >= chunk.count {
                    toSkip -= chunk.count
                    continue
                }
                for (index, word) in chunk.bits.enumerated() where word != 0 {
                    var bits = word
                    let ones = bits.nonzeroBitCount
                    if toSkip >= ones {
                        toSkip -= ones
                        continue
                    }
                    while bits != 0 {
                        let bit = bits.trailingZeroBitCount
                        bits &= bits - 1
                        if toSkip > 0 {
                            toSkip -= 1
                            continue
                        }
                        result.append(chunk.first + index * 64 + bit)
                        if result.count >= limit { return result }
                    }
                }
            }
            return result
        }
    }

    /// Shared state of the workers of one scan.
    final class ScanState: @unchecked Sendable {
        // @unchecked: every field is guarded by `lock`.
        let lock = NSLock()
        var next = 0
        var results: [Chunk?]
        /// Chunks after this index are not needed (the page is full, or the budget ran out in this one); -1 on error.
        var stopBeyond = Int.max
        var error: LogStoreError?

        init(chunks: Int) { results = [Chunk?](repeating: nil, count: chunks) }

        /// Whether chunk `index` can stop (a later chunk never stops an earlier one, so the prefix stays exact).
        func shouldStop(_ index: Int) -> Bool { lock.withLock { index > stopBeyond } }
    }

    /// Buffers of one worker thread.
    final class Worker {
        let indexBuffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: QueryEngine.indexBatch * IndexEntry.size, alignment: 16)
        let dataBuffer: UnsafeMutableRawBufferPointer
        var scratch: [UInt8] = []
        var hits: [Int] = []
        /// Per line of a slice: bit 1 a needle hit, bit 2 a verify-needle hit.
        let marks = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: ScanBudget.sliceLines)
        let regex: RegexMatcher.Worker?

        init(needsData: Bool, regex: RegexMatcher?) {
            let capacity = needsData ? QueryEngine.maximumDataBatch + LogStore.maximumLineBytes + 64 : 16
            dataBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
            self.regex = regex.map(RegexMatcher.Worker.init)
        }

        deinit {
            indexBuffer.deallocate()
            dataBuffer.deallocate()
            marks.deallocate()
        }
    }

    /// Scans `first...last` (on several threads when it spans several chunks), stopping early once
    /// `stopAfter` matches are known (cursor pages) or when the budget is spent.
    func scan(first: Int, last: Int, stopAfter: Int?) throws(LogStoreError) -> ScanOutcome {
        guard first <= last else { return ScanOutcome(scannedThrough: last, isComplete: true) }
        if case .some(.none) = step { return ScanOutcome(scannedThrough: last, isComplete: true) }
        if case .nothing = matcher { return ScanOutcome(scannedThrough: last, isComplete: true) }
        let ranges: [(Int, Int)] = {
            var ranges: [(Int, Int)] = []
            var size = Self.firstChunkLines
            var start = first
            while start <= last {
                let end = min(last, start + size - 1)
                ranges.append((start, end))
                start = end + 1
                size = min(size * 2, Self.maximumChunkLines)
            }
            return ranges
        }()
        let state = ScanState(chunks: ranges.count)
        let regexMatcher: RegexMatcher? = if case .regex(let regex) = matcher { regex } else { nil }
        let needsData = matcher != nil
        let work: @Sendable (Worker) -> Void = { worker in
            while true {
                let index: Int? = state.lock.withLock {
                    guard state.next <= state.stopBeyond, state.next < ranges.count else { return nil }
                    defer { state.next += 1 }
                    return state.next
                }
                guard let index else { return }
                var chunk = Chunk(first: ranges[index].0, last: ranges[index].1)
                do throws(LogStoreError) {
                    try scanChunk(&chunk, index: index, worker: worker, stopAfter: stopAfter, state: state)
                } catch {
                    state.lock.withLock {
                        state.error = error
                        state.stopBeyond = -1
                    }
                    return
                }
                state.lock.withLock {
                    state.results[index] = chunk
                    if !chunk.isComplete { state.stopBeyond = min(state.stopBeyond, index) }
                    if let stopAfter {
                        var found = 0
                        for (position, result) in state.results.enumerated() {
                            guard let result else { break }
                            found += result.count
                            if found >= stopAfter {
                                state.stopBeyond = min(state.stopBeyond, position)
                                break
                            }
                            if !result.isComplete { break }
                        }
                    }
                }
            }
        }
        let workers = min(Self.maximumWorkers, ranges.count)
        if workers == 1 {
            work(Worker(needsData: needsData, regex: regexMatcher))
        } else {
            runConcurrentlyOnOwnThreads(workers) { _ in
                work(Worker(needsData: needsData, regex: regexMatcher))
            }
        }
        if let error = state.error { throw error }
        var outcome = ScanOutcome(scannedThrough: first - 1, isComplete: true)
        for result in state.results {
            guard let chunk = result else {
                outcome.isComplete = false
                break
            }
            outcome.chunks.append(chunk)
            outcome.count += chunk.count
            outcome.scannedThrough = chunk.scannedThrough
            if !chunk.isComplete {
                outcome.isComplete = false
                break
            }
        }
        return outcome
    }

    /// Scans one chunk, marking its matches, until it is done, `stopAfter` matches are in it, the
    /// scan is told to stop, or the budget is spent.
    func scanChunk(_ chunk: inout Chunk, index: Int, worker: Worker, stopAfter: Int?, state: ScanState)
        throws(LogStoreError)
    {
        let wantedStep: UInt16? = step ?? nil
        let needsData = matcher != nil
        let indexBuffer = worker.indexBuffer
        let dataBuffer = worker.dataBuffer
        var dataBatch = Self.initialDataBatch
        var seq = chunk.first
        let last = chunk.last
        let minimumRank = self.minimumRank
        let budget = self.budget
        let limit = stopAfter ?? Int.max

        while seq <= last {
            var count = min(Self.indexBatch, last - seq + 1)
            let read = try log.index.read(
                into: UnsafeMutableRawBufferPointer(rebasing: indexBuffer[0..<(count * IndexEntry.size)]),
                at: Int64((seq - 1) * IndexEntry.size))
            count = min(count, read / IndexEntry.size)
            guard count > 0 else {
                throw .ioFailure(reason: "index of execution \(log.execution) is shorter than expected")
            }
            // Safe: count > 0 was checked.
            // swift-format-ignore: NeverForceUnwrap
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
                guard got == dataCount else {
                    throw .ioFailure(reason: "data of execution \(log.execution) is shorter than its index")
                }
                dataBatch = min(dataBatch * 2, Self.maximumDataBatch)
            }
            // Safe: the buffer is allocated non-empty.
            // swift-format-ignore: NeverForceUnwrap
            let data = UnsafePointer(dataBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
            worker.hits = [-1]

            // Slices of ≤ sliceLines entries, each granted by the budget first.
            var sliceStart = 0
            while sliceStart < count {
                let asked = min(ScanBudget.sliceLines, count - sliceStart)
                let granted =
                    state.shouldStop(index) ? 0 : budget.grant(asked, examined: chunk.scannedThrough - chunk.first + 1)
                let sliceEnd = sliceStart + granted
                var stoppedAt: Int?
                switch matcher {
                case .bytes(let searcher):
                    let m = searcher.needle.count
                    for e in sliceStart..<sliceEnd {
                        let record = entries + e * IndexEntry.size
                        if record.load(fromByteOffset: 14, as: UInt8.self) < minimumRank { continue }
                        let entry = IndexEntry(record)
                        if let wantedStep, entry.step != wantedStep { continue }
                        let start = Int(entry.offset - dataBase)
                        var end = start + entry.length
                        let matched: Bool
                        if entry.flags & IndexEntry.Flags.escape != 0 {
                            ANSIStripper.strip(
                                UnsafeBufferPointer(start: data + start, count: entry.length), into: &worker.scratch)
                            if worker.scratch.last == UInt8(ascii: "\r") { worker.scratch.removeLast() }
                            matched = worker.scratch.withUnsafeBufferPointer { plain in
                                guard plain.count >= m, let base = plain.baseAddress else { return false }
                                return searcher.first(in: base, from: 0, to: plain.count) != nil
                            }
                        } else {
                            if entry.flags & IndexEntry.Flags.trailingCR != 0 { end -= 1 }
                            matched = Self.contains(searcher, &worker.hits[0], data, start, end, dataCount)
                        }
                        if matched {
                            chunk.mark(seq + e)
                            if chunk.count >= limit {
                                stoppedAt = e
                                break
                            }
                        }
                    }
                case .regex(let regex):
                    stoppedAt = scanRegex(
                        regex, entries: entries, range: sliceStart..<sliceEnd, seq: seq, data: data, dataBase: dataBase,
                        dataCount: dataCount, wantedStep: wantedStep, worker: worker, chunk: &chunk, limit: limit)
                case .nothing:
                    return
                case nil:
                    for e in sliceStart..<sliceEnd {
                        let record = entries + e * IndexEntry.size
                        if record.load(fromByteOffset: 14, as: UInt8.self) < minimumRank { continue }
                        if let wantedStep,
                            record.loadUnaligned(fromByteOffset: 12, as: UInt16.self) != wantedStep.littleEndian
                        {
                            continue
                        }
                        chunk.mark(seq + e)
                        if chunk.count >= limit {
                            stoppedAt = e
                            break
                        }
                    }
                }
                if let stoppedAt {
                    // A regex line left undecided ends the scan before it; a full page ends it after it.
                    chunk.scannedThrough = seq + stoppedAt - (chunk.count >= limit ? 0 : 1)
                    return
                }
                chunk.scannedThrough = seq + sliceEnd - 1
                if granted < asked { return }
                sliceStart = sliceEnd
            }
            seq += count
        }
    }

    /// Whether the bytes `start..<end` contain the searcher's needle, keeping `hit` (the next needle
    /// position at or after the previous line's start, over the whole batch) up to date.
    @inline(__always)
    static func contains(
        _ searcher: ByteSearcher, _ hit: inout Int, _ data: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
        _ dataCount: Int
    ) -> Bool {
        let m = searcher.needle.count
        if hit < start { hit = searcher.first(in: data, from: start, to: dataCount) ?? Int.max }
        while hit < end, hit > end - m {
            hit = searcher.first(in: data, from: hit + 1, to: dataCount) ?? Int.max
        }
        return hit <= end - m
    }

    /// Regex lines of one slice; returns the entry index the slice stopped at (undecided line or full page).
    ///
    /// First each needle is searched over the slice's bytes once, marking the lines its hits fall in
    /// (bit 1: a needle, bit 2: a verify needle); a rare needle skips many lines per search. Then each line
    /// is decided from its mark, the engine running only on marked lines (or on every line when the pattern
    /// has no needle). Lines with ANSI escapes are stripped and decided on their own.
    func scanRegex(
        _ regex: RegexMatcher, entries: UnsafeRawPointer, range: Range<Int>, seq: Int, data: UnsafePointer<UInt8>,
        dataBase: Int64, dataCount: Int, wantedStep: UInt16?, worker: Worker, chunk: inout Chunk, limit: Int
    ) -> Int? {
        guard let state = worker.regex else { return range.lowerBound }
        guard !range.isEmpty else { return nil }
        let marks = worker.marks
        let base = range.lowerBound
        for index in 0..<range.count { marks[index] = 0 }
        @inline(__always) func lineStart(_ e: Int) -> Int {
            Int(Int64(UInt64(littleEndian: (entries + e * IndexEntry.size).loadUnaligned(as: UInt64.self))) - dataBase)
        }
        let sliceEnd = Int(IndexEntry(entries + (range.upperBound - 1) * IndexEntry.size).end - dataBase)
        func mark(_ searcher: ByteSearcher, _ bit: UInt8) {
            let m = searcher.needle.count
            var e = base
            var position = lineStart(e)
            while e < range.upperBound, let hit = searcher.first(in: data, from: position, to: sliceEnd) {
                while e + 1 < range.upperBound, lineStart(e + 1) <= hit { e += 1 }
                let entry = IndexEntry(entries + e * IndexEntry.size)
                let start = lineStart(e)
                let contentEnd = start + entry.length - (entry.flags & IndexEntry.Flags.trailingCR != 0 ? 1 : 0)
                if hit >= start, hit + m <= contentEnd {
                    marks[e - base] |= bit
                    e += 1
                    guard e < range.upperBound else { return }
                    position = lineStart(e)
                } else {
                    position = hit + 1
                }
            }
        }
        let needles = regex.needles
        for searcher in needles { mark(searcher, 1) }
        if !needles.isEmpty {
            for searcher in regex.verifyNeedles { mark(searcher, 2) }
        }
        let checksNonASCII = regex.nonASCIILinesAreCandidates && !needles.isEmpty
        let hasNeedles = !needles.isEmpty
        let exact = regex.isExact
        var nextHigh = -1
        for e in range {
            let record = entries + e * IndexEntry.size
            if record.load(fromByteOffset: 14, as: UInt8.self) < minimumRank { continue }
            let flags = record.load(fromByteOffset: 15, as: UInt8.self)
            let lineMark = marks[e - base]
            if hasNeedles, lineMark == 0, !checksNonASCII, flags & IndexEntry.Flags.escape == 0 { continue }
            let entry = IndexEntry(record)
            if let wantedStep, entry.step != wantedStep { continue }
            let start = Int(entry.offset - dataBase)
            var end = start + entry.length
            let decision: RegexMatcher.Decision
            if flags & IndexEntry.Flags.escape != 0 {
                ANSIStripper.strip(UnsafeBufferPointer(start: data + start, count: entry.length), into: &worker.scratch)
                if worker.scratch.last == UInt8(ascii: "\r") { worker.scratch.removeLast() }
                decision = worker.scratch.withUnsafeBufferPointer { plain in
                    regex.decide(plain: plain, worker: state, budget: budget)
                }
            } else {
                if flags & IndexEntry.Flags.trailingCR != 0 { end -= 1 }
                var hasVerify = lineMark & 2 != 0
                if checksNonASCII, lineMark == 0 {
                    if nextHigh < start {
                        nextHigh = ByteSearcher.firstNonASCII(in: data, from: start, to: dataCount) ?? Int.max
                    }
                    hasVerify = nextHigh < end
                    if !hasVerify { continue }
                }
                if hasNeedles, lineMark & 1 != 0, exact {
                    decision = .match
                } else {
                    decision = regex.decide(
                        data + start, count: end - start, hasNeedle: lineMark & 1 != 0, hasVerify: hasVerify,
                        worker: state,
                        budget: budget)
                }
            }
            switch decision {
            case .match:
                chunk.mark(seq + e)
                if chunk.count >= limit { return e }
            case .noMatch:
                break
            case .undecided:
                budget.markSpent()
                return e
            }
        }
        return nil
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
            while runEnd + 1 < order.count, order[runEnd + 1] == order[runEnd] + 1, runEnd - runStart < 255 {
                runEnd += 1
            }
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
    func line(seq: Int, entry: IndexEntry, bytes: [UInt8], isContext: Bool, scratch: inout [UInt8])
        throws(LogStoreError)
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
                highlights = plain.withUnsafeBufferPointer { regex.highlights(in: $0, budget: budget) }
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
