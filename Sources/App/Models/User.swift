import Fluent
import Foundation
import PipewrightCore

/// A person or automation account. Persistence only (never `Content`).
///
/// `@unchecked Sendable`: Fluent models are reference types mutated through property wrappers; each
/// instance is confined to one request task (the Vapor template does the same).
final class User: Model, @unchecked Sendable {
    static let schema = "users"

    /// Account role: admins see and act on every resource, members on their own.
    enum Role: String, Codable, Sendable {
        case admin, member
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    // data fields
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "role") var role: Role
    @Field(key: "username") var username: String

    init() {}

    init(username: String, passwordHash: String, role: Role) {
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
    }

    var isAdmin: Bool { role == .admin }
}
