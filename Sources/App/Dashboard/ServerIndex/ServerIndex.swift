import Fluent
import Foundation
import Plot

/// `/servers`: the servers the team deploys to, with their pinned host keys.
enum ServerIndex {
    struct Model: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var id: Int
            var name: String
            var login: String
            var hostKeys: Int
            var legacyRSASHA1: Bool
        }

        var rows: [Row]
        var total: Int
    }

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(
                context: context, title: "Servers",
                content: .group(
                    .h1(.text("Servers")),
                    model.rows.isEmpty
                        ? .p(.class("empty"), .text("No server yet: deploying a key to a new host adds it."))
                        : .table(
                            .class("list"),
                            .thead(.tr(.th("Server"), .th("Login"), .th("Pinned host keys"), .th("ssh-rsa (SHA-1)"))),
                            .tbody(
                                .forEach(model.rows) { row in
                                    .tr(
                                        .td(.a(.safeAttribute("href", "/servers/\(row.id)"), .safe(row.name))),
                                        .td(.code(.safe(row.login))),
                                        .td(
                                            row.hostKeys == 0
                                                ? .span(.class("badge warn"), .text("none yet"))
                                                : .safe(String(row.hostKeys))),
                                        .td(.safe(row.legacyRSASHA1 ? "allowed" : "—")))
                                }),
                            .caption(.safe("\(model.total) server\(model.total == 1 ? "" : "s")")))
                )
            ).render()
        }
    }
}
