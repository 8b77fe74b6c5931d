import Fluent
import Foundation
import Plot
import Vapor

/// Signs dashboard requests in from the `pw_session` cookie (the JSON API's session, docs/API.md "Accounts
/// and tokens") and guards them:
/// - an anonymous request to a page that needs a user is redirected (303) to `/login?next=<path>`;
/// - a user whose password an admin reset is sent to `/account/password` (other POSTs: 403
///   `password_change_required`) until it is changed;
/// - a POST must carry the session's CSRF token as the form field `csrf_token` (or the `X-CSRF-Token`
///   header), else 403 — forms without JavaScript work, cross-site posts do not;
/// - errors are rendered as an HTML page (status, code and message from `APIErrorMiddleware.render`).
struct DashboardSessionMiddleware: AsyncMiddleware {
    let now: @Sendable () -> Date
    /// Whether the routes behind need a signed-in user (`/login` does not).
    let requiresUser: Bool

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            if let cookie = request.cookies[AuthenticationMiddleware.sessionCookie]?.string, !cookie.isEmpty,
                let user = try await AuthenticationMiddleware.user(sessionCookie: cookie, on: request.db, now: now())
            {
                request.authenticatedUser = user
            }
            if requiresUser, request.authenticatedUser == nil {
                if request.method == .GET || request.method == .HEAD {
                    return .seeOther("/login?next=" + SafeRedirect.encode(SafeRedirect.path(of: request)))
                }
                throw AppError.unauthenticated
            }
            // An admin reset the password: every page leads to the password form until it is changed
            // (docs/API.md "Forced password change"); `/login` and `/logout` stay on the anonymous group.
            if requiresUser, request.authenticatedUser?.mustChangePassword == true,
                request.url.path != Account.passwordPath
            {
                if request.method == .GET || request.method == .HEAD { return .seeOther(Account.passwordPath) }
                throw AppError.passwordChangeRequired
            }
            if request.method == .POST, case .session(_, let csrfToken)? = request.authenticatedUser?.method {
                // Middleware runs before the route collects the body: collect it here (same limit), or a form
                // that arrives in several reads would look as if it had no token.
                if request.body.data == nil {
                    _ = try await request.body.collect(max: request.application.routes.defaultMaxBodySize.value).get()
                }
                let sent =
                    request.headers.first(name: "X-CSRF-Token")
                    ?? (try? request.form(CSRFField.self))?.csrfToken ?? ""
                guard TokenHasher.constantTimeEquals(sent, csrfToken) else { throw AppError.csrfTokenMissing }
            }
            return try await next.respond(to: request)
        } catch {
            return DashboardErrorPage.response(for: error, request: request)
        }
    }
}

/// Same-origin redirect targets for `?next=` (never another host, scheme or protocol-relative URL).
enum SafeRedirect {
    /// `next` when it is a same-origin path (`/…`, not `//…`, no backslash, no control character, at most
    /// 2,000 characters), else `/`.
    static func target(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), next.count <= 2_000,
            !next.contains("\\"), !next.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return "/" }
        return next
    }

    /// The request's path and query, for `?next=`.
    static func path(of request: Request) -> String {
        var path = request.url.path
        if let query = request.url.query, !query.isEmpty { path += "?" + query }
        return target(path)
    }

    /// Percent-encoded for a query value.
    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/"
    }
}

/// The HTML page for an error on a dashboard route.
enum DashboardErrorPage {
    static func response(for error: any Error, request: Request) -> Response {
        let rendered = APIErrorMiddleware.render(error)
        if rendered.status.code >= 500 {
            request.logger.error(
                "dashboard request failed",
                metadata: ["error_type": "\(type(of: error))", "error": "\(String(reflecting: error).prefix(300))"])
        }
        let context = PageContext(
            user: request.authenticatedUser, csrfToken: request.csrfToken, assets: request.application.dashboardAssets,
            section: .error)
        let page = DashboardPage(
            context: context, title: "\(rendered.status.code) \(rendered.status.reasonPhrase)",
            content: .section(
                .class("error-page"),
                .h1(.safe("\(rendered.status.code) \(rendered.status.reasonPhrase)")),
                .p(.safe(rendered.message)),
                .p(.class("code"), .text("Error code: "), .code(.safe(rendered.code))),
                .p(.a(.href("/"), .text("Back to the overview")))
            ))
        let response = Response.page(page.render(), status: rendered.status)
        response.headers.add(contentsOf: rendered.headers)
        return response
    }
}

/// The `csrf_token` field of a dashboard form.
struct CSRFField: Decodable {
    var csrfToken: String

    enum CodingKeys: String, CodingKey { case csrfToken = "csrf_token" }
}

extension Request {
    /// The body of a dashboard form (`application/x-www-form-urlencoded`), decoded here only: the JSON API
    /// refuses form bodies (configure.swift), the dashboard's form routes read them with this.
    ///
    /// - Throws: 400 `invalid_body` when the body is not such a form or lacks a required field.
    func form<Form: Decodable>(_ type: Form.Type) throws -> Form {
        guard headers.contentType == .urlEncodedForm, let body = body.string else {
            throw AppError.invalidField("body", reason: "expected a form (application/x-www-form-urlencoded)")
        }
        return try URLEncodedFormDecoder().decode(Form.self, from: body)
    }

    /// The session's CSRF token when signed in with the cookie.
    var csrfToken: String? {
        if case .session(_, let token)? = authenticatedUser?.method { return token }
        return nil
    }

    /// The page context for a dashboard view of `section`.
    func pageContext(_ section: DashboardPage.Section, notice: String? = nil) -> PageContext {
        PageContext(
            user: authenticatedUser, csrfToken: csrfToken, assets: application.dashboardAssets, section: section,
            notice: notice)
    }
}

extension Application {
    private struct DashboardAssetsKey: StorageKey {
        typealias Value = DashboardAssets
    }

    /// The dashboard's assets, loaded at start-up (`configure`).
    var dashboardAssets: DashboardAssets {
        get { storage[DashboardAssetsKey.self] ?? DashboardAssets(assets: [:]) }
        set { storage[DashboardAssetsKey.self] = newValue }
    }
}

/// The builder dashboard routes are registered on: it marks each route (`userInfo["surface"] =
/// "dashboard"`), so the API's route checks (OpenAPI, docs/API.md) leave the pages to docs/dashboard.md.
struct DashboardRoutes: RoutesBuilder {
    static let surfaceKey = "surface"
    let root: any RoutesBuilder

    func add(_ route: Route) {
        route.userInfo[Self.surfaceKey] = "dashboard"
        root.add(route)
    }

    /// Whether `route` is a dashboard page, asset or fragment.
    static func isDashboard(_ route: Route) -> Bool {
        route.userInfo[surfaceKey] as? String == "dashboard"
    }
}

extension APIErrorMiddleware {
    /// The error as the JSON API renders it, when it is the client's (status below 500): a dashboard form
    /// shows its message on the page, with its status. A failure of the service is rethrown, for the
    /// dashboard's error page.
    static func clientError(_ error: any Error) throws -> Rendered {
        let rendered = render(error)
        guard rendered.status.code < 500 else { throw error }
        return rendered
    }
}
