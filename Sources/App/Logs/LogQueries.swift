import Fluent
import Foundation
import LogStore
import PipewrightCore
import Realtime

/// Reading and loading build logs (docs/API.md "Logs"). Every log-store call runs off the event loop
/// (`runBlocking`): the store reads and scans files synchronously.
struct LogQueries: Sendable {
    let db: any Database
    let store: LogStore
    let events: ExecutionEventHub
    /// Tells the other instances about an event published into `events` (`ClusterEventBridge.announce`).
    var announce: @Sendable (RealtimeEvent) -> Void = { _ in }
    /// `PIPEWRIGHT_REGEX_BUDGET_MS`: how long one regex search may scan before answering with a partial page.
    let regexBudget: Duration

    /// The raw log (or one step of it) as the download endpoint serves it.
    enum RawLog: Sendable {
        /// Nothing stored (or no such step): an empty body.
        case empty
        /// The range cannot be served; `length` is the size of the whole log.
        case unsatisfiable(length: Int64)
        /// The bytes; `isPartial` when a range was asked for.
        case bytes(LogRawBytes, isPartial: Bool)
        /// The whole log with escape sequences removed (`strip_ansi=true`; no range, length unknown).
        case plainText(ANSIStrippedBytes)
    }

    /// The filters of the seed's per-pipeline log listing.
    struct PipelineLogFilter: Sendable {
        var status: Execution.Status?
        var from: Date?
        var to: Date?
        /// Case-insensitive substring of a step name.
        var stepFilter: String?
    }

    /// One execution with the tail of its log.
    struct PipelineLogEntry: Sendable {
        var execution: Execution
        var excerpt: [LogLine]
        var totalLines: Int
        var errors: Int
    }

    /// Executions matching the filters (one page) and all of them, for the summary.
    struct PipelineLogs: Sendable {
        var entries: [PipelineLogEntry]
        var matching: [Execution]
    }

    // MARK: - Per execution

    /// A page of lines; an execution with no stored log gives an empty page.
    func lines(executionID: Int, query: LogQuery, for user: AuthenticatedUser) async throws -> LogPage {
        let id = try await Execution.find(executionID, visibleTo: user, on: db).requireID()
        var budgeted = query
        budgeted.regexBudget = regexBudget
        guard store.hasLog(execution: id) else {
            if case .page(let page) = query.pagination {
                return LogPage(items: [], total: 0, page: page, nextAfterSeq: nil, highestSeq: 0)
            }
            return LogPage(items: [], total: nil, page: nil, nextAfterSeq: nil, highestSeq: 0)
        }
        let (store, query) = (self.store, budgeted)
        return try await runBlocking { try store.lines(execution: id, query: query) }
    }

    /// Up to `count` consecutive lines (of `step`, or of every step) with seq greater than `afterSeq` and at
    /// most `toSeq`: the log viewer's windows. Made of cursor queries of 100 lines (the API's page limit).
    ///
    /// - Parameters:
    ///   - count: lines wanted, clamped to `1...1000`.
    /// - Returns: the lines in seq order and whether more lines of the step follow the last one (as stored
    ///   now; `false` when the log has nothing after it yet).
    func window(
        executionID: Int, step: String?, afterSeq: Int, toSeq: Int?, count: Int, for user: AuthenticatedUser
    ) async throws -> (lines: [LogLine], hasMore: Bool) {
        let wanted = min(max(count, 1), 1000)
        var lines: [LogLine] = []
        var cursor = max(afterSeq, 0)
        while lines.count < wanted {
            var filter = LogFilter()
            filter.step = step
            filter.toSeq = toSeq
            let query = LogQuery(
                filter: filter, pagination: .after(seq: cursor, perPage: min(100, wanted - lines.count)))
            let page = try await self.lines(executionID: executionID, query: query, for: user)
            lines += page.items
            guard let next = page.nextAfterSeq, next > cursor, !page.items.isEmpty else {
                return (lines, false)
            }
            cursor = next
        }
        let last = lines.last?.seq ?? cursor
        let stored = try await highestSeq(executionID: executionID, for: user)
        return (lines, last < min(toSeq ?? Int.max, stored))
    }

    /// The highest seq stored for the execution (0 when nothing is).
    func highestSeq(executionID: Int, for user: AuthenticatedUser) async throws -> Int {
        let id = try await Execution.find(executionID, visibleTo: user, on: db).requireID()
        guard store.hasLog(execution: id) else { return 0 }
        let store = self.store
        return try await runBlocking { try store.highestSeq(execution: id) }
    }

    func stats(executionID: Int, for user: AuthenticatedUser) async throws -> LogStatistics {
        let id = try await Execution.find(executionID, visibleTo: user, on: db).requireID()
        guard store.hasLog(execution: id) else { return LogStatistics() }
        let store = self.store
        return try await runBlocking { try store.stats(execution: id) }
    }

    /// The stored bytes (of `step`), or the part `range` names. An unusable range header is ignored by the
    /// caller (RFC 9110 §14.2); `bytes=-0` is unsatisfiable. With `stripsANSI` the whole log (of `step`) is
    /// returned without escape sequences and any range is ignored (stripped offsets are not stored offsets).
    func raw(
        executionID: Int, step: String?, range: LogByteRange?, rangeIsEmptySuffix: Bool, stripsANSI: Bool = false,
        for user: AuthenticatedUser
    ) async throws -> RawLog {
        let id = try await Execution.find(executionID, visibleTo: user, on: db).requireID()
        guard store.hasLog(execution: id) else { return .empty }
        let store = self.store
        if stripsANSI {
            let stats = try await runBlocking { try store.stats(execution: id) }
            if let step, stats.bySteps[step] == nil { return .empty }
            return .plainText(
                ANSIStrippedBytes(try await runBlocking { try store.rawBytes(execution: id, step: step) }))
        }
        let stats = try await runBlocking { try store.stats(execution: id) }
        if rangeIsEmptySuffix { return .unsatisfiable(length: stats.bytes) }
        if let step, stats.bySteps[step] == nil { return .empty }
        do {
            let bytes = try await runBlocking { try store.rawBytes(execution: id, step: step, range: range) }
            return .bytes(bytes, isPartial: range != nil)
        } catch LogStoreError.invalidRange(let length) {
            return .unsatisfiable(length: length)
        }
    }

    /// Admin only: appends `body` to `step` and publishes the stored lines live, as the monitor does;
    /// `finish` flushes the step's last partial line.
    ///
    /// - Returns: lines stored and the highest seq afterwards.
    func ingest<Body: AsyncSequence & Sendable>(
        executionID: Int, step: String, finish: Bool, body: Body, by admin: AuthenticatedUser
    ) async throws -> (stored: Int, highestSeq: Int) where Body.Element == [UInt8] {
        let execution = try await Execution.find(executionID, for: .ingestLogs, by: admin, on: db)
        let id = try execution.requireID()
        guard !step.isEmpty, step.count <= 200 else {
            throw AppError.invalidField("step", reason: "is required (1-200 characters)")
        }
        try FieldRules.noControlCharacters(step, field: "step")
        let store = self.store
        let stepRef = StepRef.named(step, in: execution.steps)
        let pipelineID = execution.$pipeline.id
        let events = self.events
        let announce = self.announce
        func publish(_ lines: [LogLine]) async {
            guard !lines.isEmpty else { return }
            for event in RealtimeEvent.pipelineLogs(
                executionID: id, pipelineID: pipelineID, step: stepRef, lines: lines.map(LogLinePayload.init))
            {
                await events.publish(event)
                announce(event)
            }
        }
        var stored = 0
        for try await bytes in body {
            let lines = try await runBlocking { try store.append(execution: id, step: step, bytes: bytes) }
            stored += lines.count
            await publish(lines)
        }
        if finish {
            let lines = try await runBlocking { try store.finishStep(execution: id, step: step) }
            stored += lines.count
            await publish(lines)
        }
        PipewrightMetrics.logLinesStored(stored, source: .ingest)
        return (stored, try await runBlocking { try store.highestSeq(execution: id) })
    }

    // MARK: - The seed endpoint

    /// A pipeline's executions (newest first) matching `filter`, one page of them with the last 10 lines of
    /// their logs (of the `stepFilter` step when given), and all matching ones for the summary.
    func pipelineLogs(
        pipelineID: Int, filter: PipelineLogFilter, page: PipewrightCore.PageRequest, for user: AuthenticatedUser
    )
        async throws -> PipelineLogs
    {
        let pipeline = try await Pipeline.find(pipelineID, visibleTo: user, on: db)
        let query = Execution.query(on: db).filter(\.$pipeline.$id == (try pipeline.requireID()))
        if let status = filter.status { query.filter(\.$status == status) }
        if let from = filter.from { query.filter(\.$triggerAt >= from) }
        if let to = filter.to { query.filter(\.$triggerAt <= to) }
        var matching = try await query.sort(\.$id, .descending).with(\.$attempts).all()
        let needle = filter.stepFilter?.lowercased() ?? ""
        if !needle.isEmpty {
            matching = matching.filter { execution in execution.steps.contains { $0.name.lowercased().contains(needle) }
            }
        }
        var entries: [PipelineLogEntry] = []
        for execution in matching.dropFirst(page.offset).prefix(page.perPage) {
            entries.append(try await tail(of: execution, stepFilter: needle))
        }
        return PipelineLogs(entries: entries, matching: matching)
    }

    private func tail(of execution: Execution, stepFilter needle: String) async throws -> PipelineLogEntry {
        let id = try execution.requireID()
        guard store.hasLog(execution: id) else {
            return PipelineLogEntry(execution: execution, excerpt: [], totalLines: 0, errors: 0)
        }
        let store = self.store
        return try await runBlocking {
            let stats = try store.stats(execution: id)
            let step = needle.isEmpty ? nil : stats.stepOrder.first { $0.lowercased().contains(needle) }
            let tail = try store.lines(
                execution: id,
                query: LogQuery(
                    filter: LogFilter(step: step, fromSeq: step == nil ? max(1, stats.totalLines - 9) : nil),
                    pagination: .page(try PipewrightCore.PageRequest(page: 1, perPage: step == nil ? 10 : 100))))
            return PipelineLogEntry(
                execution: execution, excerpt: Array(tail.items.suffix(10)), totalLines: stats.totalLines,
                errors: stats.byLevel[.error] ?? 0)
        }
    }
}
