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

    var isAdmin: Bool { role == .admin }

    /// Whether this user may read or change a resource owned by `ownerID` (admins: everything).
    func owns(_ ownerID: Int) -> Bool { isAdmin || ownerID == id }
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

    /// The authenticated admin, or 403.
    func requireAdmin() throws -> AuthenticatedUser {
        let user = try requireUser()
        guard user.isAdmin else { throw AppError.forbidden("This action needs an admin account.") }
        return user
    }
}
