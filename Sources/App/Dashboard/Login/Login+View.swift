import Plot

/// `/login`: the sign-in form.
enum Login {
    struct Model: Sendable {
        /// Where to go after signing in (already checked by ``SafeRedirect/target(_:)``).
        var next: String
        /// The username typed before a failed attempt (the password is never re-rendered).
        var username: String = ""
        /// Why the last attempt failed.
        var error: String?
    }

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(
                context: context, title: "Sign in",
                content: .section(
                    .class("login"),
                    .h1(.text("Sign in to Pipewright")),
                    .unwrap(model.error) { .p(.class("error"), .attribute(named: "role", value: "alert"), .safe($0)) },
                    .form(
                        .method(.post), .action("/login"),
                        .input(.type(.hidden), .name("next"), .safe("value", model.next)),
                        .label(
                            .text("Username"),
                            .input(
                                .type(.text), .name("username"), .safe("value", model.username),
                                .attribute(named: "autocomplete", value: "username"), .required(true),
                                .autofocus(model.username.isEmpty))),
                        .label(
                            .text("Password"),
                            .input(
                                .type(.password), .name("password"),
                                .attribute(named: "autocomplete", value: "current-password"),
                                .required(true), .autofocus(!model.username.isEmpty))),
                        .button(.type(.submit), .class("primary"), .text("Sign in"))
                    ),
                    .p(
                        .class("hint"), .text("The first admin's password is printed once by "),
                        .code(.text("pipewright serve")),
                        .text(" on its first start."))
                )
            ).render()
        }
    }
}
