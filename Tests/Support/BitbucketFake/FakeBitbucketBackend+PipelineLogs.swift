import Foundation

/// Step logs (the step-log endpoint of https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/;
/// `406` for a JSON-only `Accept`, as the real API answers): `Range`/`206`/`416`/`304`/`404`/`406`, and the
/// `307` to a storage origin (`http://localhost:PORT/storage/…` while the API is `127.0.0.1`) that rejects
/// `Authorization` like a pre-signed S3 URL.
extension FakeBitbucketBackend {
    static let storagePathPrefix = "/storage/pipeline-logs/"

    func stepLog(_ request: FakeRequest, _ captures: [String]) -> FakeResponse {
        withRun(captures) { run, _ in
            guard let step = step(captures[3], of: run) else { return stepNotFound(captures[3]) }
            guard Self.acceptsLog(request.header("Accept")) else {
                return .error(
                    406, message: "Not Acceptable",
                    detail: "The log is application/octet-stream; the Accept header does not allow it.")
            }
            guard step.hasLog else {
                return .error(
                    404, message: "Not found", detail: .string("A log file does not exist for step \(step.uuid)."),
                    includeType: false)
            }
            if step.isCompleted, pipelineStore.redirectsCompletedLogs {
                let token = UUID().uuidString.lowercased()
                pipelineStore.storageObjects[token] = FakePipelineStore.StorageObject(
                    repositoryKey: repositoryKey(captures[0], captures[1]), pipelineUUID: run.uuid, stepUUID: step.uuid)
                let port = (request.header("Host") ?? "").split(separator: ":").last.map(String.init) ?? "80"
                let signature = FakeIdentifiers.commitHash()
                let location =
                    "http://\(pipelineStore.storageHost):\(port)\(Self.storagePathPrefix)\(token)"
                    + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=\(signature)"
                return .empty(307, headers: [("Location", location), ("Content-Length", "0")])
            }
            return Self.serveLog(step.log, request: request, honoursRange: pipelineStore.honoursLogRange)
        }
    }

    /// The storage origin: no Bitbucket auth, a signature in the query, `Authorization` refused.
    func storageResponse(_ request: FakeRequest) -> FakeResponse {
        func xml(_ status: Int, _ code: String, _ message: String) -> FakeResponse {
            FakeResponse(
                status: status, headers: [("Content-Type", "application/xml")],
                body: Array(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message></Error>"
                        .utf8))
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return xml(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        }
        if request.header("Authorization") != nil {
            return xml(
                400, "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"
            )
        }
        let token = String(request.path.dropFirst(Self.storagePathPrefix.count))
        guard request.queryValue("X-Amz-Signature") != nil, let object = pipelineStore.storageObjects[token],
            let (key, index) = pipelineStore.locate(object.pipelineUUID), key == object.repositoryKey,
            let step = pipelineStore.runs[key]?[index].steps.first(where: { $0.uuid == object.stepUUID })
        else {
            return xml(403, "AccessDenied", "Access Denied")
        }
        return Self.serveLog(step.log, request: request, honoursRange: pipelineStore.storageHonoursRange)
    }

    /// Whether `Accept` allows the octet-stream (or text) log; no header allows everything.
    static func acceptsLog(_ accept: String?) -> Bool {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return true }
        let allowed: Set<String> = ["*/*", "application/*", "application/octet-stream", "text/*", "text/plain"]
        for item in accept.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first, allowed.contains(type) else { continue }
            if parts.dropFirst().contains(where: { $0 == "q=0" || $0 == "q=0.0" || $0 == "q=0.00" || $0 == "q=0.000" })
            {
                continue
            }
            return true
        }
        return false
    }

    /// `200` whole log, `206` for a satisfiable `Range` (`a-`, `a-b`, `-n`), `416` past the end,
    /// `304` for a matching `If-None-Match`.
    static func serveLog(_ bytes: [UInt8], request: FakeRequest, honoursRange: Bool) -> FakeResponse {
        let total = bytes.count
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let etag = "\"\(total)-\(String(hash, radix: 16))\""
        var headers: [(name: String, value: String)] = [("ETag", etag)]
        if honoursRange { headers.append(("Accept-Ranges", "bytes")) }
        if let match = request.header("If-None-Match"), match == etag || match == "*" {
            return .empty(304, headers: headers)
        }
        let octet: [(name: String, value: String)] = [("Content-Type", "application/octet-stream")]
        guard honoursRange, let range = request.header("Range"), let (start, end) = parseRange(range, total: total)
        else {
            return FakeResponse(status: 200, headers: octet + headers, body: bytes)
        }
        guard start < total, start <= end else {
            return .error(
                416, message: "Requested Range Not Satisfiable",
                detail: .string("The requested range '\(range)' does not exist for a log of \(total) bytes."),
                includeType: false, headers: headers + [("Content-Range", "bytes */\(total)")])
        }
        let last = min(end, total - 1)
        return FakeResponse(
            status: 206, headers: octet + headers + [("Content-Range", "bytes \(start)-\(last)/\(total)")],
            body: Array(bytes[start...last]))
    }

    /// `(first, last)` byte positions for `bytes=a-`, `bytes=a-b`, `bytes=-n`; `nil` when malformed or
    /// several ranges (then the whole log is served). An unsatisfiable range gives `first >= total`.
    static func parseRange(_ header: String, total: Int) -> (Int, Int)? {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("bytes="), !value.contains(",") else { return nil }
        let spec = value.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last) else { return nil }
            guard suffix > 0 else { return (total, total) }
            return (max(0, total - suffix), total - 1)
        }
        guard let start = Int(first), start >= 0 else { return nil }
        if last.isEmpty { return (start, Int.max) }
        guard let end = Int(last), end >= start else { return nil }
        return (start, end)
    }
}
