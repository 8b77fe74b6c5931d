import Fluent
import Foundation
import PipewrightCore

/// Reading the append-only audit log, newest first. Admins (`Permission.readAllAuditEntries`) see every
/// entry; maintainers and viewers only the entries where they are the actor. There is deliberately no way to change or delete entries.
struct AuditQueries: Sendable {
    let db: any Database

    func list(_ filter: AuditFilter, page: PipewrightCore.PageRequest, for user: AuthenticatedUser) async throws
        -> (items: [AuditEntry], total: Int)
    {
        let query = AuditEntry.query(on: db)
        if !user.may(.readAllAuditEntries) { query.filter(\.$actorID == user.id) }
        switch filter.actor {
        case .id(let id): query.filter(\.$actorID == id)
        case .username(let name): query.filter(\.$actorUsername == name)
        case nil: break
        }
        if let action = filter.action { query.filter(\.$action == action.rawValue) }
        if let type = filter.resourceType { query.filter(\.$resourceType == type) }
        if let id = filter.resourceID { query.filter(\.$resourceID == id) }
        if let outcome = filter.outcome { query.filter(\.$outcome == outcome) }
        if let from = filter.from { query.filter(\.$at >= from) }
        if let to = filter.to { query.filter(\.$at <= to) }
        let total = try await query.count()
        let entries = try await query.sort(\.$at, .descending).sort(\.$id, .descending)
            .range(page.offset..<(page.offset + page.perPage)).all()
        return (entries, total)
    }
}
