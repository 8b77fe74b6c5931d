/// A pull request, from `…/pullrequests` and `…/pullrequests/{id}`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/#api-repositories-workspace-repo-slug-pullrequests-pull-request-id-get
public struct BitbucketPullRequest: Sendable, Equatable, Decodable {
    /// Pull-request state (`OPEN`, `MERGED`, `DECLINED`, `SUPERSEDED`; anything else is kept raw).
    public enum State: Sendable, Equatable, Hashable {
        /// `OPEN`.
        case open
        /// `MERGED`.
        case merged
        /// `DECLINED`.
        case declined
        /// `SUPERSEDED`.
        case superseded
        /// A value this client does not know.
        case unknown(String)

        /// Parses the API's upper-case value.
        public init(rawValue: String) {
            switch rawValue.uppercased() {
            case "OPEN": self = .open
            case "MERGED": self = .merged
            case "DECLINED": self = .declined
            case "SUPERSEDED": self = .superseded
            default: self = .unknown(rawValue)
            }
        }

        /// The API's upper-case value.
        public var rawValue: String {
            switch self {
            case .open: "OPEN"
            case .merged: "MERGED"
            case .declined: "DECLINED"
            case .superseded: "SUPERSEDED"
            case .unknown(let raw): raw
            }
        }
    }

    /// Repository-local number.
    public var id: Int
    /// Title.
    public var title: String
    /// Description (Markdown), empty when none.
    public var description: String
    /// State.
    public var state: State
    /// Source branch name.
    public var sourceBranch: String
    /// Destination branch name.
    public var destinationBranch: String
    /// Source commit (abbreviated hash), when reported.
    public var sourceCommit: String?
    /// Whether the source branch is deleted on merge.
    public var closeSourceBranch: Bool
    /// Web page for humans (`https://bitbucket.org/{ws}/{repo}/pull-requests/{id}`), when reported.
    public var htmlURL: String?

    /// Creates a pull-request value.
    public init(
        id: Int, title: String, description: String = "", state: State = .open, sourceBranch: String,
        destinationBranch: String, sourceCommit: String? = nil, closeSourceBranch: Bool = false,
        htmlURL: String? = nil
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.state = state
        self.sourceBranch = sourceBranch
        self.destinationBranch = destinationBranch
        self.sourceCommit = sourceCommit
        self.closeSourceBranch = closeSourceBranch
        self.htmlURL = htmlURL
    }

    enum CodingKeys: String, CodingKey {
        case id, title, description, state, source, destination, links
        case closeSourceBranch = "close_source_branch"
    }
    private struct Endpoint: Decodable {
        struct Branch: Decodable { var name: String }
        struct Commit: Decodable { var hash: String }
        var branch: Branch
        var commit: Commit?
    }
    private struct Links: Decodable {
        struct Href: Decodable { var href: String }
        var html: Href?
    }

    /// Decodes the JSON object; optional fields default (`description` "", `state` OPEN).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        title = try container.decodeIfPresent(String.self, forKey: .title) ?? ""
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        state = State(rawValue: try container.decodeIfPresent(String.self, forKey: .state) ?? "OPEN")
        let source = try container.decode(Endpoint.self, forKey: .source)
        sourceBranch = source.branch.name
        sourceCommit = source.commit?.hash
        destinationBranch = try container.decode(Endpoint.self, forKey: .destination).branch.name
        closeSourceBranch = try container.decodeIfPresent(Bool.self, forKey: .closeSourceBranch) ?? false
        htmlURL = (try? container.decodeIfPresent(Links.self, forKey: .links))?.html?.href
    }
}
