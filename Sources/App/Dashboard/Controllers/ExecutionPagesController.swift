import Fluent
import Foundation
import LogStore
import PipewrightCore
import Plot
import Realtime
import Vapor

/// `/executions` and `/executions/{id}` with the log viewer's fragment endpoints: decode → one use-case
/// call (`ExecutionLauncher`, `LogQueries`, the audited operations of `ExecutionController`) → render.
///
/// - `GET /executions/{id}/window?step=&after=|before=|around=` → JSON `{"step", "html", "first_seq",
///   "last_seq", "has_before", "has_after"}`: up to 200 rendered lines of one step;
/// - `GET /executions/{id}/search?q=&regex=&level=&step=&page=` → JSON `{"total", "partial", "page",
///   "per_page", "html"}`: the rendered list of matches with highlights;
/// - `GET /executions/{id}/live` → Server-Sent Events of rendered lines (`event: lines`, `id: <seq>`,
///   `Last-Event-ID` resume) and status changes (`event: status`), ending after the final status.
struct ExecutionPagesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("executions", use: index)
        routes.post("pipelines", ":pipelineID", "trigger", use: trigger)
        routes.get("executions", ":executionID", use: show)
        routes.get("executions", ":executionID", "window", use: window)
        routes.get("executions", ":executionID", "search", use: search)
        routes.get("executions", ":executionID", "live", use: live)
        routes.post("executions", ":executionID", "stop", use: stop)
        routes.post("executions", ":executionID", "rerun", use: rerun)
    }

    // MARK: - List and trigger

    @Sendable func index(req: Request) async throws -> Response {
        try await renderIndex(req, error: nil, status: .ok)
    }

    func renderIndex(
        _ req: Request, error: String?, status: HTTPStatus, form: ExecutionIndex.Model.TriggerForm = .init()
    )
        async throws -> Response
    {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        var filter = ExecutionLauncher.ListFilter()
        if let raw = req.query[String.self, at: "status"], !raw.isEmpty {
            guard let status = Execution.Status(rawValue: raw.uppercased()) else {
                throw AppError.invalidField("status", reason: "unknown status")
            }
            filter.status = status
        }
        if let raw = req.query[String.self, at: "pipeline"], !raw.isEmpty {
            guard let id = Int(raw) else { throw AppError.invalidField("pipeline", reason: "must be a pipeline id") }
            filter.pipelineID = id
        }
        filter.branch = req.query[String.self, at: "branch"].map { String($0.prefix(200)) }
        let (executions, total) = try await req.executionLauncher.listAll(filter, page: page, for: user)
        let pipelines = try await req.pipelineCatalog.list(page: try .init(page: 1, perPage: 100), for: user).items
        let model = try ExecutionIndex.Model(
            executions: executions, pipelines: pipelines, filter: filter, page: page, total: total, error: error,
            form: form)
        return .page(ExecutionIndex.View(context: req.pageContext(.executions), model: model).render(), status: status)
    }

    struct TriggerForm: Decodable {
        var branch: String?
        var retry: String?
        var maxRetries: String?
        var variables: String?
        enum CodingKeys: String, CodingKey {
            case branch, retry, variables
            case maxRetries = "max_retries"
        }

        /// `KEY=value` per line; `KEY=secured:value`… is not a syntax — secured variables are marked with a
        /// leading `!` (`!TOKEN=…`).
        func request() throws -> ExecutionLauncher.TriggerRequest {
            var variables: [PipelineVariable] = []
            for line in (self.variables ?? "").split(whereSeparator: \.isNewline) {
                let text = line.trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty else { continue }
                guard let equals = text.firstIndex(of: "=") else {
                    throw AppError.invalidField("variables", reason: "each line must be KEY=value")
                }
                var key = String(text[..<equals])
                let secured = key.hasPrefix("!")
                if secured { key.removeFirst() }
                variables.append(
                    PipelineVariable(key: key, value: String(text[text.index(after: equals)...]), secured: secured))
            }
            var maxRetries: Int?
            if let raw = self.maxRetries, !raw.isEmpty {
                guard let value = Int(raw) else {
                    throw AppError.invalidField("max_retries", reason: "must be a number")
                }
                maxRetries = value
            }
            return ExecutionLauncher.TriggerRequest(
                branch: branch?.isEmpty == false ? branch : nil, commit: nil, pattern: nil, variables: variables,
                retry: retry.map { $0 == "true" }, maxRetries: maxRetries)
        }
    }

    @Sendable func trigger(req: Request) async throws -> Response {
        let form = try req.form(TriggerForm.self)
        do {
            let launch = try await ExecutionController.trigger(req, try form.request(), idempotencyKey: nil)
            return .seeOther("/executions/\(try launch.execution.requireID())")
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            let kept = ExecutionIndex.Model.TriggerForm(
                pipelineID: req.parameters.get("pipelineID").flatMap { Int($0) }, branch: form.branch ?? "",
                maxRetries: form.maxRetries ?? "")
            return try await renderIndex(req, error: rendered.message, status: rendered.status, form: kept)
        }
    }

    @Sendable func stop(req: Request) async throws -> Response {
        let launch = try await ExecutionController.stop(req)
        return .seeOther("/executions/\(try launch.execution.requireID())")
    }

    @Sendable func rerun(req: Request) async throws -> Response {
        let launch = try await ExecutionController.rerun(req)
        return .seeOther("/executions/\(try launch.execution.requireID())")
    }

    // MARK: - One execution

    @Sendable func show(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let executionID = try FieldRules.pathID(req, "executionID")
        let launch = try await req.executionLauncher.show(executionID: executionID, for: user)
        let pipeline = try await req.pipelineCatalog.show(pipelineID: launch.execution.$pipeline.id, for: user)
        let logs = req.logQueries
        let statistics = try await logs.stats(executionID: executionID, for: user)
        let highest = try await logs.highestSeq(executionID: executionID, for: user)
        let request = try WindowRequest(req)
        var windows: [String: ExecutionShow.Model.Window] = [:]
        if let opened = try await Self.openWindow(
            request ?? Self.defaultWindow(launch.execution, statistics), statistics: statistics,
            executionID: executionID, logs: logs, user: user)
        {
            windows[opened.step] = opened.window
        }
        var model = try ExecutionShow.Model(
            execution: launch.execution, pipeline: pipeline, attempts: launch.attempts, statistics: statistics,
            highestSeq: highest, windows: windows, canChange: true)
        model.search = try await Self.search(req, executionID: executionID, logs: logs, user: user)
        return .page(ExecutionShow.View(context: req.pageContext(.executions), model: model).render())
    }

    /// Which lines a step pane shows.
    enum WindowRequest: Equatable {
        /// Centred on a line (its step is looked up).
        case around(Int)
        /// The lines of `step` after `seq`.
        case after(step: String, seq: Int)
        /// The lines of `step` before `seq`.
        case before(step: String, seq: Int)
        /// The last lines of `step`.
        case tail(step: String)

        /// `around=`, or `step=` with `after=`/`before=`; `nil` when none is given.
        init?(_ req: Request) throws {
            func seq(_ name: String) throws -> Int? {
                guard let raw = req.query[String.self, at: name], !raw.isEmpty else { return nil }
                guard let value = Int(raw), value >= 0, value <= Int(Int32.max) else {
                    throw AppError.invalidField(name, reason: "must be a line number")
                }
                return value
            }
            if let around = try seq("around") {
                self = .around(around)
                return
            }
            guard let step = req.query[String.self, at: "step"], !step.isEmpty, step.utf8.count <= 500 else {
                return nil
            }
            if let after = try seq("after") {
                self = .after(step: step, seq: after)
            } else if let before = try seq("before") {
                self = .before(step: step, seq: before)
            } else if req.query[String.self, at: "q"] == nil {
                self = .tail(step: step)
            } else {
                return nil
            }
        }
    }

    /// What opens by default: around the first error, else the tail of the last step.
    static func defaultWindow(_ execution: Execution, _ statistics: LogStatistics) -> WindowRequest? {
        if let error = statistics.firstError { return .around(error.seq) }
        guard let last = statistics.stepOrder.last else { return nil }
        return .tail(step: last)
    }

    /// Loads the window `request` names.
    static func openWindow(
        _ request: WindowRequest?, statistics: LogStatistics, executionID: Int, logs: LogQueries,
        user: AuthenticatedUser
    ) async throws -> (step: String, window: ExecutionShow.Model.Window)? {
        guard let request else { return nil }
        let size = ExecutionShow.windowSize
        let step: String
        let afterSeq: Int
        var toSeq: Int?
        switch request {
        case .around(let seq):
            guard
                let line = try await logs.window(
                    executionID: executionID, step: nil, afterSeq: max(seq - 1, 0), toSeq: seq, count: 1, for: user
                ).lines.first
            else { return nil }
            step = line.step
            let first = statistics.bySteps[step]?.firstSeq ?? 1
            afterSeq = max(first, seq - size / 2) - 1
        case .after(let name, let seq):
            step = name
            afterSeq = seq
        case .before(let name, let seq):
            step = name
            let first = statistics.bySteps[name]?.firstSeq ?? 1
            afterSeq = max(first, seq - size) - 1
            toSeq = max(seq - 1, 0)
        case .tail(let name):
            step = name
            let figures = statistics.bySteps[name]
            let last = figures?.lastSeq ?? statistics.totalLines
            afterSeq = max((figures?.firstSeq ?? 1), last - size + 1) - 1
        }
        let loaded = try await logs.window(
            executionID: executionID, step: step, afterSeq: afterSeq, toSeq: toSeq, count: size, for: user)
        let first = statistics.bySteps[step]?.firstSeq ?? 1
        var hasAfter = loaded.hasMore
        if let toSeq, let last = statistics.bySteps[step]?.lastSeq { hasAfter = toSeq < last }
        return (
            step,
            ExecutionShow.Model.Window(
                rowsHTML: LogLineHTML.rows(loaded.lines), firstSeq: loaded.lines.first?.seq,
                lastSeq: loaded.lines.last?.seq, hasBefore: (loaded.lines.first?.seq ?? first) > first,
                hasAfter: hasAfter)
        )
    }

    /// The search of the page's query (`q`, `regex`, `level`, `step`, `page`), or `nil` without one.
    static func search(_ req: Request, executionID: Int, logs: LogQueries, user: AuthenticatedUser) async throws
        -> ExecutionShow.Model.Search?
    {
        func value(_ name: String) -> String? {
            req.query[String.self, at: name].flatMap { $0.isEmpty ? nil : $0 }
        }
        let text = value("q")
        let level = value("level")
        guard text != nil || level != nil else { return nil }
        let parameters = LogLineParameters(
            q: text, regex: value("regex"), level: level, step: value("step"), page: value("page"), perPage: "50",
            highlight: "true")
        var state = ExecutionShow.Model.Search(
            text: text ?? "", isRegex: parameters.regex == "true", level: level, step: parameters.step, total: 0,
            page: 1, perPage: 50, isPartial: false, matches: [])
        do {
            let page = try await logs.lines(executionID: executionID, query: try parameters.query(), for: user)
            state.total = page.total ?? page.items.count
            state.page = page.page?.page ?? 1
            state.isPartial = page.isPartial
            state.matches = page.items.filter { !$0.isContext }.map {
                ExecutionShow.Model.Match(seq: $0.seq, step: $0.step, html: LogLineHTML.text($0))
            }
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            state.error = rendered.message
        }
        return state
    }

    // MARK: - Fragments for the viewer's script

    struct WindowResponse: Content {
        var step: String
        var html: String
        var firstSeq: Int?
        var lastSeq: Int?
        var hasBefore: Bool
        var hasAfter: Bool
    }

    @Sendable func window(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let executionID = try FieldRules.pathID(req, "executionID")
        let logs = req.logQueries
        guard let request = try WindowRequest(req) else {
            throw AppError.invalidField("around", reason: "give around=, or step= with after= or before=")
        }
        let statistics = try await logs.stats(executionID: executionID, for: user)
        guard
            let opened = try await Self.openWindow(
                request, statistics: statistics, executionID: executionID, logs: logs, user: user)
        else { throw AppError.notFound("log line") }
        return try Response.json(
            WindowResponse(
                step: opened.step, html: opened.window.rowsHTML, firstSeq: opened.window.firstSeq,
                lastSeq: opened.window.lastSeq, hasBefore: opened.window.hasBefore, hasAfter: opened.window.hasAfter),
            status: .ok)
    }

    struct SearchResponse: Content {
        var total: Int
        var partial: Bool
        var page: Int
        var perPage: Int
        var html: String
    }

    @Sendable func search(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let executionID = try FieldRules.pathID(req, "executionID")
        let launch = try await req.executionLauncher.show(executionID: executionID, for: user)
        guard let state = try await Self.search(req, executionID: executionID, logs: req.logQueries, user: user) else {
            throw AppError.invalidField("q", reason: "give a text to search for, or a level")
        }
        if let error = state.error { throw AppError.invalidField("q", reason: error) }
        var model = ExecutionShow.Model.empty(id: try launch.execution.requireID())
        model.search = state
        let view = ExecutionShow.View(context: req.pageContext(.executions), model: model)
        return try Response.json(
            SearchResponse(
                total: state.total, partial: state.isPartial, page: state.page, perPage: state.perPage,
                html: view.searchResults().render()),
            status: .ok)
    }

    // MARK: - Live

    /// Rendered lines as they are stored: the same feed as `/api/executions/{id}/events`, each
    /// `pipeline_logs` event rendered by `LogLineHTML` once per viewer.
    @Sendable func live(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let executionID = try FieldRules.pathID(req, "executionID")
        let execution = try await Execution.find(executionID, visibleTo: user, on: req.db)
        let afterSeq = try RealtimeController.resumePosition(req)
        return await RealtimeController.serverSentEventStream(
            req, execution: execution, afterSeq: afterSeq, credential: RealtimeCredential(user.method)
        ) { event in
            switch event.name {
            case .pipelineLogs:
                guard let logs = event.logs else { return nil }
                let lines = Self.logLines(logs.lines)
                let payload = LiveLines(step: logs.step.name, html: LogLineHTML.rows(lines), lastSeq: event.seq)
                return "id: \(event.seq)\nevent: lines\ndata: \(Self.json(payload))\n\n"
            case .pipelineStatus:
                return "id: \(event.seq)\nevent: status\ndata: \(Self.json(LiveStatus(status: event.status ?? "")))\n\n"
            default:
                return nil
            }
        }
    }

    struct LiveLines: Encodable {
        var step: String
        var html: String
        var lastSeq: Int
        enum CodingKeys: String, CodingKey {
            case step, html
            case lastSeq = "last_seq"
        }
    }

    struct LiveStatus: Encodable {
        var status: String
    }

    /// Live payload lines as stored lines (a piece after one that `continues` is a continuation).
    static func logLines(_ payloads: [LogLinePayload]) -> [LogLine] {
        var lines: [LogLine] = []
        var continuing = false
        for payload in payloads {
            let continues = payload.continues == true
            lines.append(
                LogLine(
                    seq: payload.seq, step: payload.step, timestamp: payload.ts,
                    level: payload.level.flatMap(LogLevel.init(rawValue:)), bytes: Array(payload.text.utf8),
                    hasNewline: !continues, isContinuation: continuing, continuesOnNextLine: continues))
            continuing = continues
        }
        return lines
    }

    static func json(_ value: some Encodable) -> String {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension ExecutionShow.Model {
    /// A model with nothing but the id (for rendering fragments).
    static func empty(id: Int) -> ExecutionShow.Model {
        ExecutionShow.Model(
            id: id, pipelineID: 0, pipelineName: "", repository: "", branch: "", commit: nil, status: "",
            isFinished: true,
            buildNumber: nil, bitbucketURL: nil, triggeredBy: "", createdAt: nil, startedAt: nil, finishedAt: nil,
            errorReason: nil, steps: [], attempts: [],
            statistics: .init(
                totalLines: 0, errors: 0, warnings: 0, byLevel: [], durationSeconds: nil, droppedBytes: 0),
            firstError: nil, highestSeq: 0, search: nil, canChange: false)
    }
}
