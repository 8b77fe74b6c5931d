/// One step of a pipeline run, from `GET …/pipelines/{uuid}/steps/` (Bitbucket REST docs below).
///
/// Only `uuid` is required: steps that have not started carry no `started_on`/`completed_on`, and
/// steps without a `name:` in the yml carry no `name`.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-steps-get
public struct BitbucketPipelineStep: Sendable, Equatable, Decodable {
    /// Braced UUID (pass it back as is to ``BitbucketAPI/stepLog(workspace:slug:pipelineUUID:stepUUID:fromByte:)``).
    public var uuid: String
    /// The step's `name:` from `bitbucket-pipelines.yml`, when it has one.
    public var name: String?
    /// Current state.
    public var state: BitbucketPipelineStepState
    /// `started_on` as sent (ISO-8601), once started.
    public var startedOn: String?
    /// `completed_on` as sent, once completed.
    public var completedOn: String?
    /// `duration_in_seconds`, when reported.
    public var durationInSeconds: Int?

    /// Creates a step value (tests and fakes of higher layers).
    public init(
        uuid: String, name: String? = nil, state: BitbucketPipelineStepState, startedOn: String? = nil,
        completedOn: String? = nil, durationInSeconds: Int? = nil
    ) {
        self.uuid = uuid
        self.name = name
        self.state = state
        self.startedOn = startedOn
        self.completedOn = completedOn
        self.durationInSeconds = durationInSeconds
    }

    enum CodingKeys: String, CodingKey {
        case uuid, name, state
        case startedOn = "started_on"
        case completedOn = "completed_on"
        case durationInSeconds = "duration_in_seconds"
    }

    /// Decodes a `pipeline_step` object tolerantly (a missing `state` reads as `.unknown("")`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        uuid = try container.decode(String.self, forKey: .uuid)
        name = (try? container.decodeIfPresent(String.self, forKey: .name)) ?? nil
        state = (try? container.decodeIfPresent(BitbucketPipelineStepState.self, forKey: .state)) ?? .unknown("")
        startedOn = (try? container.decodeIfPresent(String.self, forKey: .startedOn)) ?? nil
        completedOn = (try? container.decodeIfPresent(String.self, forKey: .completedOn)) ?? nil
        durationInSeconds = (try? container.decodeIfPresent(Int.self, forKey: .durationInSeconds)) ?? nil
    }
}
