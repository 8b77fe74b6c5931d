import Foundation
import Plot

extension PipelineShow {
    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: model.name, content: content()).render()
        }

        private var base: String { "/pipelines/\(model.id)" }

        func content() -> Node<HTML.BodyContext> {
            .group(
                .p(.class("crumbs"), .a(.href("/pipelines"), .text("Pipelines")), .text(" / ")),
                .h1(.safe(model.name), .text(" "), .badge(model.provisioningStatus)),
                .alert(model.error),
                createdSecret(),
                pullRequest(),
                .dl(
                    .class("facts"),
                    .dt("Repository"), .dd(.code(.safe(model.repository))),
                    .dt("Branch"), .dd(.code(.safe(model.branch))),
                    .dt("Deploys to"),
                    .dd(.safe(model.servers.joined(separator: ", ")), .safe(" · \(model.deployPath)")),
                    .dt("Domain"), .dd(.safe(model.domain ?? "—")),
                    .dt("SSH key"),
                    .dd(
                        .unwrap(
                            model.keyID,
                            { .a(.safeAttribute("href", "/keys/\($0)"), .safe(model.keyName ?? "key \($0)")) },
                            else: .text("—"))),
                    .dt("Webhook URL"), .dd(.code(.safe(model.webhookURL)))
                ),
                .div(
                    .class("actions"),
                    .a(
                        .class("button"), .safeAttribute("href", "\(base)?preview=1"),
                        .text("Preview the generated configuration")),
                    .a(
                        .class("button"), .safeAttribute("href", "\(base)?plan=1"),
                        .text("Check the repository settings")),
                    .if(context.can(.changePipelines), changeActions())
                ),
                detection(),
                preview(),
                plan(),
                .div(
                    .class("forms"),
                    .if(context.can(.writeRepositories), pullRequestForm()),
                    .if(context.can(.triggerExecutions), triggerForm())
                ),
                .section(
                    .h2(.text("Recent executions")),
                    model.recent.isEmpty
                        ? .p(.class("empty"), .text("None yet."))
                        : .ul(
                            .forEach(model.recent) { row in
                                .li(
                                    .a(.safeAttribute("href", "/executions/\(row.id)"), .safe("#\(row.id)")),
                                    .text(" "),
                                    .code(.safe(row.branch)), .text(" "), .badge(row.status), .text(" "),
                                    .time(row.createdAt))
                            }),
                    .p(
                        .a(
                            .safeAttribute("href", "/executions?pipeline=\(model.id)"),
                            .text("All executions of this pipeline")))
                )
            )
        }

        /// Edit and detect, for roles that may change pipelines.
        func changeActions() -> Node<HTML.BodyContext> {
            .group(
                .a(.class("button"), .safeAttribute("href", "\(base)/edit"), .text("Edit")),
                .form(
                    .class("inline"), .method(.post), .safeAttribute("action", "\(base)/detect"), csrfField(context),
                    .button(.type(.submit), .text("Detect the stack")))
            )
        }

        /// The new pipeline's webhook secret, this once (the page is `no-store`).
        func createdSecret() -> Node<HTML.BodyContext> {
            guard let secret = model.createdWebhookSecret else { return .empty }
            return .section(
                .class("results ok"),
                .h2(.text("Pipeline created")),
                .p(
                    .text("Webhook secret, shown this once: set it with the webhook URL below in the repository's "),
                    .text("Bitbucket webhook settings.")),
                .pre(.class("public-key"), .id("webhook-secret"), .safe(secret)),
                .button(
                    .type(.button), .class("copy"), .attribute(named: "data-copy", value: "webhook-secret"),
                    .text("Copy"))
            )
        }

        func detection() -> Node<HTML.BodyContext> {
            guard let detection = model.detection else { return .empty }
            return .section(
                .h2(.text("Detected stack")),
                .dl(
                    .class("facts"),
                    .forEach(detection.facts) { fact in .group(.dt(.safe(fact.label)), .dd(.code(.safe(fact.value)))) }
                ),
                .h3(.text("Evidence")),
                .ul(
                    .class("checklist"),
                    .forEach(detection.evidence) { item in
                        .li(.code(.safe(item.file)), .text(" — "), .safe(item.reason))
                    }
                ),
                .if(
                    !detection.others.isEmpty,
                    .p(
                        .text("Other applications in this repository: "),
                        .safe(detection.others.joined(separator: ", "))))
            )
        }

        func pullRequestForm() -> Node<HTML.BodyContext> {
            .form(
                .class("card"), .method(.post), .safeAttribute("action", "\(base)/pull-request"),
                .h2(.text("Open the pull request")),
                csrfField(context),
                .p(
                    .class("hint"),
                    .text(
                        "Adds bitbucket-pipelines.yml (and the nginx site when a domain is set) on a new branch."
                    )),
                .label(
                    .class("check"), .input(.type(.checkbox), .name("provision"), .value("true")),
                    .text(" Also provision the repository (Pipelines, key pair, known hosts, variables)")),
                .button(.type(.submit), .class("primary"), .text("Open pull request"))
            )
        }

        func triggerForm() -> Node<HTML.BodyContext> {
            .form(
                .class("card"), .method(.post), .safeAttribute("action", "\(base)/trigger"),
                .h2(.text("Run the pipeline")),
                csrfField(context),
                .label(.text("Branch"), .input(.type(.text), .name("branch"), .safe("value", model.branch))),
                .button(.type(.submit), .text("Trigger"))
            )
        }

        func pullRequest() -> Node<HTML.BodyContext> {
            guard let pr = model.pullRequest else { return .empty }
            return .section(
                .class("results ok"),
                .h2(.safe(pr.created ? "Pull request #\(pr.id) opened" : "Pull request #\(pr.id) updated")),
                .p(
                    .safe("From branch \(pr.sourceBranch). "),
                    .unwrap(pr.url) { url in
                        url.hasPrefix("https://") || url.hasPrefix("http://")
                            ? .a(
                                .safeAttribute("href", url), .attribute(named: "rel", value: "noopener noreferrer"),
                                .text("Open it in Bitbucket"))
                            : .empty
                    }),
                .unwrap(model.provisionResults) { rows in planTable(rows, caption: "Provisioned") }
            )
        }

        func preview() -> Node<HTML.BodyContext> {
            guard let preview = model.preview else { return .empty }
            return .section(
                .h2(.text("Generated configuration")),
                .forEach(preview.files) { file in
                    .div(
                        .class("card"),
                        .h3(.code(.safe(file.path)), .text(" "), .badge(file.ok ? "ok" : "failed")),
                        .if(
                            !file.messages.isEmpty, .ul(.class("checklist"), .forEach(file.messages) { .li(.safe($0)) })
                        ),
                        .pre(.class("public-key"), .safe(file.content))
                    )
                },
                .if(
                    !preview.variables.isEmpty,
                    .p(
                        .text("Repository variables the pipeline reads: "),
                        .code(.safe(preview.variables.joined(separator: ", ")))))
            )
        }

        func plan() -> Node<HTML.BodyContext> {
            guard let rows = model.plan else { return .empty }
            return .section(
                .h2(.text("Repository settings in Bitbucket")),
                planTable(rows, caption: "Plan"),
                .form(
                    .method(.post), .safeAttribute("action", "\(base)/provision"), csrfField(context),
                    .button(.type(.submit), .class("primary"), .text("Apply"))
                )
            )
        }

        func planTable(_ rows: [Model.PlanRow], caption: String) -> Node<HTML.BodyContext> {
            .table(
                .class("list"),
                .thead(.tr(.th("Item"), .th("Name"), .th("Action"), .th("Detail"))),
                .tbody(
                    .forEach(rows) { row in
                        .tr(
                            .td(.safe(row.kind)), .td(.code(.safe(row.name))), .td(.badge(row.action)),
                            .td(.safe(row.detail ?? "")))
                    }),
                .caption(.safe(caption))
            )
        }
    }
}
