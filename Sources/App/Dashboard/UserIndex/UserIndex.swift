import Foundation
import Plot

/// `/users` (admins): the team's accounts with their role and state; create an account, change a role,
/// disable or enable, reset a password (a one-time password, shown once) and delete. The rules are
/// `UserService`'s (docs/API.md "Users and roles"): the last admin stays, nobody changes their own account
/// here (their own password is on `/account/password`).
enum UserIndex {
    struct Model: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var id: Int
            var username: String
            var role: String
            var disabled: Bool
            var mustChangePassword: Bool
            var createdAt: Date?
            /// The signed-in admin's own row: no actions.
            var isSelf: Bool
        }

        /// A password to hand over, shown once: a new account's generated password or a reset's one-time one.
        struct IssuedPassword: Sendable, Equatable {
            var username: String
            var password: String
            var reason: String
        }

        var rows: [Row]
        var total: Int
        var issued: IssuedPassword?
        var error: String?
        var form = Form()

        struct Form: Sendable, Equatable {
            var username = ""
            var role = "maintainer"
        }
    }

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: "Users", content: content()).render()
        }

        static let roles: [(value: String, label: String)] = [
            ("viewer", "viewer (reads)"), ("maintainer", "maintainer (changes, deploys, triggers)"),
            ("admin", "admin (users, host keys, exports)"),
        ]

        func content() -> Node<HTML.BodyContext> {
            .group(
                .h1(.text("Users")),
                .alert(model.error),
                issued(),
                .table(
                    .class("list"),
                    .thead(.tr(.th("User"), .th("Role"), .th("State"), .th("Created"), .th("Actions"))),
                    .tbody(.forEach(model.rows) { row in self.row(row) }),
                    .caption(.safe("\(model.total) user\(model.total == 1 ? "" : "s")"))),
                createForm()
            )
        }

        func issued() -> Node<HTML.BodyContext> {
            guard let issued = model.issued else { return .empty }
            return .section(
                .class("results ok"),
                .h2(.safe("\(issued.reason) for \(issued.username)")),
                .p(.text("Hand it over privately; it is shown this once and must be changed at the first sign-in.")),
                .pre(.class("public-key"), .id("issued-password"), .safe(issued.password)),
                .button(
                    .type(.button), .class("copy"), .attribute(named: "data-copy", value: "issued-password"),
                    .text("Copy"))
            )
        }

        func row(_ row: Model.Row) -> Node<HTML.TableContext> {
            let state = row.disabled ? "disabled" : row.mustChangePassword ? "must change password" : "active"
            return .tr(
                .td(.safe(row.username), .if(row.isSelf, .span(.class("hint"), .text(" (you)")))),
                .td(.badge(row.role)),
                .td(.safe(state)),
                .td(.time(row.createdAt)),
                .td(row.isSelf ? .a(.href("/account"), .text("Your account")) : actions(row))
            )
        }

        func actions(_ row: Model.Row) -> Node<HTML.BodyContext> {
            let base = "/users/\(row.id)"
            let role: Node<HTML.LabelContext> = .choice(name: "role", Self.roles, selected: row.role)
            return .div(
                .class("row-actions"),
                .form(
                    .class("inline"), .method(.post), .safeAttribute("action", "\(base)/role"), csrfField(context),
                    .label(.span(.class("visually-hidden"), .safe("Role of \(row.username)")), role),
                    .button(.type(.submit), .text("Set role"))),
                .form(
                    .class("inline"), .method(.post),
                    .safeAttribute("action", "\(base)/\(row.disabled ? "enable" : "disable")"), csrfField(context),
                    .button(.type(.submit), .text(row.disabled ? "Enable" : "Disable"))),
                .form(
                    .class("inline"), .method(.post), .safeAttribute("action", "\(base)/password-reset"),
                    csrfField(context), .button(.type(.submit), .text("Reset password"))),
                .details(
                    .class("danger"),
                    .summary(.text("Delete")),
                    .form(
                        .method(.post), .safeAttribute("action", "\(base)/delete"), csrfField(context),
                        .p(
                            .class("hint"),
                            .text("Sessions and tokens stop working; audit entries keep the name.")),
                        .button(.type(.submit), .class("danger"), .safe("Delete \(row.username)"))))
            )
        }

        func createForm() -> Node<HTML.BodyContext> {
            let role: Node<HTML.LabelContext> = .choice(name: "role", Self.roles, selected: model.form.role)
            return .form(
                .class("card narrow"), .method(.post), .action("/users"),
                .h2(.text("Add a user")),
                csrfField(context),
                .label(
                    .text("Username"),
                    .input(
                        .type(.text), .name("username"), .required(true), .safe("value", model.form.username),
                        .attribute(named: "autocomplete", value: "off"))),
                .label(.text("Role"), role),
                .p(
                    .class("hint"),
                    .text("A password is generated and shown once; the user chooses their own at the first sign-in.")),
                .button(.type(.submit), .class("primary"), .text("Add user"))
            )
        }
    }
}
