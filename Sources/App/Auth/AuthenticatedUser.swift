import Fluent
import Foundation
import PipewrightCore
import Vapor

/// Who made the request, and how they proved it.
struct AuthenticatedUser: Sendable {
    /// How the request was authenticated.
    enum Method: Sendable, Equatable {
        case bearerToken(id: Int)
        case session(id: Int, csrfToken: String)
    }

    var id: Int
    var username: String
    var role: User.Role
    var method: Method
    /// An admin reset the password: until it is changed only `GET /api/auth/me`, `POST /api/auth/password`
    /// and `POST /api/auth/logout` are allowed (403 `password_change_required` elsewhere).
    var mustChangePassword = false

    var isAdmin: Bool { role == .admin }
}

extension Request {
    private struct AuthenticatedUserKey: StorageKey {
        typealias Value = AuthenticatedUser
    }

    /// The authenticated user, set by `AuthenticationMiddleware`.
    var authenticatedUser: AuthenticatedUser? {
        get { storage[AuthenticatedUserKey.self] }
        set { storage[AuthenticatedUserKey.self] = newValue }
    }

    /// The authenticated user, or 401.
    func requireUser() throws -> AuthenticatedUser {
        guard let user = authenticatedUser else { throw AppError.unauthenticated }
        return user
    }
}
