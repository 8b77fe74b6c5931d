import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `/api/users` (docs/API.md "Users and roles"): admins list, create, edit (role, disabled), delete users
/// and reset their passwords; the use cases are in `UserService`. Every change is audited.
struct UserController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let users = routes.grouped("users")
        users.get(use: index)
        users.post(use: create)
        users.get(":userID", use: show)
        users.patch(":userID", use: update)
        users.delete(":userID", use: delete)
        users.post(":userID", "password-reset", use: resetPassword)
    }

    @Sendable func index(req: Request) async throws -> PageResponse<UserResponse> {
        let page = try PageQuery.parse(req)
        let (users, total) = try await req.userService.list(page: page, by: .user(try req.requireUser()))
        return PageResponse(items: try users.map(UserResponse.init), request: page, total: total)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let creation = try await Self.create(req, { try req.content.decode(CreateUserRequest.self) })
        return try Response.json(
            CreatedUserResponse(
                user: try UserResponse(creation.user), initialPassword: creation.generatedPassword?.value),
            status: .created)
    }

    /// Audited creation (`user.create`) through `UserService.create`; the API and the dashboard's `/users`
    /// form. A generated password is in the creation, shown once.
    static func create(_ req: Request, _ decode: () throws -> CreateUserRequest) async throws -> UserService.Creation {
        try await AuditLog.audited(req, .userCreate, resource: AuditResource(type: "user")) { note in
            let body = try decode()
            note.details["role"] = body.role.rawValue
            let creation = try await req.userService.create(
                username: body.username, password: body.password, role: body.role, by: .user(try req.requireUser()))
            note.resource?.id = creation.user.id
            note.details["username"] = creation.user.username
            note.details["password"] = creation.generatedPassword == nil ? "chosen" : "generated"
            return creation
        }
    }

    @Sendable func show(req: Request) async throws -> UserResponse {
        try UserResponse(
            try await req.userService.show(
                userID: try FieldRules.pathID(req, "userID"), by: .user(try req.requireUser())))
    }

    @Sendable func update(req: Request) async throws -> UserResponse {
        try UserResponse(try await Self.update(req, { try req.content.decode(UpdateUserRequest.self) }))
    }

    /// Audited edit (`user.update`: role, disabled) of user `:userID`; the API and the dashboard.
    static func update(_ req: Request, _ decode: () throws -> UpdateUserRequest) async throws -> User {
        let resource = AuditResource(type: "user", id: req.parameters.get("userID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .userUpdate, resource: resource) { note in
            let userID = try FieldRules.pathID(req, "userID")
            let body = try decode()
            if let role = body.role { note.details["role"] = role.rawValue }
            if let disabled = body.disabled { note.details["disabled"] = String(disabled) }
            return try await req.userService.update(
                userID: userID, role: body.role, disabled: body.disabled, by: .user(try req.requireUser()))
        }
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        try await Self.delete(req)
        return .noContent
    }

    /// Audited deletion (`user.delete`) of user `:userID`; the API and the dashboard.
    static func delete(_ req: Request) async throws {
        let resource = AuditResource(type: "user", id: req.parameters.get("userID").flatMap { Int($0) })
        try await AuditLog.audited(req, .userDelete, resource: resource) { _ in
            try await req.userService.delete(
                userID: try FieldRules.pathID(req, "userID"), by: .user(try req.requireUser()))
        }
    }

    /// The response carries the one-time password: `Cache-Control: no-store`.
    @Sendable func resetPassword(req: Request) async throws -> Response {
        let reset = try await Self.resetPassword(req)
        let response = try Response.json(
            PasswordResetResponse(
                user: try UserResponse(reset.user), oneTimePassword: reset.oneTimePassword.value,
                sessionsEnded: reset.sessionsEnded),
            status: .ok)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// Audited password reset (`user.password_reset`) of user `:userID`; the API and the dashboard.
    static func resetPassword(_ req: Request) async throws -> UserService.PasswordReset {
        let resource = AuditResource(type: "user", id: req.parameters.get("userID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .userPasswordReset, resource: resource) { note in
            let reset = try await req.userService.resetPassword(
                userID: try FieldRules.pathID(req, "userID"), by: .user(try req.requireUser()))
            note.details["sessions_ended"] = String(reset.sessionsEnded)
            return reset
        }
    }
}
