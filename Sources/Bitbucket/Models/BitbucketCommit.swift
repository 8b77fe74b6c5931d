/// A commit as embedded in branches and pull requests (`type: commit`).
public struct BitbucketCommit: Sendable, Equatable, Decodable {
    /// Full (40 hex) or, inside pull requests, abbreviated SHA-1.
    public var hash: String
    /// Commit message, when the payload includes it.
    public var message: String?
    /// Commit date as sent (ISO-8601, e.g. `2024-05-07T08:59:01+00:00`), when included.
    public var date: String?
    /// Parent hashes (empty when not included or for a root commit).
    public var parentHashes: [String]

    /// Creates a commit value.
    public init(hash: String, message: String? = nil, date: String? = nil, parentHashes: [String] = []) {
        self.hash = hash
        self.message = message
        self.date = date
        self.parentHashes = parentHashes
    }

    enum CodingKeys: String, CodingKey { case hash, message, date, parents }
    private struct Parent: Decodable { var hash: String }

    /// Decodes a `commit` object; only `hash` is required.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hash = try container.decode(String.self, forKey: .hash)
        message = try container.decodeIfPresent(String.self, forKey: .message)
        date = try container.decodeIfPresent(String.self, forKey: .date)
        parentHashes = try container.decodeIfPresent([Parent].self, forKey: .parents)?.map(\.hash) ?? []
    }
}
