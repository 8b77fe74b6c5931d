/// The answer to one incremental read of a step log
/// (``BitbucketAPI/stepLog(workspace:slug:pipelineUUID:stepUUID:fromByte:)``, Bitbucket REST docs below).
///
/// The intended loop: start at offset 0; on ``bytes(_:nextOffset:)`` hand the bytes on and continue
/// from `nextOffset`; on ``notYetAvailable`` or ``rangeNotSatisfiable`` poll again later (while the
/// step is not completed); on ``complete`` stop reading this step.
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-pipeline-uuid-steps-step-uuid-log-get
public enum BitbucketLogChunk: Sendable, Equatable {
    /// New bytes starting at the requested offset; the next read starts at `nextOffset`
    /// (= requested offset + `bytes.count`).
    case bytes([UInt8], nextOffset: Int64)
    /// `404`: the step has no log yet (not started, or never run), or it does not exist.
    case notYetAvailable
    /// `416` (or `304`, or a `200`/`206` with nothing beyond the offset): no new bytes yet.
    case rangeNotSatisfiable
    /// The log was served from long-term storage after a `307` (the step is finished) and holds
    /// nothing beyond the offset: everything has been read.
    case complete
}
