import Fluent
import Foundation
import Plot

/// `/connections`: Bitbucket connections (never their tokens), verify, and the form to add one.
enum ConnectionIndex {
    struct Model: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var id: Int
            var name: String
            var workspace: String
            var authType: String
        }

        var rows: [Row]
        var verification: Verification?
        var error: String?
        var form = Form()

        struct Verification: Sendable, Equatable {
            var connectionID: Int
            var ok: Bool
            var message: String
        }

        struct Form: Sendable, Equatable {
            var name = ""
            var workspace = ""
            var authType = "api_token"
            var email = ""
        }
    }

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: "Connections", content: content()).render()
        }

        func content() -> Node<HTML.BodyContext> {
            let auth: Node<HTML.LabelContext> = .choice(
                name: "auth_type", [("api_token", "API token (with account email)"), ("access_token", "Access token")],
                selected: model.form.authType)
            return .group(
                .h1(.text("Bitbucket connections")),
                .alert(model.error),
                .unwrap(model.verification) { result in
                    .p(
                        .class(result.ok ? "notice" : "error"), .attribute(named: "role", value: "status"),
                        .safe("Connection \(result.connectionID): \(result.message)"))
                },
                model.rows.isEmpty
                    ? .p(.class("empty"), .text("No connection yet."))
                    : .table(
                        .class("list"),
                        .thead(.tr(.th("Name"), .th("Workspace"), .th("Credential"), .th(""))),
                        .tbody(
                            .forEach(model.rows) { row in
                                .tr(
                                    .td(.safe(row.name)), .td(.code(.safe(row.workspace))), .td(.safe(row.authType)),
                                    .td(
                                        .form(
                                            .class("inline"), .method(.post),
                                            .safeAttribute("action", "/connections/\(row.id)/verify"),
                                            csrfField(context),
                                            .button(.type(.submit), .text("Verify")))))
                            })),
                .if(context.can(.changeConnections), addForm(auth))
            )
        }

        func addForm(_ auth: Node<HTML.LabelContext>) -> Node<HTML.BodyContext> {
            .form(
                .class("card narrow"), .method(.post), .action("/connections"),
                .h2(.text("Connect a Bitbucket workspace")),
                csrfField(context),
                .label(
                    .text("Name"),
                    .input(.type(.text), .name("name"), .required(true), .safe("value", model.form.name))),
                .label(
                    .text("Workspace"),
                    .input(.type(.text), .name("workspace"), .required(true), .safe("value", model.form.workspace))),
                .label(.text("Credential"), auth),
                .label(
                    .text("Account email (API tokens)"),
                    .input(.type(.email), .name("email"), .safe("value", model.form.email))),
                .label(
                    .text("Token (stored encrypted, never shown again)"),
                    .input(
                        .type(.password), .name("token"), .required(true),
                        .attribute(named: "autocomplete", value: "off"))),
                .button(.type(.submit), .class("primary"), .text("Add connection"))
            )
        }
    }
}
