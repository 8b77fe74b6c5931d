import Foundation
import Plot

extension Overview {
    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: "Overview", content: content()).render()
        }

        func content() -> Node<HTML.BodyContext> {
            .group(
                .h1(.text("Overview")),
                .div(
                    .class("forms"),
                    .section(
                        .class("card"), .id("running"),
                        .h2(.text("Running")),
                        model.running.isEmpty
                            ? .p(.class("empty"), .text("Nothing is running."))
                            : executions(model.running)
                    ),
                    .section(
                        .class("card"),
                        .h2(.text("Recent failures")),
                        model.failures.isEmpty
                            ? .p(.class("empty"), .text("No recent failure."))
                            : executions(model.failures)
                    ),
                    .section(
                        .class("card"),
                        .h2(.text("Keys to look at")),
                        model.keys.isEmpty
                            ? .p(.class("empty"), .text("Every key is deployed and verified."))
                            : .ul(
                                .forEach(model.keys) { key in
                                    .li(
                                        .a(.safeAttribute("href", "/keys/\(key.id)"), .safe(key.name)),
                                        .safe(" — \(key.reason)"))
                                })
                    )
                )
            )
        }

        func executions(_ rows: [Model.Execution]) -> Node<HTML.BodyContext> {
            .ul(
                .class("executions"),
                .forEach(rows) { row in
                    .li(
                        .a(.safeAttribute("href", "/executions/\(row.id)"), .safe("#\(row.id) \(row.pipelineName)")),
                        .text(" "), .code(.safe(row.branch)), .text(" "), .badge(row.status), .text(" "),
                        .time(row.createdAt),
                        .unwrap(row.firstError) { error in
                            .div(
                                .class("first-error"),
                                .a(
                                    .safeAttribute("href", "/executions/\(row.id)?around=\(error.seq)#L\(error.seq)"),
                                    .safe("line \(error.seq)")),
                                .text(": "), .code(.safe(String(error.text.prefix(200)))))
                        }
                    )
                }
            )
        }
    }
}
