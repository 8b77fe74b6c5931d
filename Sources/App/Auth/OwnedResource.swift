import Fluent
import PipewrightCore

/// A row of the installation's team: every signed-in user sees it, whoever created it; changing it
/// needs a `Permission` (403 `forbidden` when the role lacks it; an unknown id is a 404 first).
protocol OwnedResource: Model where IDValue == Int {
    /// The id of the user who created it (`created_by`; information only, it grants nothing).
    var ownerID: Int { get }
    /// The name used in the 404 message ("SSH key not found.").
    static var resourceName: String { get }
}

extension OwnedResource {
    /// The row `id` (every signed-in user sees every row).
    ///
    /// - Throws: `AppError.notFound` when it does not exist.
    static func find(_ id: Int, visibleTo user: AuthenticatedUser, on db: any Database) async throws -> Self {
        guard let found = try await Self.find(id, on: db) else { throw AppError.notFound(resourceName) }
        return found
    }

    /// The row `id`, for an action that needs `permission`.
    ///
    /// - Throws: `AppError.notFound` when it does not exist, then `AppError.forbidden` when `user`'s role
    ///   lacks `permission`.
    static func find(_ id: Int, for permission: Permission, by user: AuthenticatedUser, on db: any Database)
        async throws -> Self
    {
        let found = try await find(id, visibleTo: user, on: db)
        try user.require(permission)
        return found
    }

    /// One page of the rows `user` may see, in id order, and how many there are.
    static func page(visibleTo user: AuthenticatedUser, _ page: PipewrightCore.PageRequest, on db: any Database)
        async throws -> (items: [Self], total: Int)
    {
        let query = visible(to: user, on: db)
        let total = try await query.count()
        return (
            try await query.sort(FieldKey.id, .ascending).range(page.offset..<(page.offset + page.perPage)).all(), total
        )
    }

    /// All rows `user` may see (the team's), as a query to filter and page further.
    static func visible(to user: AuthenticatedUser, on db: any Database) -> QueryBuilder<Self> {
        Self.query(on: db)
    }
}

extension StoredKey: OwnedResource {
    var ownerID: Int { $owner.id }
    static var resourceName: String { "SSH key" }
}

extension Server: OwnedResource {
    var ownerID: Int { $owner.id }
    static var resourceName: String { "Server" }
}

extension Connection: OwnedResource {
    var ownerID: Int { $owner.id }
    static var resourceName: String { "Connection" }
}

extension Pipeline: OwnedResource {
    var ownerID: Int { $owner.id }
    static var resourceName: String { "Pipeline" }
}

extension Execution: OwnedResource {
    var ownerID: Int { $owner.id }
    static var resourceName: String { "Execution" }
}
