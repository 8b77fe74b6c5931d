import Foundation
import Plot

extension ExecutionShow {
    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(
                context: context, title: "Execution \(model.id) · \(model.pipelineName)", content: content(),
                bodyClass: "log-page"
            ).render()
        }

        private var base: String { "/executions/\(model.id)" }

        func content() -> Node<HTML.BodyContext> {
            .div(
                .id("execution"), .class("execution"),
                .safeAttribute("data-execution", String(model.id)),
                .safeAttribute("data-highest-seq", String(model.highestSeq)),
                .safeAttribute("data-finished", model.isFinished ? "true" : "false"),
                .p(
                    .class("crumbs"), .a(.href("/executions"), .text("Executions")), .text(" / "),
                    .a(.safeAttribute("href", "/pipelines/\(model.pipelineID)"), .safe(model.pipelineName))),
                .h1(
                    .safe("Execution \(model.id) "),
                    .span(.id("execution-status"), .badge(model.status))),
                .alert(model.errorReason),
                facts(),
                actions(),
                .div(
                    .class("viewer-grid"),
                    .div(.class("viewer-main"), toolbar(), search(), steps()),
                    .aside(.class("viewer-side"), statistics(), attempts())
                )
            )
        }

        func facts() -> Node<HTML.BodyContext> {
            .dl(
                .class("facts"),
                .dt("Repository"), .dd(.code(.safe(model.repository))),
                .dt("Branch"), .dd(.code(.safe(model.branch))),
                .dt("Commit"),
                .dd(
                    .unwrap(model.commit, { .code(.safe(String($0.prefix(12)))) }, else: .text("—")),
                    .unwrap(model.commitMessage) { .span(.class("commit-message"), .safe(" \($0)")) }),
                .dt("Triggered"), .dd(.time(model.createdAt), .safe(" by \(model.triggeredBy)")),
                .dt("Started"), .dd(.time(model.startedAt)),
                .dt("Finished"), .dd(.time(model.finishedAt)),
                .dt("Bitbucket"),
                .dd(
                    .unwrap(
                        model.bitbucketURL,
                        { url in
                            url.hasPrefix("https://")
                                ? .a(
                                    .safeAttribute("href", url), .attribute(named: "rel", value: "noopener noreferrer"),
                                    .safe(model.buildNumber.map { "Build #\($0)" } ?? "Open"))
                                : .safe(url)
                        }, else: .text("not triggered yet")))
            )
        }

        func actions() -> Node<HTML.BodyContext> {
            guard model.canChange, context.can(.triggerExecutions) else { return .empty }
            return .div(
                .class("actions"),
                .if(
                    !model.isFinished,
                    .form(
                        .class("inline"), .method(.post), .safeAttribute("action", "\(base)/stop"), csrfField(context),
                        .button(.type(.submit), .class("danger"), .text("Stop")))),
                .if(
                    model.isFinished,
                    .form(
                        .class("inline"), .method(.post), .safeAttribute("action", "\(base)/rerun"), csrfField(context),
                        .button(.type(.submit), .text("Run again"))))
            )
        }

        func toolbar() -> Node<HTML.BodyContext> {
            .div(
                .class("toolbar"), .attribute(named: "role", value: "toolbar"),
                .attribute(named: "aria-label", value: "Log view"),
                .unwrap(model.firstError) { error in
                    .a(
                        .class("first-error"), .safeAttribute("href", "\(base)?around=\(error.seq)#L\(error.seq)"),
                        .safeAttribute("data-seq", String(error.seq)),
                        .safe("First error: line \(error.seq) in \(error.step)"))
                },
                .button(
                    .type(.button), .class("toggle"), .attribute(named: "data-toggle", value: "timestamps"),
                    .attribute(named: "aria-pressed", value: "true"), .text("Timestamps")),
                .button(
                    .type(.button), .class("toggle"), .attribute(named: "data-toggle", value: "wrap"),
                    .attribute(named: "aria-pressed", value: "false"), .text("Wrap")),
                .a(
                    .safeAttribute("href", "/api/executions/\(model.id)/logs/raw"),
                    .attribute(named: "download"),
                    .text("Download raw")),
                .a(
                    .safeAttribute("href", "/api/executions/\(model.id)/logs/raw?strip_ansi=true"),
                    .attribute(named: "download"), .text("Plain text")),
                .button(
                    .type(.button), .id("jump-latest"), .class("jump"), .attribute(named: "hidden"),
                    .text("Jump to latest ↓"))
            )
        }

        private static let levelOptions: [(value: String, label: String)] = [
            ("", "any level"), ("ERROR", "errors"), ("WARN", "warnings+"), ("INFO", "info+"),
        ]

        private var stepOptions: [(value: String, label: String)] {
            var options: [(value: String, label: String)] = [("", "all steps")]
            for step in model.steps { options.append((step.name, step.name)) }
            return options
        }

        func search() -> Node<HTML.BodyContext> {
            let state = model.search
            let level: Node<HTML.LabelContext> = .choice(name: "level", Self.levelOptions, selected: state?.level ?? "")
            let step: Node<HTML.LabelContext> = .choice(name: "step", stepOptions, selected: state?.step ?? "")
            return .section(
                .class("search"),
                .form(
                    .id("log-search"), .method(.get), .safeAttribute("action", base),
                    .attribute(named: "role", value: "search"),
                    .label(
                        .class("grow"), .span(.class("visually-hidden"), .text("Search the whole log")),
                        .input(
                            .type(.search), .name("q"), .safe("value", state?.text ?? ""),
                            .placeholder("Search the whole log"))),
                    .label(
                        .class("check"),
                        .input(
                            .type(.checkbox), .name("regex"), .value("true"),
                            .attribute(named: "checked", value: state?.isRegex == true ? "checked" : nil)),
                        .text(" regex")),
                    .label(.span(.class("visually-hidden"), .text("Level")), level),
                    .label(.span(.class("visually-hidden"), .text("Step")), step),
                    .button(.type(.submit), .text("Search"))
                ),
                .div(.id("search-results"), .class("search-results"), searchResults())
            )
        }

        func searchResults() -> Node<HTML.BodyContext> {
            guard let state = model.search else { return .empty }
            if let error = state.error { return .alert(error) }
            let first = (state.page - 1) * state.perPage
            return .group(
                .p(
                    .class("search-summary"),
                    .safe(
                        state.total == 0
                            ? "No match."
                            : "\(state.total)\(state.isPartial ? "+" : "") match\(state.total == 1 ? "" : "es")"
                                + (state.total > state.perPage
                                    ? ", \(first + 1)–\(first + state.matches.count) shown" : "")),
                    .if(
                        state.isPartial,
                        .span(
                            .class("hint"),
                            .text(" (the search stopped at its time budget; the count is a lower bound)")))
                ),
                .ol(
                    .class("matches"),
                    .forEach(state.matches) { match in
                        .li(
                            .a(
                                .safeAttribute("href", "\(base)?around=\(match.seq)#L\(match.seq)"),
                                .safeAttribute("data-seq", String(match.seq)),
                                .span(.class("no"), .safe(String(match.seq))), .span(.class("step"), .safe(match.step))),
                            .span(.class("tx"), .raw(match.html)))
                    }
                ),
                .if(
                    state.page > 1 || first + state.matches.count < state.total,
                    .p(
                        .class("pager"),
                        .if(
                            state.page > 1,
                            .a(.safeAttribute("href", searchPage(state, state.page - 1)), .text("← previous matches"))),
                        .text(" "),
                        .if(
                            first + state.matches.count < state.total,
                            .a(.safeAttribute("href", searchPage(state, state.page + 1)), .text("next matches →")))))
            )
        }

        private func searchPage(_ state: Model.Search, _ page: Int) -> String {
            var items = [URLQueryItem(name: "q", value: state.text)]
            if state.isRegex { items.append(URLQueryItem(name: "regex", value: "true")) }
            if let level = state.level { items.append(URLQueryItem(name: "level", value: level)) }
            if let step = state.step { items.append(URLQueryItem(name: "step", value: step)) }
            items.append(URLQueryItem(name: "page", value: String(page)))
            var components = URLComponents()
            components.path = base
            components.queryItems = items
            return components.string ?? base
        }

        func steps() -> Node<HTML.BodyContext> {
            .div(
                .id("log"), .class("log-view"), .attribute(named: "tabindex", value: "0"),
                .attribute(named: "aria-label", value: "Build log"),
                .if(
                    model.steps.isEmpty,
                    .p(.class("empty"), .text(model.isFinished ? "No log was stored." : "Waiting for the first lines…"))
                ),
                .forEach(model.steps) { step in
                    .details(
                        .class("step"), .safeAttribute("data-step", step.name),
                        .if(step.isOpen, .attribute(named: "open")),
                        .summary(
                            .span(.class("step-name"), .safe(step.name)),
                            .unwrap(step.status) { .badge($0) },
                            .span(.class("step-meta"), .safe(Self.meta(step)))
                        ),
                        pane(step)
                    )
                }
            )
        }

        static func meta(_ step: Model.Step) -> String {
            var text = " \(step.lines) line" + (step.lines == 1 ? "" : "s")
            if step.errors > 0 { text += " · \(step.errors) error" + (step.errors == 1 ? "" : "s") }
            return text + " · " + Formatting.duration(step.durationSeconds)
        }

        func pane(_ step: Model.Step) -> Node<HTML.DetailsContext> {
            let window = step.window
            let encodedStep =
                step.name.addingPercentEncoding(
                    withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#?"))) ?? ""
            return .div(
                .class("lines"),
                .safeAttribute("data-step", step.name),
                .safeAttribute("data-step-first", step.firstSeq.map(String.init) ?? ""),
                .safeAttribute("data-step-last", step.lastSeq.map(String.init) ?? ""),
                .safeAttribute("data-first", window?.firstSeq.map(String.init) ?? ""),
                .safeAttribute("data-last", window?.lastSeq.map(String.init) ?? ""),
                .safeAttribute("data-has-before", window?.hasBefore == true ? "true" : "false"),
                .safeAttribute("data-has-after", window?.hasAfter == true ? "true" : "false"),
                .if(
                    window?.hasBefore == true,
                    .a(
                        .class("more before"),
                        .safeAttribute("href", "\(base)?step=\(encodedStep)&before=\(window?.firstSeq ?? 0)"),
                        .text("Earlier lines"))),
                .div(.class("rows"), .raw(window?.rowsHTML ?? "")),
                .if(
                    window == nil && step.lines > 0,
                    .a(
                        .class("more load"),
                        .safeAttribute("href", "\(base)?step=\(encodedStep)&after=\((step.firstSeq ?? 1) - 1)"),
                        .text("Show lines"))),
                .if(
                    window?.hasAfter == true,
                    .a(
                        .class("more after"),
                        .safeAttribute("href", "\(base)?step=\(encodedStep)&after=\(window?.lastSeq ?? 0)"),
                        .text("Later lines")))
            )
        }

        func statistics() -> Node<HTML.BodyContext> {
            let stats = model.statistics
            let lineBars = model.steps.map {
                SVGChart.Bar(label: $0.name, value: Double($0.lines), caption: "\($0.lines)")
            }
            let errorBars = model.steps.map {
                SVGChart.Bar(label: $0.name, value: Double($0.errors), caption: "\($0.errors)", tone: "err")
            }
            let durationBars = model.steps.map {
                SVGChart.Bar(
                    label: $0.name, value: $0.durationSeconds ?? 0, caption: Formatting.duration($0.durationSeconds))
            }
            return .section(
                .class("stats card"),
                .h2(.text("Statistics")),
                .dl(
                    .class("facts"),
                    .dt("Lines"), .dd(.safe(String(stats.totalLines))),
                    .dt("Errors"), .dd(.safe(String(stats.errors))),
                    .dt("Warnings"), .dd(.safe(String(stats.warnings))),
                    .dt("Duration"), .dd(.safe(Formatting.duration(stats.durationSeconds))),
                    .if(
                        stats.droppedBytes > 0,
                        .group(.dt("Dropped"), .dd(.safe("\(stats.droppedBytes) bytes over the step cap"))))
                ),
                .h3(.text("Levels")),
                .raw(
                    SVGChart.bars(
                        title: "Lines per level",
                        stats.byLevel.map {
                            SVGChart.Bar(
                                label: $0.level, value: Double($0.count), caption: "\($0.count)",
                                tone: $0.level == "ERROR" ? "err" : "")
                        })),
                .if(
                    !model.steps.isEmpty,
                    .group(
                        .h3(.text("Lines per step")), .raw(SVGChart.bars(title: "Lines per step", lineBars)),
                        .h3(.text("Errors per step")), .raw(SVGChart.bars(title: "Errors per step", errorBars)),
                        .h3(.text("Duration per step")), .raw(SVGChart.bars(title: "Duration per step", durationBars))
                    ))
            )
        }

        func attempts() -> Node<HTML.BodyContext> {
            .section(
                .class("attempts card"),
                .h2(.text("Trigger attempts")),
                model.attempts.isEmpty
                    ? .p(.class("empty"), .text("None (started from Bitbucket or not triggered yet)."))
                    : .table(
                        .class("list"),
                        .thead(.tr(.th("#"), .th("At"), .th("Answer"), .th("Outcome"))),
                        .tbody(
                            .forEach(model.attempts) { attempt in
                                .tr(
                                    .td(.safe(String(attempt.number))),
                                    .td(.time(attempt.startedAt)),
                                    .td(
                                        .safe(attempt.httpStatus.map { "HTTP \($0)" } ?? "—"),
                                        .unwrap(attempt.error) { .span(.class("message"), .safe(" " + $0)) }),
                                    .td(
                                        .unwrap(attempt.outcome, { .badge($0) }, else: .text("pending")),
                                        .unwrap(attempt.nextRetryAt) { .group(.text(" retry at "), .time($0)) })
                                )
                            }
                        )
                    )
            )
        }
    }
}
