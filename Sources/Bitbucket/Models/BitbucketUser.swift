/// The authenticated account, from `GET /user`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-users/#api-user-get
/// For an access token this is the token's own bot "user".
public struct BitbucketUser: Sendable, Equatable, Decodable {
    /// Account UUID with braces, e.g. `{d301aafa-d676-4ee0-88be-962be7417567}`.
    public var uuid: String
    /// Display name.
    public var displayName: String
    /// Nickname (public handle), when present.
    public var nickname: String?
    /// Atlassian account id (`557058:…`), when present.
    public var accountID: String?

    /// Creates a user value.
    public init(uuid: String, displayName: String, nickname: String? = nil, accountID: String? = nil) {
        self.uuid = uuid
        self.displayName = displayName
        self.nickname = nickname
        self.accountID = accountID
    }

    enum CodingKeys: String, CodingKey {
        case uuid
        case displayName = "display_name"
        case nickname
        case accountID = "account_id"
    }

    /// Decodes a Bitbucket `user`/`account` object; `display_name` falls back to `nickname`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(String.self, forKey: .uuid)
        nickname = try container.decodeIfPresent(String.self, forKey: .nickname)
        accountID = try container.decodeIfPresent(String.self, forKey: .accountID)
        displayName = try container.decodeIfPresent(String.self, forKey: .displayName) ?? nickname ?? uuid
    }
}
