import Fluent
import Foundation
import Plot

/// `/pipelines`: every pipeline with its repository, branch and provisioning status.
enum PipelineIndex {
    struct Model: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var id: Int
            var name: String
            var repository: String
            var branch: String
            var provisioningStatus: String
        }

        var rows: [Row]
        var total: Int
    }

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(
                context: context, title: "Pipelines",
                content: .group(
                    .h1(.text("Pipelines")),
                    .if(
                        context.can(.changePipelines),
                        .p(
                            .class("actions"),
                            .a(.class("button primary"), .href("/pipelines/new"), .text("New pipeline")))),
                    model.rows.isEmpty
                        ? .p(
                            .class("empty"),
                            .text(
                                "No pipeline yet. Create one, then preview its configuration and open the pull request."
                            ))
                        : .table(
                            .class("list"),
                            .thead(.tr(.th("Name"), .th("Repository"), .th("Branch"), .th("Repository settings"))),
                            .tbody(
                                .forEach(model.rows) { row in
                                    .tr(
                                        .td(.a(.safeAttribute("href", "/pipelines/\(row.id)"), .safe(row.name))),
                                        .td(.code(.safe(row.repository))),
                                        .td(.code(.safe(row.branch))),
                                        .td(.badge(row.provisioningStatus)))
                                }),
                            .caption(.safe("\(model.total) pipeline\(model.total == 1 ? "" : "s")")))
                )
            ).render()
        }
    }
}
