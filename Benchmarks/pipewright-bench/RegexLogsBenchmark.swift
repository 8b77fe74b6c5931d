// `logs`, regex part (issue 17): the three patterns of the issue, ignoring case and case-sensitive, against
// `grep -E -c` and `grep -P -c` on the same file, in process and end to end over HTTP.
//
// In process: `LogStore.lines` page query (per_page 1, the count is `total`) with a budget large enough to
// scan the whole log (its time and count compare with grep's). Over HTTP the server keeps its default 2 s
// budget (`PIPEWRIGHT_REGEX_BUDGET_MS`), so the table also says how many answers were partial.
// End to end: a real `pipewright serve` (the binary next to this one; skipped when absent) with a fresh data
// dir, the log ingested through `POST /api/executions/{id}/logs`, then `GET /api/executions/{id}/logs?q=…&
// regex=true&per_page=1`; the wall time seen by the client and the server's own `duration_ms` of the request
// (its request log line, found by `X-Request-ID`). Medians of 5, interleaved with grep.
// Goals: ≥ 1× `grep -E` in process (100 MB and 1 GB), end to end ≤ 1.3× in process, never `regex_timeout`
// (nor a partial answer) on 1 GB; counts equal grep's.
import BitbucketFake
import Foundation
import LogStore
import PipewrightCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

enum RegexLogsBench {
    struct Pattern {
        let text: String
        let caseSensitive: Bool
        var label: String { "`\(text)`" + (caseSensitive ? " (case-sensitive)" : " (ignore case)") }
    }

    static let patterns: [Pattern] = [
        Pattern(text: "error|fail(ed|ure)", caseSensitive: false),
        Pattern(text: "error|fail(ed|ure)", caseSensitive: true),
        Pattern(text: #"\b[0-9]{3} ms\b"#, caseSensitive: false),
        Pattern(text: #"\b[0-9]{3} ms\b"#, caseSensitive: true),
        Pattern(text: #"^\S+ WARN "#, caseSensitive: false),
        Pattern(text: #"^\S+ WARN "#, caseSensitive: true),
    ]

    struct Row {
        var pattern: Pattern
        var ours: Double = .nan
        var ourCount = -1
        var partial = false
        var grepE: Double = .nan
        var grepECount = -1
        var grepP: Double = .nan
        var grepPCount = -1
        var http: Double = .nan
        var server: Double = .nan
        var httpCount = -1
        var httpPartial = 0
        var httpTimeouts = 0
    }

    static let runs = 5

    static func run(store: LogStore, execution: Int, logFile: String, sizeMB: Double) async throws {
        var rows = patterns.map { Row(pattern: $0) }
        var server: Server?
        do {
            server = try await Server.start(logFile: logFile)
        } catch {
            print("end-to-end part failed to start: \(error)")
        }
        defer { server?.stop() }
        var requestNumber = 0
        for index in rows.indices {
            let pattern = rows[index].pattern
            var ours: [Double] = []
            var grepE: [Double] = []
            var grepP: [Double] = []
            var wall: [Double] = []
            var serverTimes: [Double] = []
            let flags = pattern.caseSensitive ? ["-c"] : ["-c", "-i"]
            // Interleaved rounds, so machine load affects every contender alike.
            for _ in 0..<runs {
                var page: LogPage?
                ours.append(
                    try LogsBench.time {
                        var query = LogQuery(
                            filter: LogFilter(
                                text: pattern.text, isRegex: true, isCaseSensitive: pattern.caseSensitive),
                            pagination: .page(try PageRequest(page: 1, perPage: 1)))
                        query.regexBudget = .seconds(600)  // the whole scan, so its time and count compare
                        page = try store.lines(execution: execution, query: query)
                    })
                rows[index].ourCount = page?.total ?? -1
                rows[index].partial = rows[index].partial || (page?.isPartial ?? false)
                var output = ""
                grepE.append(
                    try LogsBench.time {
                        output = try LogsBench.runTool(
                            "/usr/bin/env", ["grep", "-E"] + flags + [pattern.text, logFile])
                    })
                rows[index].grepECount = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                grepP.append(
                    try LogsBench.time {
                        output = try LogsBench.runTool(
                            "/usr/bin/env", ["grep", "-P"] + flags + [pattern.text, logFile])
                    })
                rows[index].grepPCount = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                if let server {
                    requestNumber += 1
                    let answer = try await server.query(pattern, requestID: "bench-regex-\(requestNumber)")
                    wall.append(answer.wall)
                    if let duration = answer.server { serverTimes.append(duration) }
                    rows[index].httpCount = answer.total
                    if answer.partial { rows[index].httpPartial += 1 }
                    if answer.status == 400 { rows[index].httpTimeouts += 1 }
                }
            }
            rows[index].ours = LogsBench.median(ours)
            rows[index].grepE = LogsBench.median(grepE)
            rows[index].grepP = LogsBench.median(grepP)
            rows[index].http = LogsBench.median(wall)
            rows[index].server = LogsBench.median(serverTimes)
            print(
                "  \(pattern.label): in process \(ms(rows[index].ours)) (\(rows[index].ourCount)); grep -E \(ms(rows[index].grepE)) "
                    + "(\(rows[index].grepECount)); grep -P \(ms(rows[index].grepP)) (\(rows[index].grepPCount)); HTTP "
                    + "\(ms(rows[index].http)) (server \(ms(rows[index].server)), \(rows[index].httpCount), "
                    + "\(rows[index].httpPartial) partial); load \(RealtimeBench.loadAverage())")
        }
        printTable(rows, sizeMB: sizeMB)
    }

    static func ms(_ seconds: Double) -> String { seconds.isNaN ? "-" : "\(LogsBench.format(seconds * 1000, 0)) ms" }

    // MARK: - End to end

    /// A running `pipewright serve` holding the benchmark log as one execution.
    final class Server {
        let process: Process
        let base: String
        let token: String
        let execution: Int
        let serviceLog: String
        let work: String
        let fake: FakeBitbucketServer

        init(
            process: Process, base: String, token: String, execution: Int, serviceLog: String, work: String,
            fake: FakeBitbucketServer
        ) {
            self.process = process
            self.base = base
            self.token = token
            self.execution = execution
            self.serviceLog = serviceLog
            self.work = work
            self.fake = fake
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: work)
        }

        static func start(logFile: String) async throws -> Server? {
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("pipewright").path
            guard FileManager.default.isExecutableFile(atPath: binary) else {
                print(
                    "end to end skipped: no pipewright binary at \(binary) (swift build -c release --product pipewright)"
                )
                return nil
            }
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("pw-regex-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let fake = try await FakeBitbucketServer.start()
            let email = "bench@example.com"
            let bitbucketToken = "bench-bitbucket-token"
            await fake.acceptedAPIToken(email: email, token: bitbucketToken)
            await fake.addRepository(workspace: "acme", slug: "web", mainBranch: "main", files: ["package.json": "{}"])
            await fake.scriptPipelines(
                workspace: "acme", slug: "web", steps: [FakeStepScript(name: "Build", lines: ["building"])])
            let port = try RealtimeBench.freePort()
            let base = "http://127.0.0.1:\(port)"
            let environment = [
                "PIPEWRIGHT_DATA_DIR": work + "/data", "PIPEWRIGHT_PORT": String(port), "PIPEWRIGHT_HOST": "127.0.0.1",
                "LOG_LEVEL": "info", "BITBUCKET_API_URL": fake.baseURL, "PIPEWRIGHT_POLL_INTERVAL": "1",
                "PIPEWRIGHT_MONITOR_TIMEOUT": "3600",
            ]
            let service = Process()
            service.executableURL = URL(fileURLWithPath: binary)
            service.arguments = ["serve"]
            service.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let serviceLog = work + "/service.log"
            _ = FileManager.default.createFile(atPath: serviceLog, contents: nil)
            let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: serviceLog))
            service.standardOutput = logHandle
            service.standardError = logHandle
            try service.run()
            var up = false
            for _ in 0..<300 where !up {
                try await Task.sleep(for: .milliseconds(100))
                up = (try? await request("GET", "\(base)/health", token: nil, body: nil).0) == 200
            }
            guard up else {
                service.terminate()
                throw LogsBench.Failure(description: "service did not start")
            }
            let (tokenStatus, tokenText) = try pipewright_bench.run(
                binary, ["token", "create", "admin"], environment: environment)
            let token = tokenText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard tokenStatus == 0, token.hasPrefix("pw_") else {
                throw LogsBench.Failure(description: "token create failed: \(tokenText)")
            }
            let execution = try await RealtimeBench.createRunningExecution(
                base: base, token: token, email: email, bitbucketToken: bitbucketToken, fake: fake)
            let ingest = try LogsBench.time {
                let (status, output) = try pipewright_bench.run(
                    "/usr/bin/curl",
                    [
                        "-s", "-S", "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H",
                        "Content-Type: text/plain",
                        "--data-binary", "@" + logFile,
                        "\(base)/api/executions/\(execution.id)/logs?step=bench&finish=true",
                    ])
                guard status == 0, output.contains("lines_stored") else {
                    throw LogsBench.Failure(description: "ingest failed: \(output.prefix(300))")
                }
            }
            print(
                "end to end: service on \(base), execution \(execution.id), log ingested over HTTP in \(LogsBench.format(ingest, 1)) s"
            )
            return Server(
                process: service, base: base, token: token, execution: execution.id, serviceLog: serviceLog, work: work,
                fake: fake)
        }

        /// One `GET …/logs?q=…&regex=true&per_page=1`: client wall time, the server's `duration_ms`, the answer.
        func query(_ pattern: Pattern, requestID: String) async throws -> (
            wall: Double, server: Double?, total: Int, partial: Bool, status: Int
        ) {
            guard var components = URLComponents(string: "\(base)/api/executions/\(execution)/logs") else {
                throw LogsBench.Failure(description: "bad base URL \(base)")
            }
            components.queryItems = [
                URLQueryItem(name: "q", value: pattern.text), URLQueryItem(name: "regex", value: "true"),
                URLQueryItem(name: "case_sensitive", value: pattern.caseSensitive ? "true" : "false"),
                URLQueryItem(name: "per_page", value: "1"),
            ]
            // `+` is a space in query strings: encode it.
            guard let encoded = components.url?.absoluteString.replacingOccurrences(of: "+", with: "%2B"),
                let url = URL(string: encoded)
            else { throw LogsBench.Failure(description: "cannot encode \(pattern.text)") }
            var urlRequest = URLRequest(url: url)
            urlRequest.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            urlRequest.setValue(requestID, forHTTPHeaderField: "X-Request-ID")
            urlRequest.timeoutInterval = 300
            let start = ContinuousClock.now
            let (data, response) = try await URLSession.shared.data(for: urlRequest)
            let elapsed = ContinuousClock.now - start
            let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            let total = ((json["pagination"] as? [String: Any])?["total"] as? Int) ?? -1
            let duration = RegexLogsBench.serverDuration(log: serviceLog, requestID: requestID).map { $0 / 1000 }
            return (wall, duration, total, json["partial"] as? Bool ?? false, status)
        }
    }

    /// The `duration_ms` of the request line the service logged for `requestID`.
    static func serverDuration(log: String, requestID: String) -> Double? {
        for _ in 0..<50 {
            if let text = try? String(contentsOfFile: log, encoding: .utf8),
                let line = text.split(separator: "\n").last(where: {
                    $0.contains(requestID) && $0.contains("duration_ms")
                }),
                let range = line.range(of: #"duration_ms[^0-9]*[0-9.]+"#, options: .regularExpression)
            {
                let value = line[range].drop { !"0123456789".contains($0) }
                return Double(value)
            }
            usleep(20_000)
        }
        return nil
    }

    // MARK: - Report

    static func printTable(_ rows: [Row], sizeMB: Double) {
        print("")
        print(
            "regex search, \(LogsBench.format(sizeMB, 0)) MB, medians of \(runs), load \(RealtimeBench.loadAverage()); "
                + "ratio = grep time / our time (≥ 1: we are faster); HTTP with the server's default 2 s budget")
        print(
            "| pattern | Pipewright in process | `grep -E -c` | `grep -P -c` | × grep -E | × grep -P "
                + "| HTTP end to end (server) | HTTP / in process | counts agree |")
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows {
            let httpComplete = row.httpPartial == 0 && row.httpTimeouts == 0
            let agree =
                row.ourCount == row.grepECount && row.ourCount == row.grepPCount
                && (row.httpCount == -1 || !httpComplete || row.httpCount == row.ourCount)
            let ours = "\(ms(row.ours)) (\(row.ourCount)\(row.partial ? ", PARTIAL" : ""))"
            var http = row.http.isNaN ? "-" : "\(ms(row.http)) (\(ms(row.server)))"
            if row.httpPartial > 0 { http += ", \(row.httpPartial)/\(runs) partial" }
            if row.httpTimeouts > 0 { http += ", \(row.httpTimeouts)/\(runs) regex_timeout" }
            print(
                "| \(row.pattern.label) | \(ours) | \(ms(row.grepE)) (\(row.grepECount)) | \(ms(row.grepP)) (\(row.grepPCount)) | "
                    + "\(LogsBench.format(row.grepE / row.ours, 2))× | \(LogsBench.format(row.grepP / row.ours, 2))× | \(http) | "
                    + "\(row.http.isNaN ? "-" : LogsBench.format(row.http / row.ours, 2) + "×") | \(agree ? "yes" : "NO") |"
            )
        }
        let goalGrep = rows.allSatisfy { $0.grepE / $0.ours >= 1 }
        let goalHTTP = rows.allSatisfy { $0.http.isNaN || $0.http / $0.ours <= 1.3 }
        let goalNoTimeout = rows.allSatisfy { $0.httpTimeouts == 0 }
        let complete = rows.allSatisfy { $0.httpPartial == 0 }
        let goalCounts = rows.allSatisfy { $0.ourCount == $0.grepECount && $0.ourCount == $0.grepPCount }
        print(
            "goals: ≥ 1× grep -E in process: \(goalGrep ? "met" : "MISSED"); HTTP ≤ 1.3× in process: \(goalHTTP ? "met" : "MISSED"); "
                + "never regex_timeout: \(goalNoTimeout ? "met" : "MISSED") (every HTTP answer complete within 2 s: "
                + "\(complete ? "yes" : "no")); counts equal grep's: \(goalCounts ? "met" : "MISSED")")
    }
}
