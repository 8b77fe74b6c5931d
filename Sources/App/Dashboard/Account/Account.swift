import Fluent
import Foundation
import Plot

/// `/account`: who you are, and your API tokens (a new token is shown once, right after it is created).
enum Account {
    struct Model: Sendable, Equatable {
        struct Token: Sendable, Equatable {
            var id: Int
            var name: String
            var prefix: String
            var createdAt: Date?
            var lastUsedAt: Date?
            var expiresAt: Date?
        }

        var username: String
        var role: String
        var tokens: [Token]
        /// The token just created, shown once.
        var newToken: String?
        var error: String?
    }

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: "Account", content: content()).render()
        }

        func content() -> Node<HTML.BodyContext> {
            .group(
                .h1(.text("Account")),
                .p(
                    .safe("Signed in as \(model.username) (\(model.role)). "),
                    .a(.href(Account.passwordPath), .text("Change your password"))),
                .alert(model.error),
                .unwrap(model.newToken) { token in
                    .section(
                        .class("results ok"),
                        .h2(.text("Your new token")),
                        .p(.text("Copy it now: it is shown only this once.")),
                        .div(
                            .class("copyable"), .pre(.id("new-token"), .class("public-key"), .safe(token)),
                            .button(
                                .type(.button), .class("copy"), .attribute(named: "data-copy", value: "new-token"),
                                .text("Copy"))))
                },
                .h2(.text("API tokens")),
                model.tokens.isEmpty
                    ? .p(.class("empty"), .text("No token."))
                    : .table(
                        .class("list"),
                        .thead(
                            .tr(
                                .th("Name"), .th("Starts with"), .th("Created"), .th("Last used"), .th("Expires"),
                                .th(""))),
                        .tbody(
                            .forEach(model.tokens) { token in
                                .tr(
                                    .td(.safe(token.name)), .td(.code(.safe(token.prefix + "…"))),
                                    .td(.time(token.createdAt)),
                                    .td(.time(token.lastUsedAt)), .td(.time(token.expiresAt)),
                                    .td(
                                        .form(
                                            .class("inline"), .method(.post),
                                            .safeAttribute("action", "/account/tokens/\(token.id)/revoke"),
                                            csrfField(context),
                                            .button(.type(.submit), .class("danger"), .text("Revoke")))))
                            })),
                .form(
                    .class("card narrow"), .method(.post), .action("/account/tokens"),
                    .h2(.text("Create a token")),
                    csrfField(context),
                    .label(.text("Name"), .input(.type(.text), .name("name"), .required(true))),
                    .label(
                        .text("Expires in days (empty: never)"),
                        .input(.type(.number), .name("expires_in_days"), .attribute(named: "min", value: "1"))),
                    .button(.type(.submit), .class("primary"), .text("Create token"))
                )
            )
        }
    }
}

extension Account {
    /// `/account/password`: the own-password form (current password required); where a user whose
    /// password an admin reset is sent until it is changed.
    static let passwordPath = "/account/password"

    struct PasswordModel: Sendable, Equatable {
        /// An admin reset the password: nothing else works until it is changed.
        var forced: Bool
        var error: String?
    }

    struct PasswordView {
        var context: PageContext
        var model: PasswordModel

        func render() -> String {
            DashboardPage(
                context: context, title: "Change password",
                content: .form(
                    .class("card narrow"), .method(.post), .action(Account.passwordPath),
                    .h1(.text("Change your password")),
                    .if(
                        model.forced,
                        .p(
                            .class("notice"),
                            .text(
                                "Your password was set by an admin (a new account or a reset): choose your own to continue."
                            ))),
                    .unwrap(model.error) { .p(.class("error"), .attribute(named: "role", value: "alert"), .safe($0)) },
                    csrfField(context),
                    .label(
                        .text("Current password"),
                        .input(
                            .type(.password), .name("current_password"), .required(true),
                            .attribute(named: "autocomplete", value: "current-password"))),
                    .label(
                        .text("New password (at least 12 characters, not a common one, not your username)"),
                        .input(
                            .type(.password), .name("new_password"), .required(true),
                            .attribute(named: "minlength", value: "12"),
                            .attribute(named: "autocomplete", value: "new-password"))),
                    .label(
                        .class("check"), .input(.type(.checkbox), .name("revoke_tokens"), .value("true")),
                        .text(" Also revoke my API tokens")),
                    .p(.class("hint"), .text("Your other sessions are signed out.")),
                    .button(.type(.submit), .class("primary"), .text("Change password"))
                )
            ).render()
        }
    }
}
