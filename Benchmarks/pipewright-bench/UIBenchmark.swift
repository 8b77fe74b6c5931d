import BitbucketFake
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

// `pipewright-bench ui [LINES]`: the dashboard's execution page over a log of LINES lines (default
// 1,000,000), served by a real release `pipewright serve` (issue 14 "Benchmark"). Measured in the same run:
// the baseline, the JSON API's page of 100 lines of the same log (`GET /api/executions/{id}/logs`), so each
// figure is also printed as a ratio to it. Goals: the first execution page in < 50 ms server time and
// < 300 KB; a permalink window deep in the log and a whole-log search are reported with the same ratios.
// Then the browser half (Benchmarks/browser/ui_browser.py, headless Chromium): time to first lines, JS heap
// after 20 windows, longest task while 1,000 lines/s arrive for 30 s, DOM rows; its baseline is the same page
// over a 100-line log.

func benchmarkUI(arguments: [String]) async throws {
    let lines = arguments.first.flatMap { Int($0) } ?? 1_000_000
    try await UIBenchmark.benchmark(lines: lines)
}

enum UIBenchmark {
    typealias Failure = RealtimeBench.Failure

    static func benchmark(lines: Int) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "pipewright"
        ).path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("build the service first: swift build -c release (missing \(binary))")
            exit(2)
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pw-ui-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let fake = try await FakeBitbucketServer.start()
        let email = "bench@example.com"
        let bitbucketToken = "bench-bitbucket-token"
        await fake.acceptedAPIToken(email: email, token: bitbucketToken)
        await fake.addRepository(workspace: "acme", slug: "web", mainBranch: "main", files: ["package.json": "{}"])
        await fake.scriptPipelines(workspace: "acme", slug: "web", steps: [FakeStepScript(name: "Build", lines: [])])

        let port = try RealtimeBench.freePort()
        let base = "http://127.0.0.1:\(port)"
        let environment = [
            "PIPEWRIGHT_DATA_DIR": work + "/data", "PIPEWRIGHT_PORT": String(port), "PIPEWRIGHT_HOST": "127.0.0.1",
            "LOG_LEVEL": "warning", "BITBUCKET_API_URL": fake.baseURL, "PIPEWRIGHT_POLL_INTERVAL": "1",
            "PIPEWRIGHT_MONITOR_TIMEOUT": "3600",
        ]
        let service = Process()
        service.executableURL = URL(fileURLWithPath: binary)
        service.arguments = ["serve"]
        service.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        service.standardOutput = FileHandle.nullDevice
        service.standardError = FileHandle.nullDevice
        try service.run()
        defer {
            service.terminate()
            service.waitUntilExit()
        }
        var up = false
        for _ in 0..<300 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up = (try? await request("GET", "\(base)/health", token: nil, body: nil).0) == 200
        }
        guard up else { throw Failure("service did not start") }
        let (tokenStatus, tokenText) = try run(binary, ["token", "create", "admin"], environment: environment)
        let token = tokenText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard tokenStatus == 0, token.hasPrefix("pw_") else { throw Failure("token create failed: \(tokenText)") }
        let execution = try await RealtimeBench.createRunningExecution(
            base: base, token: token, email: email, bitbucketToken: bitbucketToken, fake: fake)

        // The log: LINES lines in one step, coloured every 10th, an ERROR every 50,000th, one "needle".
        let started = Date()
        var chunk = ""
        var sent = 0
        for n in 1...lines {
            if n % 50_000 == 0 {
                chunk += "2026-12-06T10:00:00Z ERROR: step \(n) failed\n"
            } else if n == lines - 10 {
                chunk += "needle in the haystack\n"
            } else if n % 10 == 0 {
                chunk += "\u{1B}[32m2026-12-06T10:00:00Z\u{1B}[0m compiled module \(n) of \(lines)\n"
            } else {
                chunk += "2026-12-06T10:00:00Z building target \(n): swiftc -c Sources/Module\(n % 97).swift\n"
            }
            if chunk.utf8.count > 900_000 || n == lines {
                let status = try await post(
                    "\(base)/api/executions/\(execution.id)/logs?step=Build&finish=\(n == lines)", token: token,
                    body: Data(chunk.utf8))
                guard status == 200 else { throw Failure("ingest: HTTP \(status)") }
                sent += chunk.utf8.count
                chunk = ""
            }
        }
        print(
            "ui benchmark: \(lines) lines (\(sent / 1_048_576) MiB) ingested in "
                + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s; "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores, load \(RealtimeBench.loadAverage())")

        let cookie = try await signIn(base: base, password: try initialPassword(work + "/data"))
        let id = execution.id
        let runs = 30
        let baseline = try await measure("\(base)/api/executions/\(id)/logs?per_page=100", token: token, runs: runs)
        let first = try await measure("\(base)/executions/\(id)", cookie: cookie, runs: runs)
        let permalink = try await measure(
            "\(base)/executions/\(id)/window?around=\(lines / 4)", cookie: cookie, runs: runs)
        let search = try await measure("\(base)/executions/\(id)/search?q=needle", cookie: cookie, runs: 5)
        print("  (server time = request round trip on 127.0.0.1, sequential, warm; median / p95 of the runs)")
        report("baseline: GET /api/executions/{id}/logs?per_page=100", baseline, baseline: baseline)
        report(
            "first execution page GET /executions/{id}", first, baseline: baseline,
            goals: (milliseconds: 50, kilobytes: 300))
        report("permalink window ?around=\(lines / 4)", permalink, baseline: baseline)
        report("whole-log search q=needle (one match)", search, baseline: baseline)

        // The browser half (Benchmarks/browser/ui_browser.py): its baseline is the same page over a 100-line
        // log, and it needs a second running execution to follow live.
        let (_, shown) = try await request("GET", "\(base)/api/executions/\(id)", token: token, body: nil)
        guard let pipelineID = shown["pipeline_id"] as? Int else { throw Failure("no pipeline_id in \(shown)") }
        let small = try await startRun(base: base, token: token, pipelineID: pipelineID, fake: fake)
        let hundred = (1...100).map { "2026-12-06T10:00:00Z building target \($0)\n" }.joined()
        let status = try await post(
            "\(base)/api/executions/\(small)/logs?step=Build&finish=true", token: token, body: Data(hundred.utf8))
        guard status == 200 else { throw Failure("ingest: HTTP \(status)") }
        let live = try await startRun(base: base, token: token, pipelineID: pipelineID, fake: fake)
        try browserHalf(
            [
                base, try initialPassword(work + "/data"), token, String(id), String(lines), String(small),
                String(live),
            ])
    }

    /// Triggers `pipelineID` again and ticks its run once in the fake, so the execution is BUILDING.
    static func startRun(base: String, token: String, pipelineID: Int, fake: FakeBitbucketServer) async throws -> Int {
        let (status, json) = try await request(
            "POST", "\(base)/api/pipelines/\(pipelineID)/trigger", token: token, body: ["branch": "main"])
        guard status == 202, let executionID = json["id"] as? Int else { throw Failure("trigger: \(status) \(json)") }
        for _ in 0..<200 {
            let (_, execution) = try await request(
                "GET", "\(base)/api/executions/\(executionID)", token: token, body: nil)
            if let uuid = (execution["bitbucket"] as? [String: Any])?["uuid"] as? String {
                _ = await fake.advancePipeline(uuid)
                return executionID
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("the trigger never reached the fake Bitbucket")
    }

    /// Runs Benchmarks/browser/ui_browser.py with the test suite's Python (`.venv/bin/python`, made by
    /// `scripts/test`, or `PIPEWRIGHT_BENCH_PYTHON`), which prints its own lines.
    static func browserHalf(_ arguments: [String]) throws {
        let python =
            ProcessInfo.processInfo.environment["PIPEWRIGHT_BENCH_PYTHON"]
            ?? FileManager.default.currentDirectoryPath + "/.venv/bin/python"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("browser/ui_browser.py").path
        guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: script)
        else {
            print("  browser half not run: needs \(python) with Selenium (run scripts/test once) and \(script)")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure("ui_browser.py exited \(process.terminationStatus)") }
    }

    struct Measurement {
        var median: Double
        var p95: Double
        var bytes: Int
    }

    static func report(
        _ name: String, _ value: Measurement, baseline: Measurement,
        goals: (milliseconds: Double, kilobytes: Int)? = nil
    ) {
        var line =
            "  \(name): median \(String(format: "%.1f", value.median)) ms, p95 \(String(format: "%.1f", value.p95)) ms, "
            + "\(value.bytes / 1024) KB; × \(String(format: "%.2f", value.median / baseline.median)) the baseline's time"
        if let goals {
            let time = value.median < goals.milliseconds ? "ok" : "MISSED"
            let size = value.bytes < goals.kilobytes * 1024 ? "ok" : "MISSED"
            line += " (goal < \(Int(goals.milliseconds)) ms: \(time); < \(goals.kilobytes) KB: \(size))"
        }
        print(line)
    }

    static func measure(_ url: String, token: String? = nil, cookie: String? = nil, runs: Int) async throws
        -> Measurement
    {
        var times: [Double] = []
        var bytes = 0
        for index in 0...runs {
            var request = URLRequest(url: URL(string: url)!)
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            if let cookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
            let clock = ContinuousClock.now
            let (data, response) = try await URLSession.shared.data(for: request)
            let elapsed = RealtimeBench.seconds(ContinuousClock.now - clock) * 1000
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                throw Failure("GET \(url): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
            if index > 0 { times.append(elapsed) }  // the first request warms caches
            bytes = data.count
        }
        times.sort()
        return Measurement(
            median: times[times.count / 2], p95: times[min(times.count - 1, Int(Double(times.count) * 0.95))],
            bytes: bytes)
    }

    static func post(_ url: String, token: String, body: Data) async throws -> Int {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.timeoutInterval = 300
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = body
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func initialPassword(_ dataDirectory: String) throws -> String {
        try String(contentsOfFile: dataDirectory + "/initial-admin-password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Signs in through the JSON API and returns the `Cookie` header value of the session.
    static func signIn(base: String, password: String) async throws -> String {
        var request = URLRequest(url: URL(string: "\(base)/api/auth/login")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["username": "admin", "password": password])
        let (_, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse, http.statusCode == 200,
            let setCookie = http.value(forHTTPHeaderField: "Set-Cookie")
        else { throw Failure("sign-in failed") }
        return String(setCookie.split(separator: ";")[0])
    }
}
