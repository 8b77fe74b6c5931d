/// One pipeline run, from `POST`/`GET …/pipelines/` and `GET …/pipelines/{uuid}` (Bitbucket REST docs below).
///
/// Only `uuid` is required; everything else decodes tolerantly. `links` in real payloads have been seen
/// pointing at an internal Atlassian host, with unencoded braces, and are ignored — build URLs with
/// ``LiveBitbucketClient`` instead.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-get
public struct BitbucketPipeline: Sendable, Equatable, Decodable {
    /// Braced UUID, e.g. `{7b1c1c43-2a5c-4d0b-9a57-4fb2f1c1a0d1}` (pass it back as is).
    public var uuid: String
    /// Repository-wide increasing number (`BITBUCKET_BUILD_NUMBER`); `0` when absent.
    public var buildNumber: Int
    /// Current state.
    public var state: BitbucketPipelineState
    /// `target.ref_name` (branch or tag name), when the target has a ref.
    public var refName: String?
    /// `target.ref_type` (`branch`, `tag`, `named_branch`, `bookmark`), when present.
    public var refType: String?
    /// `target.commit.hash`, when reported.
    public var commit: String?
    /// `target.commit.message`: only in answers to a request with `fields=+target.commit.message` (a partial
    /// response, reference §2 "Pipelines").
    public var commitMessage: String?
    /// `target.selector.type` (`branches`, `custom`, `default`, …), when present.
    public var selectorType: String?
    /// `target.selector.pattern` (the custom pipeline name for `custom`), when present.
    public var selectorPattern: String?
    /// `trigger.name` (`MANUAL`, `PUSH`, `SCHEDULED`, `PARENT_STEP`), when present.
    public var triggerName: String?
    /// `created_on` as sent (ISO-8601).
    public var createdOn: String?
    /// `completed_on` as sent, once completed.
    public var completedOn: String?
    /// `duration_in_seconds`, when reported.
    public var durationInSeconds: Int?
    /// `state.result.error.message` for `COMPLETED/ERROR` (e.g. a `bitbucket-pipelines.yml` error).
    public var errorMessage: String?
    /// `repository.full_name` (`workspace/slug`), when embedded.
    public var repositoryFullName: String?

    /// `target.ref_name` when the ref is a branch (`ref_type` `branch`/`named_branch` or absent).
    public var branch: String? {
        guard let refName else { return nil }
        switch refType?.lowercased() {
        case nil, "branch", "named_branch", "bookmark": return refName
        default: return nil
        }
    }

    /// Creates a pipeline value (tests and fakes of higher layers).
    public init(
        uuid: String, buildNumber: Int, state: BitbucketPipelineState, refName: String? = nil,
        refType: String? = "branch", commit: String? = nil, commitMessage: String? = nil, selectorType: String? = nil,
        selectorPattern: String? = nil, triggerName: String? = nil, createdOn: String? = nil,
        completedOn: String? = nil, durationInSeconds: Int? = nil, errorMessage: String? = nil,
        repositoryFullName: String? = nil
    ) {
        self.uuid = uuid
        self.buildNumber = buildNumber
        self.state = state
        self.refName = refName
        self.refType = refType
        self.commit = commit
        self.commitMessage = commitMessage
        self.selectorType = selectorType
        self.selectorPattern = selectorPattern
        self.triggerName = triggerName
        self.createdOn = createdOn
        self.completedOn = completedOn
        self.durationInSeconds = durationInSeconds
        self.errorMessage = errorMessage
        self.repositoryFullName = repositoryFullName
    }

    /// The web page of a run for humans:
    /// `https://bitbucket.org/{workspace}/{slug}/pipelines/results/{buildNumber}`.
    public static func resultsURL(workspace: String, slug: String, buildNumber: Int) -> String {
        "https://bitbucket.org/" + BitbucketURLEncoding.encode(workspace) + "/" + BitbucketURLEncoding.encode(slug)
            + "/pipelines/results/\(buildNumber)"
    }

    enum CodingKeys: String, CodingKey {
        case uuid, state, target, trigger, repository
        case buildNumber = "build_number"
        case createdOn = "created_on"
        case completedOn = "completed_on"
        case durationInSeconds = "duration_in_seconds"
    }
    private struct Target: Decodable {
        struct Commit: Decodable {
            var hash: String?
            var message: String?
        }
        struct Selector: Decodable {
            var type: String?
            var pattern: String?
        }
        var refName: String?
        var refType: String?
        var commit: Commit?
        var selector: Selector?
        enum CodingKeys: String, CodingKey {
            case commit, selector
            case refName = "ref_name"
            case refType = "ref_type"
        }
    }
    private struct Named: Decodable { var name: String? }
    private struct Repository: Decodable {
        var fullName: String?
        enum CodingKeys: String, CodingKey { case fullName = "full_name" }
    }
    private struct ErrorState: Decodable {
        struct Result: Decodable {
            struct Failure: Decodable { var message: String? }
            var error: Failure?
        }
        var result: Result?
    }

    /// Decodes a pipeline object; only `uuid` is required (a missing `state` reads as `.unknown("")`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(String.self, forKey: .uuid)
        buildNumber = (try? container.decodeIfPresent(Int.self, forKey: .buildNumber)) ?? 0
        state = (try? container.decodeIfPresent(BitbucketPipelineState.self, forKey: .state)) ?? .unknown("")
        let target = (try? container.decodeIfPresent(Target.self, forKey: .target)) ?? nil
        refName = target?.refName
        refType = target?.refType
        commit = target?.commit?.hash
        commitMessage = target?.commit?.message
        selectorType = target?.selector?.type
        selectorPattern = target?.selector?.pattern
        triggerName = ((try? container.decodeIfPresent(Named.self, forKey: .trigger)) ?? nil)?.name
        createdOn = (try? container.decodeIfPresent(String.self, forKey: .createdOn)) ?? nil
        completedOn = (try? container.decodeIfPresent(String.self, forKey: .completedOn)) ?? nil
        durationInSeconds = (try? container.decodeIfPresent(Int.self, forKey: .durationInSeconds)) ?? nil
        errorMessage =
            ((try? container.decodeIfPresent(ErrorState.self, forKey: .state)) ?? nil)?.result?.error?.message
        repositoryFullName = ((try? container.decodeIfPresent(Repository.self, forKey: .repository)) ?? nil)?.fullName
    }
}
