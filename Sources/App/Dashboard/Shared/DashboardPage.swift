import Foundation
import Plot
import Vapor

/// What every dashboard page knows about the request: the signed-in user, the session's CSRF token (every
/// form carries it as `csrf_token`), the asset URLs and the section to highlight in the navigation.
struct PageContext: Sendable {
    var user: AuthenticatedUser?
    var csrfToken: String?
    var assets: DashboardAssets
    var section: DashboardPage.Section
    /// A one-line notice shown above the content (e.g. "Key created."), already decided by the controller.
    var notice: String?

    /// Whether the signed-in user's role allows `permission` (`Auth/Permission.swift`): views leave out
    /// the buttons and forms of actions the role may not take; the server still checks every request.
    func can(_ permission: Permission) -> Bool { user?.role.allows(permission) ?? false }
}

/// The base page every dashboard view renders into (the shape of SwiftPackageIndex-Server's `PublicPage`):
/// head with the one stylesheet, header navigation, a polite status region for announcements, the page's
/// content, and the one ES module entry point. No inline script or style anywhere (the page's
/// Content-Security-Policy forbids them).
struct DashboardPage {
    enum Section: String, Sendable, CaseIterable {
        case overview, executions, pipelines, keys, servers, connections, audit, users, account, login, error

        var title: String {
            switch self {
            case .overview: "Overview"
            case .executions: "Executions"
            case .pipelines: "Pipelines"
            case .keys: "Keys"
            case .servers: "Servers"
            case .connections: "Connections"
            case .audit: "Audit"
            case .users: "Users"
            case .account: "Account"
            case .login: "Sign in"
            case .error: "Error"
            }
        }

        var path: String {
            switch self {
            case .overview: "/"
            case .login: "/login"
            case .error: "/"
            default: "/\(rawValue)"
            }
        }

        static let navigation: [Section] = [
            .overview, .executions, .pipelines, .keys, .servers, .connections, .audit, .users, .account,
        ]

        /// Sections only some roles open (the server refuses the others anyway).
        var permission: Permission? { self == .users ? .manageUsers : nil }
    }

    var context: PageContext
    /// The document title's first part (", Pipewright" follows).
    var title: String
    var content: Node<HTML.BodyContext>
    /// Extra classes on `<body>` (e.g. `log-page`).
    var bodyClass: String = ""

    func render() -> String {
        let html = HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .element(named: "title", nodes: [.safe("\(title) · Pipewright")]),
                .link(.rel(.stylesheet), .safe("href", context.assets.url("dashboard.css"))),
                .script(
                    .attribute(named: "type", value: "module"),
                    .safeAttribute("src", context.assets.url("dashboard.js")))
            ),
            .body(
                .class(("page-\(context.section.rawValue) " + bodyClass).trimmingCharacters(in: .whitespaces)),
                .a(.class("skip"), .href("#main"), .text("Skip to content")),
                header(),
                .div(
                    .id("status"), .class("visually-hidden"), .attribute(named: "role", value: "status"),
                    .attribute(named: "aria-live", value: "polite")),
                .main(
                    .id("main"),
                    .unwrap(context.notice) {
                        .p(.class("notice"), .attribute(named: "role", value: "status"), .safe($0))
                    },
                    content
                ),
                .footer(.p(.text("Pipewright · "), .a(.href("/api/openapi.json"), .text("API"))))
            )
        )
        return html.render()
    }

    private func header() -> Node<HTML.BodyContext> {
        guard let user = context.user else {
            return .header(.class("top"), .a(.class("brand"), .href("/login"), .text("Pipewright")))
        }
        return .header(
            .class("top"),
            .a(.class("brand"), .href("/"), .text("Pipewright")),
            .nav(
                .attribute(named: "aria-label", value: "Main"),
                .ul(
                    .forEach(Section.navigation.filter { $0.permission.map(context.can) ?? true }) { section in
                        .li(
                            .a(
                                .href(section.path),
                                .if(section == context.section, .attribute(named: "aria-current", value: "page")),
                                .text(section.title)))
                    }
                )
            ),
            .form(
                .class("signout"), .method(.post), .action("/logout"),
                .span(.class("who"), .safe(user.username), .text(" · "), .safe(user.role.rawValue)),
                csrfField(context),
                .button(.type(.submit), .text("Sign out"))
            )
        )
    }
}

/// The hidden `csrf_token` field every dashboard form carries (checked by `DashboardSessionMiddleware`).
func csrfField<Context>(_ context: PageContext) -> Node<Context> {
    guard let token = context.csrfToken else { return .empty }
    return .raw("<input type=\"hidden\" name=\"csrf_token\" value=\"\(HTMLEscape.escape(token))\">")
}

extension Response {
    /// A rendered dashboard page: `text/html`, no caching, and the dashboard's Content-Security-Policy (only
    /// same-origin scripts, styles, images and connections; no inline code; no framing; forms post to this
    /// origin only).
    static func page(_ html: String, status: HTTPStatus = .ok) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "html", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        headers.replaceOrAdd(name: "Content-Security-Policy", value: DashboardPage.contentSecurityPolicy)
        return Response(status: status, headers: headers, body: .init(string: html))
    }

    /// 303 See Other to a same-origin path (after a form POST).
    static func seeOther(_ location: String) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .location, value: location)
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .seeOther, headers: headers)
    }
}

extension DashboardPage {
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}
