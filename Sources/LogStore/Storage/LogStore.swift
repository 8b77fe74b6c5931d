import Foundation
import Logging
import PipewrightCore

/// Stores execution logs as numbered lines on disk and answers queries over them (docs/API.md "Logs").
///
/// Layout under ``directory``: one folder per execution (`<directory>/<execution>/`) with an append-only
/// data file, a fixed-width index (16 bytes per line, so line `seq` is one seek), the step names and a
/// statistics snapshot. See ``append(execution:step:bytes:)`` for how bytes become lines.
///
/// **Concurrency.** All methods are thread-safe. Appends to one execution are serialised; queries and raw
/// reads never wait for an append to finish: they see the lines published when they start (a snapshot by
/// seq), so pages never skip or repeat a line while lines are appended. Methods do blocking file I/O; from
/// an event loop, call them on a thread pool (`NIOThreadPool`, `Task.detached`).
///
/// **Several processes** (instances sharing one `PIPEWRIGHT_LOG_DIR`, docs/scaling.md "Log store"). One
/// process at a time writes an execution's log: the first append takes an exclusive `flock(2)` on
/// `<execution>/writer.lock` (released by ``close(execution:)`` or when the process dies) and only then
/// repairs the files. Every other process reads: each read first looks at the index file's size and
/// publishes the complete lines appended since, so it sees what the writer stored; readers never change a
/// file.
///
/// **Crash safety.** Each append writes the data bytes, then the index entries. Opening an execution after
/// a crash (`kill -9` mid-append) truncates index entries whose bytes are incomplete and data bytes that no
/// entry covers, so every complete line is kept and nothing else. A partial line held in memory (no newline
/// yet) is lost with the process. Files are not `fsync`ed per append (page-cache writes survive a process
/// crash, not a power loss); ``finishStep(execution:step:)`` syncs them.
public final class LogStore: @unchecked Sendable {
    // @unchecked: `executions` is guarded by `lock`; ExecutionLog guards its own state.

    /// Longest stored line in bytes (1 MiB); longer lines are split into pieces (``LogLine``).
    public static let maximumLineBytes = 1 << 20
    /// Most distinct step names per execution.
    public static let maximumStepsPerExecution = 65_535

    /// Default for ``maximumStepBytes``: 64 MiB (docs/API.md "Logs" explains the choice).
    public static let defaultMaximumStepBytes: Int64 = 64 << 20

    /// Root folder of all execution logs.
    public let directory: String
    /// Most bytes of output stored per step (`PIPEWRIGHT_LOG_MAX_STEP_BYTES`). Bytes past it are dropped and
    /// counted in ``LogStatistics/droppedBytes``; ``finishStep(execution:step:)`` then stores one marker
    /// line saying how many were dropped.
    public let maximumStepBytes: Int64
    private let logger: Logger
    private let lock = NSLock()
    private var executions: [Int: ExecutionLog] = [:]

    /// Opens (creating if needed) a store rooted at `directory`.
    ///
    /// - Parameters:
    ///   - directory: folder for the logs, e.g. `$PIPEWRIGHT_DATA_DIR/logs`.
    ///   - maximumStepBytes: per-step cap on stored output (≥ 1); see ``maximumStepBytes``.
    ///   - logger: receives crash-repair notices.
    /// - Throws: ``LogStoreError/ioFailure(reason:)`` when the folder cannot be created.
    public init(
        directory: String, maximumStepBytes: Int64 = LogStore.defaultMaximumStepBytes,
        logger: Logger = Logger(label: "pipewright.logstore")
    ) throws(LogStoreError) {
        self.directory = directory
        self.maximumStepBytes = max(1, maximumStepBytes)
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .ioFailure(reason: "create log directory: \(error.localizedDescription)")
        }
    }

    private func path(for execution: Int) -> String { "\(directory)/\(execution)" }

    /// The execution's log for reading, caught up with lines another process appended (``ExecutionLog/refresh()``);
    /// `nil` when none is stored.
    private func log(for execution: Int) throws(LogStoreError) -> ExecutionLog? {
        let open: ExecutionLog
        if let cached = lock.withLock({ executions[execution] }) {
            open = cached
        } else {
            guard
                let opened = try ExecutionLog.open(
                    directory: path(for: execution), execution: execution, create: false,
                    maximumStepBytes: maximumStepBytes, writer: false)
            else { return nil }
            open = lock.withLock {
                if let raced = executions[execution] { return raced }
                executions[execution] = opened
                return opened
            }
        }
        try open.refresh()
        return open
    }

    /// The execution's log for writing: this store becomes its one writer (the `flock` on `writer.lock`,
    /// held until ``close(execution:)``), created and crash-repaired as needed.
    private func writer(for execution: Int) throws(LogStoreError) -> ExecutionLog {
        lock.lock()
        defer { lock.unlock() }
        if let open = executions[execution], open.isWriter { return open }
        guard
            let opened = try ExecutionLog.open(
                directory: path(for: execution), execution: execution, create: true,
                maximumStepBytes: maximumStepBytes, writer: true)
        else { throw .ioFailure(reason: "create the log of execution \(execution)") }
        executions[execution] = opened
        return opened
    }

    private func existing(_ execution: Int) throws(LogStoreError) -> ExecutionLog {
        guard let log = try log(for: execution) else { throw .executionNotFound(execution: execution) }
        return log
    }

    // MARK: - Writing

    /// Stores the bytes a step printed, as they arrive, and returns the lines this completed.
    ///
    /// Bytes are cut into lines at `\n` (the `\n` is stored, not part of ``LogLine/bytes``). The bytes after
    /// the last `\n` are held in memory until a later append brings the newline or
    /// ``finishStep(execution:step:)`` flushes them, so a UTF-8 character (or an escape sequence) split
    /// across two appends is joined, never replaced by U+FFFD. A line longer than ``maximumLineBytes`` is
    /// stored in pieces of at most 1 MiB cut at a UTF-8 boundary, as soon as 1 MiB is held. `\r`, ANSI
    /// escapes and invalid UTF-8 are stored unchanged. Each line gets the next `seq` of the execution.
    /// Once a step holds ``maximumStepBytes`` of output, its further bytes are dropped and counted (the
    /// statistics' `droppedBytes`); ``finishStep(execution:step:)`` then stores one marker line.
    ///
    /// - Parameters:
    ///   - execution: execution id; its log is created on first use.
    ///   - step: step name (any string; at most 65,535 distinct names per execution).
    ///   - bytes: the next bytes of the step's output, any size.
    /// - Returns: the lines stored by this call, in seq order (empty when no line was completed).
    /// - Throws: ``LogStoreError/ioFailure(reason:)``, ``LogStoreError/tooManySteps(execution:)``.
    @discardableResult
    public func append(execution: Int, step: String, bytes: [UInt8]) throws(LogStoreError) -> [LogLine] {
        let log = try writer(for: execution)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(LogStoreError) in
            try log.append(step: step, bytes: buffer, collect: true).0
        }
    }

    /// Like ``append(execution:step:bytes:)`` but returns only the number of lines stored (bulk import:
    /// no `LogLine` values are built).
    ///
    /// - Parameters:
    ///   - execution: execution id.
    ///   - step: step name.
    ///   - bytes: the next bytes of the step's output.
    /// - Returns: how many lines were completed and stored.
    /// - Throws: as ``append(execution:step:bytes:)``.
    @discardableResult
    public func ingest(execution: Int, step: String, bytes: UnsafeRawBufferPointer) throws(LogStoreError) -> Int {
        let log = try writer(for: execution)
        return try log.append(step: step, bytes: bytes.bindMemory(to: UInt8.self), collect: false).1
    }

    /// Ends a step: stores its held partial line (without a newline), writes the statistics snapshot and
    /// syncs the files. A step that went past ``maximumStepBytes`` gets, once, a marker line
    /// `[pipewright] log truncated: … N bytes were dropped` (its held partial line is then ended by `\n`).
    ///
    /// - Parameters:
    ///   - execution: execution id.
    ///   - step: step name; unknown steps are a no-op.
    /// - Returns: the flushed line, if any bytes were held.
    /// - Throws: ``LogStoreError/ioFailure(reason:)``.
    @discardableResult
    public func finishStep(execution: Int, step: String) throws(LogStoreError) -> [LogLine] {
        guard hasLog(execution: execution) else { return [] }
        let log = try writer(for: execution)
        let lines = try log.finishStep(step)
        try log.data.sync()
        try log.index.sync()
        return lines
    }

    // MARK: - Reading

    /// Checks a filter without reading any log (callers reject a bad pattern even when no log exists yet,
    /// so the answer never depends on the data).
    ///
    /// - Throws: ``LogStoreError/invalidRegex(reason:)``, ``LogStoreError/invalidQuery(field:reason:)``.
    public static func validate(_ filter: LogFilter) throws(LogStoreError) {
        _ = try QueryEngine.matcher(for: filter)
    }

    /// Lines of an execution that match a query, one page at a time.
    ///
    /// Lines are read from disk in bounded batches (≤ ~10 MiB per worker thread, whatever the log size), on
    /// up to all cores for long ranges. Page queries scan the whole log once to count `total`; cursor queries
    /// (``LogPagination/after(seq:perPage:)``) stop as soon as the page is full. An unfiltered page is one
    /// seek. A regex query whose budget runs out returns a partial page (``LogPage/isPartial``).
    ///
    /// - Parameters:
    ///   - execution: execution id.
    ///   - query: filter, pagination, context, highlights, regex budget.
    /// - Returns: the page.
    /// - Throws: ``LogStoreError/executionNotFound(execution:)``, ``LogStoreError/invalidRegex(reason:)``,
    ///   ``LogStoreError/regexTimeout(budget:)``, ``LogStoreError/invalidQuery(field:reason:)``,
    ///   ``LogStoreError/ioFailure(reason:)``.
    public func lines(execution: Int, query: LogQuery) throws(LogStoreError) -> LogPage {
        try lines(execution: execution, query: query, budget: nil)
    }

    /// ``lines(execution:query:)`` with the budget given (tests: ``ScanBudget/lines(_:)`` stops after a fixed
    /// number of lines, whatever the machine's speed) and, with `usesPCRE2: false`, ICU as the only engine.
    func lines(execution: Int, query: LogQuery, budget: ScanBudget?, usesPCRE2: Bool = true) throws(LogStoreError)
        -> LogPage
    {
        try Self.validate(query.filter)
        let log = try existing(execution)
        if let fromSeq = query.filter.fromSeq, fromSeq < 1 {
            throw .invalidQuery(field: "from_seq", reason: "must be 1 or more")
        }
        if query.context < 0 { throw .invalidQuery(field: "context", reason: "must be 0 or more") }
        return try QueryEngine(log: log, query: query, budget: budget, library: usesPCRE2 ? PCRE2Library.shared : nil)
            .run()
    }

    /// Statistics of an execution's log, maintained as lines are stored (constant time).
    ///
    /// - Parameter execution: execution id.
    /// - Returns: the statistics of the lines stored so far (held partial lines excluded).
    /// - Throws: ``LogStoreError/executionNotFound(execution:)``, ``LogStoreError/ioFailure(reason:)``.
    public func stats(execution: Int) throws(LogStoreError) -> LogStatistics {
        let snapshot = try existing(execution).snapshot()
        return snapshot.stats.statistics(stepNames: snapshot.steps)
    }

    /// The raw bytes of an execution's log, or of one step's, for `/logs/raw` with an optional `Range`.
    ///
    /// - Parameters:
    ///   - execution: execution id.
    ///   - step: a step name for that step's bytes only, `nil` for the whole log.
    ///   - range: the requested bytes, `nil` for all.
    /// - Returns: a sequence of chunks with the total length and resolved range.
    /// - Throws: ``LogStoreError/executionNotFound(execution:)`` (also for an unknown step),
    ///   ``LogStoreError/invalidRange(length:)`` when `range` is unsatisfiable.
    public func rawBytes(execution: Int, step: String? = nil, range: LogByteRange? = nil) throws(LogStoreError)
        -> LogRawBytes
    {
        let log = try existing(execution)
        let snapshot = log.snapshot()
        var stepID: UInt16?
        var total = snapshot.bytes
        if let step {
            guard let index = snapshot.steps.firstIndex(of: step) else {
                throw .executionNotFound(execution: execution)
            }
            stepID = UInt16(index)
            total = index < snapshot.stats.steps.count ? snapshot.stats.steps[index].bytes : 0
        }
        let resolved = try range?.resolve(length: total) ?? 0..<total
        return LogRawBytes(totalLength: total, range: resolved, log: log, step: stepID, lines: snapshot.lines)
    }

    /// The highest seq stored for an execution (its line count), 0 when it has no log.
    ///
    /// - Parameter execution: execution id.
    /// - Returns: the last seq, or 0.
    /// - Throws: ``LogStoreError/ioFailure(reason:)``.
    public func highestSeq(execution: Int) throws(LogStoreError) -> Int {
        try log(for: execution)?.snapshot().lines ?? 0
    }

    /// Whether a log is stored for `execution`.
    ///
    /// - Parameter execution: execution id.
    /// - Returns: `true` once anything was appended (and until deleted).
    public func hasLog(execution: Int) -> Bool {
        if lock.withLock({ executions[execution] != nil }) { return true }
        return FileManager.default.fileExists(atPath: path(for: execution) + "/index.bin")
    }

    // MARK: - Retention

    /// Ids of all executions with a stored log.
    ///
    /// - Returns: ids in ascending order.
    /// - Throws: ``LogStoreError/ioFailure(reason:)``.
    public func storedExecutions() throws(LogStoreError) -> [Int] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).compactMap(Int.init).sorted()
        } catch {
            throw .ioFailure(reason: "list log directory: \(error.localizedDescription)")
        }
    }

    /// When the log of `execution` last received bytes (the data file's modification time).
    ///
    /// - Parameter execution: execution id.
    /// - Returns: the time, or `nil` when no log is stored.
    public func lastModified(execution: Int) -> Date? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path(for: execution) + "/data.log")
        return attributes?[.modificationDate] as? Date
    }

    /// Deletes an execution's log (retention). Its seqs restart at 1 if it is appended to again, so callers
    /// delete only finished executions (retention never touches a running one, docs/API.md "Logs").
    ///
    /// - Parameter execution: execution id; deleting an absent log is a no-op.
    /// - Throws: ``LogStoreError/ioFailure(reason:)``.
    public func delete(execution: Int) throws(LogStoreError) {
        lock.withLock { _ = executions.removeValue(forKey: execution) }
        let path = path(for: execution)
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw .ioFailure(reason: "delete log of execution \(execution): \(error.localizedDescription)")
        }
    }

    /// Closes an execution's files (they reopen on next use) and gives up writing it, so another process
    /// (another instance taking over the execution) may append. Held partial lines are discarded; call
    /// ``finishStep(execution:step:)`` first.
    ///
    /// - Parameter execution: execution id.
    public func close(execution: Int) {
        lock.withLock { executions.removeValue(forKey: execution) }?.releaseWriter()
    }

    /// Makes this store the one writer of the execution's log now (creating it), before it reads where to
    /// resume: from then on its statistics are exact and no other process appends
    /// (docs/scaling.md "Log store").
    ///
    /// - Parameter execution: execution id.
    /// - Throws: ``LogStoreError/ioFailure(reason:)``, also while another process writes the log.
    public func becomeWriter(execution: Int) throws(LogStoreError) {
        _ = try writer(for: execution)
    }
}
