/// What to run when triggering a pipeline: the `target` of `POST …/pipelines/` (Bitbucket REST docs below).
///
/// Build it with the factories: ``branch(_:)`` (the pipeline the yml defines for that branch, at its
/// head), ``commit(_:onBranch:)`` (that commit, in the context of the branch), ``custom(_:onBranch:commit:)``
/// (a `custom:` pipeline by name), ``custom(_:commit:)`` (a custom pipeline on a bare commit) and
/// ``tag(_:commit:)`` (tags always need the commit: a tag has no head to run, and a tag target without
/// `commit` has been answered with a 500).
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-post
public struct BitbucketPipelineTarget: Sendable, Equatable, Encodable {
    /// `ref_type` values.
    public enum RefType: String, Sendable, Equatable, Encodable {
        /// A git branch.
        case branch
        /// A git tag (requires a commit).
        case tag
        /// A Mercurial-era named branch.
        case namedBranch = "named_branch"
        /// A Mercurial-era bookmark.
        case bookmark
    }

    /// Branch or tag, or `nil` for a bare-commit target (`pipeline_commit_target`).
    public var refType: RefType?
    /// Branch or tag name, or `nil` for a bare-commit target.
    public var refName: String?
    /// Full commit hash, or `nil` for the ref's head.
    public var commit: String?
    /// `custom:` pipeline name (`selector: {"type": "custom", "pattern": …}`), or `nil` for the
    /// pipeline the yml selects for the ref.
    public var customPattern: String?

    /// Creates a target from its parts; prefer the factories.
    public init(refType: RefType?, refName: String?, commit: String? = nil, customPattern: String? = nil) {
        self.refType = refType
        self.refName = refName
        self.commit = commit
        self.customPattern = customPattern
    }

    /// The branch's pipeline at the branch head.
    public static func branch(_ name: String) -> BitbucketPipelineTarget {
        BitbucketPipelineTarget(refType: .branch, refName: name)
    }

    /// The branch's pipeline for `hash`, in the context of `branch`.
    public static func commit(_ hash: String, onBranch branch: String) -> BitbucketPipelineTarget {
        BitbucketPipelineTarget(refType: .branch, refName: branch, commit: hash)
    }

    /// The custom pipeline `pattern` on `branch` (at `commit`, or the branch head when `nil`).
    public static func custom(_ pattern: String, onBranch branch: String, commit: String? = nil)
        -> BitbucketPipelineTarget
    {
        BitbucketPipelineTarget(refType: .branch, refName: branch, commit: commit, customPattern: pattern)
    }

    /// The custom pipeline `pattern` on a bare commit (`pipeline_commit_target`).
    public static func custom(_ pattern: String, commit: String) -> BitbucketPipelineTarget {
        BitbucketPipelineTarget(refType: nil, refName: nil, commit: commit, customPattern: pattern)
    }

    /// The tag's pipeline for `commit` (the commit is mandatory for tags).
    public static func tag(_ name: String, commit: String) -> BitbucketPipelineTarget {
        BitbucketPipelineTarget(refType: .tag, refName: name, commit: commit)
    }

    enum CodingKeys: String, CodingKey {
        case type, commit, selector
        case refType = "ref_type"
        case refName = "ref_name"
    }
    private struct Commit: Encodable {
        var type = "commit"
        var hash: String
    }
    private struct Selector: Encodable {
        var type = "custom"
        var pattern: String
    }

    /// Encodes the API shape: `pipeline_ref_target` when a ref is set, else `pipeline_commit_target`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let refType, let refName {
            try container.encode("pipeline_ref_target", forKey: .type)
            try container.encode(refType, forKey: .refType)
            try container.encode(refName, forKey: .refName)
        } else {
            try container.encode("pipeline_commit_target", forKey: .type)
        }
        if let commit { try container.encode(Commit(hash: commit), forKey: .commit) }
        if let customPattern { try container.encode(Selector(pattern: customPattern), forKey: .selector) }
    }
}
