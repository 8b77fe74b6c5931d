import Fluent
import Foundation
import LogStore
import NIOCore
import PipewrightCore
import Vapor

/// Build logs (docs/API.md "Logs"): the seed's `GET /api/pipelines/{id}/logs`, and per execution `logs`,
/// `logs/raw`, `logs/stats`, plus an admin ingestion path (`POST /api/executions/{id}/logs?step=`) that
/// loads a log without Bitbucket through the same store API the monitor uses. The use cases are in
/// `LogQueries`.
struct LogController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("pipelines", ":pipelineID", "logs", use: pipelineLogs)
        routes.get("executions", ":executionID", "logs", use: lines)
        routes.get("executions", ":executionID", "logs", "raw", use: raw).streaming()
        routes.get("executions", ":executionID", "logs", "stats", use: stats)
        routes.on(.POST, "executions", ":executionID", "logs", body: .stream, use: ingest).streaming()
    }

    @Sendable func lines(req: Request) async throws -> LogLinesResponse {
        let executionID = try FieldRules.pathID(req, "executionID")
        let query = try req.decodeQuery(LogLineParameters.self).query()
        let page = try await req.logQueries.lines(executionID: executionID, query: query, for: try req.requireUser())
        return LogLinesResponse(page, highlight: query.includesHighlights)
    }

    @Sendable func stats(req: Request) async throws -> LogStatsResponse {
        LogStatsResponse(
            try await req.logQueries.stats(
                executionID: try FieldRules.pathID(req, "executionID"), for: try req.requireUser()))
    }

    /// `text/plain` bytes exactly as stored; `Range: bytes=…` gives 206 with `Content-Range` (416 with the
    /// error envelope `invalid_range` and `Content-Range: bytes */LENGTH` when unsatisfiable). `?step=` limits
    /// to one step; `?strip_ansi=true` removes escape sequences (no ranges).
    @Sendable func raw(req: Request) async throws -> Response {
        let executionID = try FieldRules.pathID(req, "executionID")
        let rangeHeader = req.headers.first(name: .range)
        // RFC 9110 §14.2: a Range header the server cannot use is ignored (full 200 response).
        let raw = try await req.logQueries.raw(
            executionID: executionID, step: try FieldRules.queryText(req, "step"),
            range: rangeHeader.flatMap(Self.parseRange), rangeIsEmptySuffix: rangeHeader == "bytes=-0",
            stripsANSI: try FieldRules.flag(req, "strip_ansi"), for: try req.requireUser())
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .acceptRanges, value: "bytes")
        switch raw {
        case .empty:
            return Response(status: .ok, headers: headers, body: .init(string: ""))
        case .plainText(let bytes):
            headers.remove(name: .acceptRanges)
            let body = Response.Body(managedAsyncStream: { writer in
                for try await chunk in bytes {
                    try await writer.writeBuffer(ByteBuffer(bytes: chunk))
                }
            })
            return Response(status: .ok, headers: headers, body: body)
        case .unsatisfiable(let length):
            // The error envelope and `Content-Range: bytes */LENGTH` (App/Errors: LogStoreError+API).
            throw LogStoreError.invalidRange(length: length)
        case .bytes(let bytes, let isPartial):
            if isPartial, !bytes.range.isEmpty {
                headers.replaceOrAdd(
                    name: .contentRange,
                    value: "bytes \(bytes.range.lowerBound)-\(bytes.range.upperBound - 1)/\(bytes.totalLength)")
            }
            let body = Response.Body(
                managedAsyncStream: { writer in
                    for try await chunk in bytes {
                        try await writer.writeBuffer(ByteBuffer(bytes: chunk))
                    }
                }, count: Int(bytes.range.count))
            return Response(status: isPartial ? .partialContent : .ok, headers: headers, body: body)
        }
    }

    /// Admin only: appends the streamed body to `step` (`?finish=true` flushes its last partial line).
    @Sendable func ingest(req: Request) async throws -> Response {
        let admin = try req.requireUser()
        let executionID = try FieldRules.pathID(req, "executionID")
        let step = try FieldRules.queryText(req, "step") ?? ""
        let finish = try FieldRules.flag(req, "finish")
        let (stored, highestSeq) = try await req.logQueries.ingest(
            executionID: executionID, step: step, finish: finish,
            body: req.body.map { Array($0.readableBytesView) }, by: admin)
        return try Response.json(["lines_stored": stored, "highest_seq": highestSeq], status: .ok)
    }

    /// `?page&per_page&status&from_date&to_date&step_filter`: executions with steps, an excerpt and a summary.
    @Sendable func pipelineLogs(req: Request) async throws -> PipelineLogsResponse {
        let pipelineID = try FieldRules.pathID(req, "pipelineID")
        let page = try PageQuery.parse(req)
        let filter = try req.decodeQuery(PipelineLogParameters.self).filter()
        let logs = try await req.logQueries.pipelineLogs(
            pipelineID: pipelineID, filter: filter, page: page, for: try req.requireUser())
        return PipelineLogsResponse(
            items: try logs.entries.map { entry in
                PipelineLogEntry(
                    execution: try ExecutionResponse(entry.execution, attempts: entry.execution.attempts),
                    excerpt: entry.excerpt.map { LogLineResponse($0, highlight: false) }, totalLines: entry.totalLines,
                    errors: entry.errors)
            },
            pagination: .init(
                page: page.page, perPage: page.perPage, total: logs.matching.count,
                pages: page.pageCount(total: logs.matching.count)),
            summary: .init(logs.matching))
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
}

extension LogLinesResponse {
    init(_ page: LogPage, highlight: Bool) {
        var pagination: PageResponse<LogLineResponse>.Pagination?
        if let request = page.page, let total = page.total {
            pagination = .init(
                page: request.page, perPage: request.perPage, total: total, pages: request.pageCount(total: total))
        }
        self.init(
            items: page.items.map { LogLineResponse($0, highlight: highlight) }, pagination: pagination,
            nextAfterSeq: page.nextAfterSeq, highestSeq: page.highestSeq, partial: page.isPartial,
            resumeAfterSeq: page.resumeAfterSeq, totalIsLowerBound: page.isPartial && page.total != nil ? true : nil)
    }
}

extension PipelineLogsResponse.Summary {
    /// Counts by status, success rate over finished runs, average duration, last success/failure.
    init(_ executions: [Execution]) {
        var byStatus: [String: Int] = [:]
        for status in Execution.Status.allCases { byStatus[status.rawValue] = 0 }
        for execution in executions { byStatus[execution.status.rawValue, default: 0] += 1 }
        let finished = executions.filter { $0.status == .success || $0.status == .failed }
        let successes = executions.filter { $0.status == .success }
        let durations = executions.compactMap { execution -> Double? in
            guard let start = execution.startedAt, let end = execution.finishedAt else { return nil }
            return end.timeIntervalSince(start)
        }
        self.init(
            total: executions.count, byStatus: byStatus,
            successRate: finished.isEmpty ? nil : Double(successes.count) / Double(finished.count),
            averageDurationS: durations.isEmpty ? nil : durations.reduce(0, +) / Double(durations.count),
            lastSuccessAt: successes.compactMap(\.finishedAt).max(),
            lastFailureAt: executions.filter { $0.status == .failed }.compactMap(\.finishedAt).max())
    }
}
