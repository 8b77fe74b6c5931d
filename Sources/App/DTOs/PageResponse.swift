import Fluent
import Foundation
import PipewrightCore
import Vapor

/// SPEC §2 list envelope: `{"items": […], "pagination": {"page", "per_page", "total", "pages"}}`.
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
        pagination = Pagination(page: request.page, perPage: request.perPage, total: total, pages: request.pageCount(total: total))
    }
}

/// `?page=&per_page=` as sent; parsed strictly so `page=abc` is a 400, not a silent default.
struct PageQuery {
    /// Reads and validates `page` / `per_page` from the query string.
    ///
    /// - Throws: `AppError.invalidField` for non-numbers, `page` < 1 or `per_page` < 1.
    static func parse(_ req: Request) throws -> PipewrightCore.PageRequest {
        func integer(_ name: String) throws -> Int? {
            guard let raw = try Validation.queryText(req, name) else { return nil }
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else {
                throw AppError.invalidField(name, reason: "must be a whole number")
            }
            return value
        }
        do {
            return try PipewrightCore.PageRequest(page: try integer("page"), perPage: try integer("per_page"))
        } catch let error as PipewrightCore.PageRequest.Invalid {
            throw AppError.invalidField(error.field, reason: error.reason)
        }
    }
}
