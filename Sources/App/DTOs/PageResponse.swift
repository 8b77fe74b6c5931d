import Fluent
import Foundation
import PipewrightCore
import Vapor

/// The list envelope (docs/API.md "Lists"): `{"items": […], "pagination": {"page", "per_page", "total", "pages"}}`.
struct PageResponse<Item: Content>: Content {
    struct Pagination: Content {
        var page: Int
        var perPage: Int
        var total: Int
        var pages: Int
    }

    var items: [Item]
    var pagination: Pagination

    init(items: [Item], request: PipewrightCore.PageRequest, total: Int) {
        self.items = items
        pagination = Pagination(
            page: request.page, perPage: request.perPage, total: total, pages: request.pageCount(total: total))
    }
}

/// `?page=&per_page=` of list endpoints (see `PageParameters`).
enum PageQuery {
    /// Reads and validates `page` / `per_page` from the query string.
    ///
    /// - Throws: `AppError.invalidField` for non-numbers, `page` < 1 or `per_page` < 1.
    static func parse(_ req: Request) throws -> PipewrightCore.PageRequest {
        try req.decodeQuery(PageParameters.self).request()
    }
}
