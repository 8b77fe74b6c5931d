import Foundation
import Vapor

/// `GET/POST /login`, `POST /logout`: the dashboard's sign-in and sign-out, on the JSON API's session
/// (`Request.auditedSignIn`, `SessionService`).
struct SessionPagesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("login", use: form)
        routes.post("login", use: signIn)
        routes.post("logout", use: signOut)
    }

    @Sendable func form(req: Request) async throws -> Response {
        let next = SafeRedirect.target(req.query[String.self, at: "next"])
        if req.authenticatedUser != nil { return .seeOther(next) }
        return .page(Login.View(context: req.pageContext(.login), model: .init(next: next)).render())
    }

    /// A cross-site form post (`Sec-Fetch-Site: cross-site`, or an `Origin` of another host) is refused:
    /// no one signs a browser in to someone else's account.
    @Sendable func signIn(req: Request) async throws -> Response {
        guard Self.isSameOrigin(req) else { throw AppError.forbidden("Sign-in forms must come from this site.") }
        let form = try? req.form(LoginForm.self)
        let next = SafeRedirect.target(form?.next)
        do {
            return try await req.auditedSignIn {
                guard let form, !form.username.isEmpty, !form.password.isEmpty else {
                    throw AppError.invalidField("username", reason: "enter a username and a password")
                }
                return LoginRequest(username: form.username, password: form.password)
            } respond: { signIn in
                let response = Response.seeOther(next)
                response.cookies[AuthenticationMiddleware.sessionCookie] = .session(signIn)
                return response
            }
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            let model = Login.Model(
                next: next, username: String((form?.username ?? "").prefix(64)), error: rendered.message)
            let response = Response.page(
                Login.View(context: req.pageContext(.login), model: model).render(), status: rendered.status)
            response.headers.add(contentsOf: rendered.headers)
            return response
        }
    }

    @Sendable func signOut(req: Request) async throws -> Response {
        if let user = req.authenticatedUser {
            try await AuditLog.audited(req, .logout, resource: AuditResource(type: "user", id: user.id)) { _ in
                try await req.sessionService.signOut(user)
            }
        }
        let response = Response.seeOther("/login")
        response.cookies[AuthenticationMiddleware.sessionCookie] = .expired
        return response
    }

    static func isSameOrigin(_ req: Request) -> Bool {
        if req.headers.first(name: "Sec-Fetch-Site") == "cross-site" { return false }
        guard let origin = req.headers.first(name: .origin), origin != "null" else { return true }
        guard let host = req.headers.first(name: .host), let url = URL(string: origin), let originHost = url.host
        else { return false }
        let port = url.port.map { ":\($0)" } ?? ""
        return "\(originHost)\(port)".lowercased() == host.lowercased()
    }
}

/// The sign-in form's fields (`application/x-www-form-urlencoded`).
struct LoginForm: Decodable {
    var username: String
    var password: String
    var next: String?
}
