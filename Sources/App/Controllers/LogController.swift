import Fluent
import Foundation
import LogStore
import NIOCore
import PipewrightCore
import Realtime
import Vapor

/// Build logs (SPEC §9): the seed's `GET /api/pipelines/{id}/logs`, and per execution `logs`, `logs/raw`,
/// `logs/stats`, plus an admin ingestion path (`POST /api/executions/{id}/logs?step=`) that loads a log
/// without Bitbucket through the same store API the monitor uses.
struct LogController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        routes.get("pipelines", ":pipelineID", "logs", use: pipelineLogs)
        routes.get("executions", ":executionID", "logs", use: lines)
        routes.get("executions", ":executionID", "logs", "raw", use: raw).streaming()
        routes.get("executions", ":executionID", "logs", "stats", use: stats)
        routes.on(.POST, "executions", ":executionID", "logs", body: .stream, use: ingest).streaming()
    }

    // MARK: - Per execution

    @Sendable func lines(req: Request) async throws -> LogLinesResponse {
        let execution = try await ExecutionController.find(req)
        let id = try execution.requireID()
        var parsed = try Self.query(from: req)
        parsed.regexBudget = services.configuration.regexBudget
        let query = parsed
        let highlight = query.includesHighlights
        let store = services.logStore
        guard store.hasLog(execution: id) else {
            let pagination: PageResponse<LogLineResponse>.Pagination? = {
                if case .page(let page) = query.pagination {
                    return .init(page: page.page, perPage: page.perPage, total: 0, pages: 0)
                }
                return nil
            }()
            return LogLinesResponse(items: [], pagination: pagination, nextAfterSeq: nil, highestSeq: 0)
        }
        let page = try await Self.offLoop { try store.lines(execution: id, query: query) }
        var pagination: PageResponse<LogLineResponse>.Pagination?
        if let request = page.page, let total = page.total {
            pagination = .init(page: request.page, perPage: request.perPage, total: total, pages: request.pageCount(total: total))
        }
        return LogLinesResponse(
            items: page.items.map { LogLineResponse($0, highlight: highlight) }, pagination: pagination,
            nextAfterSeq: page.nextAfterSeq, highestSeq: page.highestSeq, partial: page.isPartial,
            resumeAfterSeq: page.resumeAfterSeq, totalIsLowerBound: page.isPartial && page.total != nil ? true : nil)
    }

    @Sendable func stats(req: Request) async throws -> LogStatsResponse {
        let execution = try await ExecutionController.find(req)
        let id = try execution.requireID()
        guard services.logStore.hasLog(execution: id) else { return LogStatsResponse(LogStatistics()) }
        return LogStatsResponse(try services.logStore.stats(execution: id))
    }

    /// `text/plain` bytes exactly as stored; `Range: bytes=…` gives 206 with `Content-Range` (416 when
    /// unsatisfiable). `?step=` limits to one step.
    @Sendable func raw(req: Request) async throws -> Response {
        let execution = try await ExecutionController.find(req)
        let id = try execution.requireID()
        let step = req.query[String.self, at: "step"]
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .acceptRanges, value: "bytes")
        guard services.logStore.hasLog(execution: id) else {
            return Response(status: .ok, headers: headers, body: .init(string: ""))
        }
        // RFC 9110 §14.2: a Range header the server cannot use is ignored (full 200 response).
        let range = req.headers.first(name: .range).flatMap(Self.parseRange)
        if req.headers.first(name: .range) == "bytes=-0" {
            let length = (try? services.logStore.stats(execution: id).bytes) ?? 0
            headers.replaceOrAdd(name: .contentRange, value: "bytes */\(length)")
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        if let step, (try? services.logStore.stats(execution: id).bySteps[step]) == nil {
            return Response(status: .ok, headers: headers, body: .init(string: ""))
        }
        let outcome: Result<LogRawBytes, LogStoreError>
        do {
            outcome = .success(try services.logStore.rawBytes(execution: id, step: step, range: range))
        } catch {
            outcome = .failure(error)
        }
        let bytes: LogRawBytes
        switch outcome {
        case .success(let value):
            bytes = value
        case .failure(.invalidRange(let length)):
            headers.replaceOrAdd(name: .contentRange, value: "bytes */\(length)")
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .failure(let error):
            throw error
        }
        let status: HTTPResponseStatus = range == nil ? .ok : .partialContent
        if range != nil, !bytes.range.isEmpty {
            headers.replaceOrAdd(
                name: .contentRange, value: "bytes \(bytes.range.lowerBound)-\(bytes.range.upperBound - 1)/\(bytes.totalLength)")
        }
        let length = Int(bytes.range.count)
        let body = Response.Body(managedAsyncStream: { writer in
            for try await chunk in bytes {
                try await writer.writeBuffer(ByteBuffer(bytes: chunk))
            }
        }, count: length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Admin only: appends the streamed body to `step` (`?finish=true` flushes its last partial line).
    @Sendable func ingest(req: Request) async throws -> Response {
        _ = try req.requireAdmin()
        let execution = try await ExecutionController.find(req)
        let id = try execution.requireID()
        guard let step = req.query[String.self, at: "step"], !step.isEmpty, step.count <= 200 else {
            throw AppError.invalidField("step", reason: "is required (1-200 characters)")
        }
        try Validation.noControlCharacters(step, field: "step")
        let finish = try Validation.flag(req, "finish")
        let store = services.logStore
        let hub = req.application.executionEvents
        let stepRef = StepRef.named(step, in: execution.steps)
        let pipelineID = execution.$pipeline.id
        // Stored lines are published live as they are appended, like the monitor's (SPEC §10).
        func publish(_ lines: [LogLine]) async {
            guard !lines.isEmpty else { return }
            for event in RealtimeEvent.pipelineLogs(
                executionID: id, pipelineID: pipelineID, step: stepRef, lines: lines.map(LogLinePayload.init))
            {
                await hub.publish(event)
            }
        }
        var stored = 0
        for try await chunk in req.body {
            let bytes = Array(chunk.readableBytesView)
            let lines = try await Self.offLoop { try store.append(execution: id, step: step, bytes: bytes) }
            stored += lines.count
            await publish(lines)
        }
        if finish {
            let lines = try store.finishStep(execution: id, step: step)
            stored += lines.count
            await publish(lines)
        }
        PipewrightMetrics.logLinesStored(stored, source: .ingest)
        let response = Response(status: .ok)
        try response.content.encode(["lines_stored": stored, "highest_seq": try store.highestSeq(execution: id)])
        return response
    }

    // MARK: - The seed endpoint

    /// `?page&per_page&status&from_date&to_date&step_filter`: executions with steps, an excerpt and a summary.
    @Sendable func pipelineLogs(req: Request) async throws -> PipelineLogsResponse {
        let pipeline = try await PipelineController.find(req)
        let page = try PageQuery.parse(req)
        let pipelineID = try pipeline.requireID()
        let query = Execution.query(on: req.db).filter(\.$pipeline.$id == pipelineID)
        if let status = req.query[String.self, at: "status"] {
            guard let parsed = Execution.Status(rawValue: status.uppercased()) else {
                throw AppError.invalidField(
                    "status", reason: "must be one of \(Execution.Status.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.filter(\.$status == parsed)
        }
        if let from = try Self.date(req, "from_date") { query.filter(\.$triggerAt >= from) }
        if let to = try Self.date(req, "to_date") { query.filter(\.$triggerAt <= to) }
        let stepFilter = req.query[String.self, at: "step_filter"]
        var matching = try await query.sort(\.$id, .descending).with(\.$attempts).all()
        if let stepFilter, !stepFilter.isEmpty {
            let needle = stepFilter.lowercased()
            matching = matching.filter { execution in
                let steps = (try? JSONDecoder.iso8601.decode([ExecutionStep].self, from: Data(execution.stepsJSON.utf8))) ?? []
                return steps.contains { $0.name.lowercased().contains(needle) }
            }
        }
        let total = matching.count
        let window = matching.dropFirst(page.offset).prefix(page.perPage)
        var items: [PipelineLogEntry] = []
        for execution in window {
            let id = try execution.requireID()
            var excerpt: [LogLineResponse] = []
            var totalLines = 0
            var errors = 0
            if services.logStore.hasLog(execution: id) {
                let stats = try services.logStore.stats(execution: id)
                totalLines = stats.totalLines
                errors = stats.byLevel[.error] ?? 0
                let step = stepFilter.flatMap { filter in stats.stepOrder.first { $0.lowercased().contains(filter.lowercased()) } }
                let from = max(1, stats.totalLines - 9)
                let tail = try services.logStore.lines(
                    execution: id,
                    query: LogQuery(
                        filter: LogFilter(step: step, fromSeq: step == nil ? from : nil),
                        pagination: .page(try PipewrightCore.PageRequest(page: 1, perPage: step == nil ? 10 : 100))))
                excerpt = tail.items.suffix(10).map { LogLineResponse($0, highlight: false) }
            }
            items.append(PipelineLogEntry(
                execution: try ExecutionResponse(execution, attempts: execution.attempts), excerpt: excerpt,
                totalLines: totalLines, errors: errors))
        }
        return PipelineLogsResponse(
            items: items, pagination: .init(page: page.page, perPage: page.perPage, total: total, pages: page.pageCount(total: total)),
            summary: Self.summary(of: matching))
    }

    static func summary(of executions: [Execution]) -> PipelineLogsResponse.Summary {
        var byStatus: [String: Int] = [:]
        for status in Execution.Status.allCases { byStatus[status.rawValue] = 0 }
        for execution in executions { byStatus[execution.status.rawValue, default: 0] += 1 }
        let finished = executions.filter { $0.status == .success || $0.status == .failed }
        let successes = executions.filter { $0.status == .success }
        let durations = executions.compactMap { execution -> Double? in
            guard let start = execution.startedAt, let end = execution.finishedAt else { return nil }
            return end.timeIntervalSince(start)
        }
        return .init(
            total: executions.count, byStatus: byStatus,
            successRate: finished.isEmpty ? nil : Double(successes.count) / Double(finished.count),
            averageDurationS: durations.isEmpty ? nil : durations.reduce(0, +) / Double(durations.count),
            lastSuccessAt: successes.compactMap(\.finishedAt).max(),
            lastFailureAt: executions.filter { $0.status == .failed }.compactMap(\.finishedAt).max())
    }

    // MARK: - Parsing

    /// Builds the store query from `q, regex, case_sensitive, level, step, from_seq, after_seq, page, per_page,
    /// highlight, context`.
    static func query(from req: Request) throws -> LogQuery {
        func integer(_ name: String, range: ClosedRange<Int>) throws -> Int? {
            guard let raw = req.query[String.self, at: name] else { return nil }
            guard let value = Int(raw), range.contains(value) else {
                throw AppError.invalidField(name, reason: "must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        var filter = LogFilter()
        if let text = req.query[String.self, at: "q"], !text.isEmpty {
            guard text.utf8.count <= 1000 else { throw AppError.invalidField("q", reason: "must be at most 1000 bytes") }
            filter.text = text
        }
        filter.isRegex = try Validation.flag(req, "regex")
        filter.isCaseSensitive = try Validation.flag(req, "case_sensitive")
        if let level = req.query[String.self, at: "level"] {
            guard let parsed = LogLevel(name: level) else {
                throw AppError.invalidField("level", reason: "must be ERROR, WARN, INFO or DEBUG")
            }
            filter.minimumLevel = parsed
        }
        filter.step = req.query[String.self, at: "step"]
        try LogStore.validate(filter)
        filter.fromSeq = try integer("from_seq", range: 1...Int(Int32.max))
        let context = try integer("context", range: 0...50) ?? 0
        let highlight = try Validation.flag(req, "highlight")
        let pagination: LogPagination
        if let after = try integer("after_seq", range: 0...Int(Int32.max)) {
            let perPage = min(try integer("per_page", range: 1...Int(Int32.max)) ?? PipewrightCore.PageRequest.defaultPerPage,
                              PipewrightCore.PageRequest.maximumPerPage)
            pagination = .after(seq: after, perPage: perPage)
        } else {
            pagination = .page(try PageQuery.parse(req))
        }
        return LogQuery(filter: filter, pagination: pagination, context: context, includesHighlights: highlight)
    }

    /// `bytes=FIRST-LAST`, `bytes=FIRST-`, `bytes=-SUFFIX` (one range; RFC 9110 §14.1.2).
    static func parseRange(_ header: String) -> LogByteRange? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let first = Int64(parts[0])
        let last = Int64(parts[1])
        switch (parts[0].isEmpty, parts[1].isEmpty) {
        case (false, false):
            guard let first, let last, first >= 0, last >= first else { return nil }
            return .bounded(first: first, last: last)
        case (false, true):
            guard let first, first >= 0 else { return nil }
            return .from(first)
        case (true, false):
            guard let last, last > 0 else { return nil }
            return .suffix(length: last)
        case (true, true):
            return nil
        }
    }

    static func date(_ req: Request, _ name: String) throws -> Date? {
        guard let raw = req.query[String.self, at: name], !raw.isEmpty else { return nil }
        if let date = TriggerAttempts.parseDate(raw) { return date }
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.timeZone = TimeZone(identifier: "UTC")
        day.dateFormat = "yyyy-MM-dd"
        guard let parsed = day.date(from: raw) else {
            throw AppError.invalidField(name, reason: "must be an RFC 3339 timestamp or YYYY-MM-DD")
        }
        return name == "to_date" ? parsed.addingTimeInterval(86_399) : parsed
    }

    /// Runs blocking store work off the event loop.
    static func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
        }
    }
}
