import Fluent
import PipewrightCore

/// A row that belongs to one user: members see their own, admins every row; anything else is a 404
/// (never a 403, so ids of other users' resources are not confirmed).
protocol OwnedResource: Model where IDValue == Int {
    /// The owning user's id.
    var ownerID: Int { get }
    /// The name used in the 404 message ("SSH key not found.").
    static var resourceName: String { get }
}

extension OwnedResource {
    /// The row `id` if `user` may see it.
    ///
    /// - Throws: `AppError.notFound` when it does not exist or belongs to another user.
    static func find(_ id: Int, visibleTo user: AuthenticatedUser, on db: any Database) async throws -> Self {
        guard let found = try await Self.find(id, on: db), user.owns(found.ownerID) else {
            throw AppError.notFound(resourceName)
        }
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

    /// All rows `user` may see, as a query to filter and page further.
    static func visible(to user: AuthenticatedUser, on db: any Database) -> QueryBuilder<Self> {
        let query = Self.query(on: db)
        if !user.isAdmin { query.filter(FieldKey("owner_id"), .equal, user.id) }
        return query
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
