import Fluent
import Foundation
import PipewrightCore

/// A person or automation account. Persistence only (never `Content`).
///
/// `@unchecked Sendable`: Fluent models are reference types mutated through property wrappers; each
/// instance is confined to one request task (the Vapor template does the same).
final class User: Model, @unchecked Sendable {
    static let schema = "users"

    /// Account role (docs/API.md "Roles"): what the user may do is decided by `Permission` alone.
    ///
    /// Stored as the raw value; schema version 8 turned the former `member` into `maintainer`.
    enum Role: String, Codable, Sendable, CaseIterable, Comparable {
        /// Reads everything the team has (never secrets); changes nothing but their own password and tokens.
        case viewer
        /// A viewer who also creates, changes, deploys, triggers and opens pull requests.
        case maintainer
        /// A maintainer who also manages users, accepts host keys, exports private keys, rotates the
        /// master key and reads every audit entry.
        case admin

        /// `viewer < maintainer < admin`.
        private var rank: Int {
            switch self {
            case .viewer: 0
            case .maintainer: 1
            case .admin: 2
            }
        }

        static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    /// Set when the user was deleted: the row stays so audit entries and `created_by` keep a name.
    @OptionalField(key: "deleted_at") var deletedAt: Date?

    // data fields
    /// A disabled user cannot sign in; their sessions and tokens are refused.
    @Field(key: "disabled") var isDisabled: Bool
    /// Set by an admin's password reset: until the user chooses a new password they may only read their
    /// own account, change the password and sign out.
    @Field(key: "must_change_password") var mustChangePassword: Bool
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "role") var role: Role
    @Field(key: "username") var username: String

    init() {}

    init(username: String, passwordHash: String, role: Role) {
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.isDisabled = false
        self.mustChangePassword = false
    }

    var isAdmin: Bool { role == .admin }

    /// Neither disabled nor deleted: may sign in, and their sessions and tokens work.
    var isActive: Bool { !isDisabled && deletedAt == nil }
}
