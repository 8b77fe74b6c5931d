import Foundation
import Logging
import PipewrightCore

extension LiveBitbucketClient {
    /// `Accept` for step logs: JSON-only gets `406`; Bitbucket's API reference says octet-stream, some
    /// answers are `text/plain`.
    static let logAccept = "application/octet-stream, text/plain;q=0.9, */*;q=0.8"
    /// Statuses after which a step-log read follows `Location` (to long-term storage).
    static let logRedirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// `POST …/pipelines/` with `{"target", "variables"?}`, never retried. See
    /// ``BitbucketAPI/triggerPipeline(workspace:slug:target:variables:)``.
    public func triggerPipeline(
        workspace: String, slug: String, target: BitbucketPipelineTarget, variables: [BitbucketPipelineVariable]
    ) async throws(BitbucketError) -> BitbucketPipeline {
        struct Body: Encodable {
            var target: BitbucketPipelineTarget
            var variables: [BitbucketPipelineVariable]?
        }
        let body = try encode(Body(target: target, variables: variables.isEmpty ? nil : variables))
        let response = try await perform(
            method: "POST", url: url(repositoryPath(workspace, slug, "pipelines"), trailingSlash: true), body: body,
            contentType: "application/json", idempotent: false)
        return try decode(BitbucketPipeline.self, from: response)
    }

    /// `GET …/pipelines/?sort=…&target.branch=…&target.commit.hash=…&pagelen=…`, paging by number. See
    /// ``BitbucketAPI/pipelines(workspace:slug:branch:commit:sort:pagelen:maxPages:)``.
    public func pipelines(
        workspace: String, slug: String, branch: String?, commit: String?, sort: String, pagelen: Int, maxPages: Int
    ) async throws(BitbucketError) -> [BitbucketPipeline] {
        var query: [(String, String)] = []
        if !sort.isEmpty { query.append(("sort", sort)) }
        if let branch { query.append(("target.branch", branch)) }
        if let commit { query.append(("target.commit.hash", commit)) }
        return try await collectPages(
            repositoryPath(workspace, slug, "pipelines"), trailingSlash: true, query: query,
            pagelen: min(max(pagelen, 1), 100), pageLimit: max(maxPages, 1),
            key: { (pipeline: BitbucketPipeline) in pipeline.uuid })
    }

    /// `GET …/pipelines/{uuid}?fields=%2Btarget.commit.message` with the braces percent-encoded: the
    /// partial-response `fields` parameter adds the commit message to the usual fields (reference §2
    /// "Pipelines"; `+` encoded, since a bare `+` in a query reads as a space). See
    /// ``BitbucketAPI/pipeline(workspace:slug:uuid:)``.
    public func pipeline(workspace: String, slug: String, uuid: String) async throws(BitbucketError)
        -> BitbucketPipeline
    {
        let address = url(
            repositoryPath(workspace, slug, "pipelines", uuid), query: [("fields", "+target.commit.message")])
        let response = try await perform(method: "GET", url: address)
        return try decode(BitbucketPipeline.self, from: response)
    }

    /// `POST …/pipelines/{uuid}/stopPipeline` with no body, never retried. See
    /// ``BitbucketAPI/stopPipeline(workspace:slug:uuid:)``.
    public func stopPipeline(workspace: String, slug: String, uuid: String) async throws(BitbucketError) {
        _ = try await perform(
            method: "POST", url: url(repositoryPath(workspace, slug, "pipelines", uuid, "stopPipeline")),
            idempotent: false)
    }

    /// `GET …/pipelines/{uuid}/steps/?pagelen=100`, all pages. See
    /// ``BitbucketAPI/steps(workspace:slug:pipelineUUID:)``.
    public func steps(workspace: String, slug: String, pipelineUUID: String) async throws(BitbucketError)
        -> [BitbucketPipelineStep]
    {
        try await collectPages(
            repositoryPath(workspace, slug, "pipelines", pipelineUUID, "steps"), trailingSlash: true, query: [],
            pagelen: 100, key: { (step: BitbucketPipelineStep) in step.uuid })
    }

    /// `GET …/steps/{step}/log` with `Range: bytes=N-`, following a storage redirect without
    /// `Authorization`. See ``BitbucketAPI/stepLog(workspace:slug:pipelineUUID:stepUUID:fromByte:)``.
    public func stepLog(workspace: String, slug: String, pipelineUUID: String, stepUUID: String, fromByte: Int64)
        async throws(BitbucketError) -> BitbucketLogChunk
    {
        let offset = max(0, fromByte)
        let logURL = url(repositoryPath(workspace, slug, "pipelines", pipelineUUID, "steps", stepUUID, "log"))
        let range: BitbucketHTTPHeaders = ["Range": "bytes=\(offset)-"]
        let logger = self.logger
        return try await retry(
            policy: retryPolicy, clock: clock,
            classify: { (error: BitbucketError) in error.isRetryable ? .retry(retryAfter: error.retryAfter) : .stop },
            onRetry: { attempt, error, delay in
                logger.debug(
                    "bitbucket retry",
                    metadata: [
                        "method": "GET", "attempt": .stringConvertible(attempt), "error": .string(error.code),
                        "delay_ms": .stringConvertible(Int64(delay.milliseconds)),
                    ])
            },
            operation: { (_: Int) async throws(BitbucketError) -> BitbucketLogChunk in
                var response = try await exchange(
                    method: "GET", url: logURL, body: nil, contentType: nil, accept: Self.logAccept,
                    followRedirects: false, headers: range)
                var fromStorage = false
                if Self.logRedirectStatuses.contains(response.status), let location = response.headers["Location"],
                    !location.isEmpty
                {
                    // Completed steps' logs redirect to long-term storage on another origin:
                    // `exchange` sends no `Authorization` there.
                    fromStorage = true
                    response = try await exchange(
                        method: "GET", url: resolve(location, against: logURL), body: nil, contentType: nil,
                        accept: Self.logAccept, followRedirects: true, headers: range)
                }
                return try logChunk(from: response, offset: offset, fromStorage: fromStorage)
            })
    }

    /// Interprets one step-log response for a read from `offset`.
    func logChunk(from response: BitbucketHTTPResponse, offset: Int64, fromStorage: Bool) throws(BitbucketError)
        -> BitbucketLogChunk
    {
        let nothingNew: BitbucketLogChunk = fromStorage ? .complete : .rangeNotSatisfiable
        switch response.status {
        case 200:
            // Range ignored: the whole log; drop what was already read.
            guard Int64(response.body.count) > offset else { return nothingNew }
            return .bytes(Array(response.body[Int(offset)...]), nextOffset: Int64(response.body.count))
        case 206:
            let start = Self.contentRangeStart(response.headers["Content-Range"]) ?? offset
            guard start <= offset else {
                throw .invalidResponse(reason: "log range starts at byte \(start), after the requested \(offset)")
            }
            let skip = offset - start
            guard Int64(response.body.count) > skip else { return nothingNew }
            return .bytes(Array(response.body[Int(skip)...]), nextOffset: start + Int64(response.body.count))
        case 304, 416:
            return nothingNew
        case 404 where !fromStorage:
            return .notYetAvailable
        default:
            throw classify(response)
        }
    }

    /// The first byte of `Content-Range: bytes a-b/total`, or `nil` (absent, `*/total`, malformed).
    static func contentRangeStart(_ value: String?) -> Int64? {
        guard let value else { return nil }
        let trimmed = value.trimmingPrefix("bytes").drop { $0 == " " || $0 == "=" }
        guard let dash = trimmed.firstIndex(of: "-") else { return nil }
        return Int64(trimmed[..<dash].trimmingCharacters(in: .whitespaces))
    }
}
