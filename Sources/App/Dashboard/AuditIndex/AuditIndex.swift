import Fluent
import Foundation
import Plot

/// `/audit`: the audit log, newest first, with the API's filters (actor, action, resource, outcome, dates).
enum AuditIndex {
    struct Model: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var at: Date
            var actor: String
            var action: String
            var resource: String
            var outcome: String
            var ip: String
            var details: String
        }

        var rows: [Row]
        var total: Int
        var page: Int
        var perPage: Int
        /// The filter values as typed (re-rendered in the form).
        var filters: [String: String]
        var error: String?
    }

    static let filterNames = ["actor", "action", "resource", "outcome", "from_date", "to_date"]

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: "Audit", content: content()).render()
        }

        func content() -> Node<HTML.BodyContext> {
            .group(
                .h1(.text("Audit log")),
                .form(
                    .class("filter"), .method(.get), .action("/audit"),
                    .forEach(AuditIndex.filterNames) { name in
                        .label(
                            .safe(name.replacingOccurrences(of: "_", with: " ") + " "),
                            .input(.type(.text), .name(name), .safe("value", model.filters[name] ?? "")))
                    },
                    .button(.type(.submit), .text("Filter"))
                ),
                .alert(model.error),
                model.rows.isEmpty
                    ? .p(.class("empty"), .text("No entry matches."))
                    : .table(
                        .class("list"),
                        .thead(
                            .tr(.th("At"), .th("Actor"), .th("Action"), .th("Resource"), .th("Outcome"), .th("Details"))
                        ),
                        .tbody(
                            .forEach(model.rows) { row in
                                .tr(
                                    .td(.time(row.at)), .td(.safe(row.actor)), .td(.code(.safe(row.action))),
                                    .td(.safe(row.resource)), .td(.badge(row.outcome)),
                                    .td(.code(.class("details"), .safe(row.details))))
                            }),
                        .caption(.safe("\(model.total) entr\(model.total == 1 ? "y" : "ies")"))),
                pager()
            )
        }

        func pager() -> Node<HTML.BodyContext> {
            let shown = (model.page - 1) * model.perPage + model.rows.count
            guard model.page > 1 || shown < model.total else { return .empty }
            func link(_ page: Int) -> String {
                var components = URLComponents()
                components.path = "/audit"
                components.queryItems =
                    model.filters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
                    + [URLQueryItem(name: "page", value: String(page))]
                return components.string ?? "/audit"
            }
            return .p(
                .class("pager"),
                .if(model.page > 1, .a(.safeAttribute("href", link(model.page - 1)), .text("← newer"))),
                .if(shown < model.total, .a(.safeAttribute("href", link(model.page + 1)), .text("older →"))))
        }
    }
}

extension AuditIndex.Model.Row {
    init(_ entry: AuditEntry) {
        self.init(
            at: entry.at, actor: entry.actorUsername ?? "—", action: entry.action,
            resource: [entry.resourceType, entry.resourceID.map(String.init)].compactMap { $0 }.joined(separator: " "),
            outcome: entry.outcome.rawValue, ip: entry.ip,
            details: entry.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
}
