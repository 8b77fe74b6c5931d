import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `GET /api/audit` (docs/API.md "Audit log"): the audit log, newest first. Admins see every entry, maintainers and
/// viewers only the entries where they are the actor. There is deliberately no route that changes or deletes entries.
///
/// Query parameters (all optional, each validated, 400 `invalid_field` naming the field):
/// - `actor`: a username or a numeric user id;
/// - `action`: one of `AuditAction` (e.g. `ssh_key.deploy`);
/// - `resource`: `TYPE` or `TYPE:ID` (e.g. `ssh_key:7`);
/// - `outcome`: `success`, `failure` or `denied`;
/// - `from_date`, `to_date`: RFC 3339 timestamps or `YYYY-MM-DD` dates (inclusive; a date-only `to_date`
///   covers that whole day, UTC);
/// - `page`, `per_page`: pagination as on every list (docs/API.md "Lists").
struct AuditController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("audit", use: index)
    }

    @Sendable func index(req: Request) async throws -> PageResponse<AuditEntryResponse> {
        let page = try PageQuery.parse(req)
        let filter = try AuditFilter.parse(req)
        let (entries, total) = try await AuditQueries(db: req.db).list(filter, page: page, for: try req.requireUser())
        return PageResponse(items: try entries.map(AuditEntryResponse.init), request: page, total: total)
    }
}
