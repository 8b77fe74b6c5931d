import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `/users` (admins): decode → `UserController`'s audited operations (the same use cases as
/// `/api/users`) → render the list again, with a password to hand over or the refusal's message.
struct UserPagesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("users", use: index)
        routes.post("users", use: create)
        routes.post("users", ":userID", "role", use: setRole)
        routes.post("users", ":userID", "disable", use: disable)
        routes.post("users", ":userID", "enable", use: enable)
        routes.post("users", ":userID", "password-reset", use: resetPassword)
        routes.post("users", ":userID", "delete", use: delete)
    }

    /// The list (first 100 accounts), after `change` ran: a client error is shown on the page with its status,
    /// a password to hand over is shown once, any other success of a form redirects to `/users`.
    func page(
        _ req: Request, form: UserIndex.Model.Form = .init(),
        _ change: () async throws -> UserIndex.Model.IssuedPassword? = { nil }
    ) async throws -> Response {
        var issued: UserIndex.Model.IssuedPassword?
        var failure: (message: String, status: HTTPStatus)?
        do {
            issued = try await change()
        } catch {
            let rendered = try APIErrorMiddleware.clientError(error)
            failure = (rendered.message, rendered.status)
        }
        if failure == nil, issued == nil, req.method == .POST { return .seeOther("/users") }
        let me = try req.requireUser()
        let (users, total) = try await req.userService.list(page: try .init(page: 1, perPage: 100), by: .user(me))
        let rows = try users.map { user in
            UserIndex.Model.Row(
                id: try user.requireID(), username: user.username, role: user.role.rawValue,
                disabled: user.isDisabled, mustChangePassword: user.mustChangePassword, createdAt: user.createdAt,
                isSelf: try user.requireID() == me.id)
        }
        let model = UserIndex.Model(
            rows: rows, total: total, issued: issued, error: failure?.message,
            form: failure == nil ? .init() : form)
        return .page(
            UserIndex.View(context: req.pageContext(.users), model: model).render(), status: failure?.status ?? .ok)
    }

    @Sendable func index(req: Request) async throws -> Response {
        try await page(req)
    }

    struct CreateForm: Decodable {
        var username: String
        var role: String
    }

    @Sendable func create(req: Request) async throws -> Response {
        let form = try req.form(CreateForm.self)
        return try await page(req, form: .init(username: form.username, role: form.role)) {
            let creation = try await UserController.create(req) {
                guard let role = User.Role(rawValue: form.role) else {
                    throw AppError.invalidField("role", reason: "must be viewer, maintainer or admin")
                }
                return CreateUserRequest(username: form.username, password: nil, role: role)
            }
            return creation.generatedPassword.map {
                .init(username: creation.user.username, password: $0.value, reason: "Initial password")
            }
        }
    }

    struct RoleForm: Decodable {
        var role: String
    }

    @Sendable func setRole(req: Request) async throws -> Response {
        let form = try req.form(RoleForm.self)
        return try await page(req) {
            _ = try await UserController.update(req) {
                guard let role = User.Role(rawValue: form.role) else {
                    throw AppError.invalidField("role", reason: "must be viewer, maintainer or admin")
                }
                return UpdateUserRequest(role: role, disabled: nil)
            }
            return nil
        }
    }

    @Sendable func disable(req: Request) async throws -> Response {
        try await page(req) {
            _ = try await UserController.update(req) { UpdateUserRequest(role: nil, disabled: true) }
            return nil
        }
    }

    @Sendable func enable(req: Request) async throws -> Response {
        try await page(req) {
            _ = try await UserController.update(req) { UpdateUserRequest(role: nil, disabled: false) }
            return nil
        }
    }

    @Sendable func resetPassword(req: Request) async throws -> Response {
        try await page(req) {
            let reset = try await UserController.resetPassword(req)
            return .init(
                username: reset.user.username, password: reset.oneTimePassword.value, reason: "One-time password")
        }
    }

    @Sendable func delete(req: Request) async throws -> Response {
        try await page(req) {
            try await UserController.delete(req)
            return nil
        }
    }
}
