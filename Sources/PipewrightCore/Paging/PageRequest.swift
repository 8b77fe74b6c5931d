/// A validated page request: `page` ≥ 1 and `perPage` in `1...PageRequest.maximumPerPage`.
///
/// `per_page` above the maximum is clamped to it (documented in `docs/API.md`), while `page` < 1,
/// `per_page` < 1 and non-numbers are rejected by the adapter with 400.
public struct PageRequest: Sendable, Equatable {
    /// Largest page size served (docs/API.md "Lists").
    public static let maximumPerPage = 100
    /// Largest page number accepted (keeps `offset` far from integer overflow).
    public static let maximumPage = 1_000_000
    /// Page size when the client sends none.
    public static let defaultPerPage = 20

    /// 1-based page number.
    public let page: Int
    /// Items per page, `1...100`.
    public let perPage: Int

    /// Validates and clamps.
    ///
    /// - Parameters:
    ///   - page: 1-based page number, `nil` for 1.
    ///   - perPage: page size, `nil` for 20; above 100 becomes 100.
    /// - Throws: `PageRequest.Invalid` naming the field when `page` is outside `1...1_000_000` or `perPage` < 1.
    public init(page: Int?, perPage: Int?) throws(Invalid) {
        let page = page ?? 1
        let perPage = perPage ?? Self.defaultPerPage
        guard page >= 1 else { throw Invalid(field: "page", reason: "must be 1 or more") }
        guard page <= Self.maximumPage else {
            throw Invalid(field: "page", reason: "must be at most \(Self.maximumPage)")
        }
        guard perPage >= 1 else { throw Invalid(field: "per_page", reason: "must be 1 or more") }
        self.page = page
        self.perPage = min(perPage, Self.maximumPerPage)
    }

    /// Number of items before this page.
    public var offset: Int { (page - 1) * perPage }

    /// Number of pages needed for `total` items (0 when there are none).
    public func pageCount(total: Int) -> Int { total == 0 ? 0 : (total + perPage - 1) / perPage }

    /// A rejected page parameter.
    public struct Invalid: Error, Sendable, Equatable {
        /// `page` or `per_page`.
        public let field: String
        /// Why, as a sentence fragment.
        public let reason: String
    }
}
