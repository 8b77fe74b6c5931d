/// The pagination envelope `{"page", "pagelen", "size", "values", "next", "previous"}`
/// (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination).
///
/// `next` is followed verbatim; when it is missing but `page`, `pagelen` and `size` show more items,
/// the client asks for `page + 1` itself (the pipelines list has long omitted `next` even when more
/// pages exist).
struct BitbucketPage<Value: Decodable>: Decodable {
    var values: [Value]
    var next: String?
    var page: Int?
    var pagelen: Int?
    var size: Int?

    enum CodingKeys: String, CodingKey { case values, next, page, pagelen, size }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        values = try container.decodeIfPresent([Value].self, forKey: .values) ?? []
        next = try container.decodeIfPresent(String.self, forKey: .next)
        page = try container.decodeIfPresent(Int.self, forKey: .page)
        pagelen = try container.decodeIfPresent(Int.self, forKey: .pagelen)
        size = try container.decodeIfPresent(Int.self, forKey: .size)
    }
}
