import Foundation
import Plot

extension ExecutionIndex {
    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: "Executions", content: content()).render()
        }

        private static let statuses = [
            "", "TRIGGERING", "PENDING", "BUILDING", "TESTING", "DEPLOYING", "SUCCESS", "FAILED", "STOPPED", "ERROR",
        ]

        private var statusOptions: [(value: String, label: String)] {
            Self.statuses.map { ($0, $0.isEmpty ? "any status" : $0.lowercased()) }
        }

        private var pipelineOptions: [(value: String, label: String)] {
            var options: [(value: String, label: String)] = [("", "every pipeline")]
            for pipeline in model.pipelines { options.append((String(pipeline.id), pipeline.name)) }
            return options
        }

        func content() -> Node<HTML.BodyContext> {
            let status: Node<HTML.LabelContext> = .choice(name: "status", statusOptions, selected: model.status)
            let pipeline: Node<HTML.LabelContext> = .choice(
                name: "pipeline", pipelineOptions, selected: model.pipelineID.map(String.init) ?? "")
            return .group(
                .h1(.text("Executions")),
                .alert(model.error),
                .form(
                    .class("filter"), .method(.get), .action("/executions"),
                    .label(.text("Status "), status),
                    .label(.text("Pipeline "), pipeline),
                    .label(.text("Branch "), .input(.type(.text), .name("branch"), .safe("value", model.branch))),
                    .button(.type(.submit), .text("Filter"))
                ),
                model.rows.isEmpty ? .p(.class("empty"), .text("No execution matches.")) : table(),
                pager(),
                triggerForms()
            )
        }

        func table() -> Node<HTML.BodyContext> {
            .table(
                .class("list"),
                .thead(.tr(.th("#"), .th("Pipeline"), .th("Branch"), .th("Status"), .th("Triggered"), .th("Duration"))),
                .tbody(
                    .forEach(model.rows) { row in
                        .tr(
                            .td(.a(.safeAttribute("href", "/executions/\(row.id)"), .safe("\(row.id)"))),
                            .td(.a(.safeAttribute("href", "/pipelines/\(row.pipelineID)"), .safe(row.pipelineName))),
                            .td(
                                .code(.safe(row.branch)),
                                .unwrap(row.commit) { .code(.class("commit"), .safe(" " + String($0.prefix(8)))) }),
                            .td(.badge(row.status)),
                            .td(.time(row.createdAt), .safe(" by \(row.triggeredBy)")),
                            .td(.safe(Formatting.duration(row.durationSeconds)))
                        )
                    }
                )
            )
        }

        func pager() -> Node<HTML.BodyContext> {
            let shown = (model.page - 1) * model.perPage + model.rows.count
            guard model.page > 1 || shown < model.total else { return .empty }
            func link(_ page: Int) -> String {
                var components = URLComponents()
                components.path = "/executions"
                var items = [URLQueryItem(name: "page", value: String(page))]
                if !model.status.isEmpty { items.append(URLQueryItem(name: "status", value: model.status)) }
                if let id = model.pipelineID { items.append(URLQueryItem(name: "pipeline", value: String(id))) }
                if !model.branch.isEmpty { items.append(URLQueryItem(name: "branch", value: model.branch)) }
                components.queryItems = items
                return components.string ?? "/executions"
            }
            return .p(
                .class("pager"),
                .if(model.page > 1, .a(.safeAttribute("href", link(model.page - 1)), .text("← newer"))),
                .safe(" \(model.total) in all "),
                .if(shown < model.total, .a(.safeAttribute("href", link(model.page + 1)), .text("older →"))))
        }

        func triggerForms() -> Node<HTML.BodyContext> {
            guard context.can(.triggerExecutions) else { return .empty }
            guard !model.pipelines.isEmpty else {
                return .p(.class("hint"), .text("Create a pipeline to trigger builds from here."))
            }
            return .section(
                .class("card"),
                .h2(.text("Trigger a pipeline")),
                .forEach(model.pipelines) { pipeline in
                    .form(
                        .class("trigger"), .method(.post),
                        .safeAttribute("action", "/pipelines/\(pipeline.id)/trigger"),
                        csrfField(context),
                        .h3(.safe(pipeline.name)),
                        .label(
                            .text("Branch"),
                            .input(
                                .type(.text), .name("branch"),
                                .safe(
                                    "value",
                                    model.form.pipelineID == pipeline.id ? model.form.branch : pipeline.defaultBranch))),
                        .label(
                            .text("Retries"),
                            .input(
                                .type(.number), .name("max_retries"), .attribute(named: "min", value: "0"),
                                .attribute(named: "max", value: "10"), .placeholder("3"),
                                .safe("value", model.form.pipelineID == pipeline.id ? model.form.maxRetries : ""))),
                        .label(
                            .text("Variables (KEY=value per line; !KEY=value for a secured one)"),
                            .textarea(
                                .name("variables"), .attribute(named: "rows", value: "2"),
                                .attribute(named: "spellcheck", value: "false"))),
                        .button(.type(.submit), .class("primary"), .text("Trigger"))
                    )
                }
            )
        }
    }
}
