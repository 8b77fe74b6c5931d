// pipewright-fake-bitbucket: the in-repo fake of Bitbucket Cloud (`BitbucketFake`) as a process, for test
// suites written in other languages (the browser suite in Tests/browser).
//
//   pipewright-fake-bitbucket [--email E] [--token T] [--workspace W] [--slug S]
//
// Serves the fake on 127.0.0.1 (a free port), accepting the API token `E`/`T` (defaults
// `browser@example.com` / `browser-bitbucket-token`), with one repository `W/S` (default `acme/web`, main
// branch `main`). It prints one JSON line, `{"base_url": "http://127.0.0.1:PORT/2.0", "port": PORT}`, then
// reads one JSON command per line on stdin and answers each with one JSON line on stdout:
//
//   {"cmd": "runs"}                                    → {"runs": [run, …]} oldest first
//   {"cmd": "advance", "uuid": U}                      → {"run": run} after one tick (see FakeBitbucketServer)
//   {"cmd": "complete", "uuid": U}                     → {"run": run} ticked until COMPLETED
//   {"cmd": "append", "uuid": U, "step": 0, "text": T} → {"ok": true} (T appended verbatim to that step's log)
//   {"cmd": "branch", "name": N, "message": M}         → {"commit": HASH} (N created from main by one commit
//                                                        with message M, default "Update N")
//   {"cmd": "script", "steps": [{"name": N, "lines": [L, …], "result": "successful"|"failed"}]}
//                                                      → {"ok": true} (runs triggered from now on follow it)
//   {"cmd": "pollers", "uuid": U, "since": N}          → {"pollers": {user_agent: count}, "requests": M}
//        who read run U's steps or step logs (`GET …/pipelines/U/steps…`) among the requests received
//        after the first N (0 by default), counted by `User-Agent` (Pipewright sends
//        `pipewright (instance <PIPEWRIGHT_INSTANCE_ID>)`); M is the number of requests received so far.
//
// where run = {"uuid", "build_number", "state", "result", "branch", "steps": [{"name", "state", "result"}]}.
// A command it cannot do answers {"error": "…"}. End of stdin stops the server and exits 0.
import BitbucketFake
import Foundation

/// Writes one JSON line to stdout and flushes it (the reader waits for whole lines).
func reply(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

func json(_ run: FakePipelineSnapshot) -> [String: Any] {
    [
        "uuid": run.uuid, "build_number": run.buildNumber, "state": run.stateName, "result": run.resultName ?? NSNull(),
        "branch": run.refName ?? NSNull(),
        "steps": run.steps.map { step -> [String: Any] in
            ["name": step.name, "state": step.stateName, "result": step.resultName ?? NSNull()]
        },
    ]
}

func option(_ name: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return value }
    return arguments[index + 1]
}

let email = option("--email", default: "browser@example.com")
let token = option("--token", default: "browser-bitbucket-token")
let workspace = option("--workspace", default: "acme")
let slug = option("--slug", default: "web")

let fake = try await FakeBitbucketServer.start()
await fake.acceptedAPIToken(email: email, token: token)
await fake.addRepository(workspace: workspace, slug: slug, mainBranch: "main", files: ["package.json": "{}"])
reply(["base_url": fake.baseURL, "port": fake.port])

/// Whether `request` reads the steps (or a step's log) of run `uuid` (braces optional on both sides).
func polls(_ request: FakeRequest, run uuid: String) -> Bool {
    let bare = uuid.trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
    let segments = request.apiSegments
    guard let index = segments.firstIndex(of: "pipelines"), index + 2 < segments.count else { return false }
    return segments[index + 1].trimmingCharacters(in: CharacterSet(charactersIn: "{}")) == bare
        && segments[index + 2] == "steps"
}

/// Runs one command line and answers it.
func handle(_ line: String) async {
    guard let data = line.data(using: .utf8),
        let command = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
        let name = command["cmd"] as? String
    else {
        reply(["error": "not a JSON command: \(line.prefix(200))"])
        return
    }
    let uuid = command["uuid"] as? String ?? ""
    switch name {
    case "runs":
        reply(["runs": await fake.pipelines(workspace: workspace, slug: slug).map(json)])
    case "advance":
        guard let run = await fake.advancePipeline(uuid) else { return reply(["error": "unknown run \(uuid)"]) }
        reply(["run": json(run)])
    case "complete":
        guard let run = await fake.runPipelineToCompletion(uuid) else { return reply(["error": "unknown run \(uuid)"]) }
        reply(["run": json(run)])
    case "append":
        let step = command["step"] as? Int ?? 0
        let text = command["text"] as? String ?? ""
        let ok = await fake.appendLog(pipeline: uuid, step: step, text: text)
        reply(ok ? ["ok": true] : ["error": "unknown run \(uuid) or step \(step)"])
    case "branch":
        let branch = command["name"] as? String ?? ""
        guard
            let commit = await fake.addBranch(
                workspace: workspace, slug: slug, name: branch, from: "main", files: ["BRANCH": branch],
                message: command["message"] as? String)
        else { return reply(["error": "cannot create branch \(branch)"]) }
        reply(["commit": commit])
    case "script":
        let steps = (command["steps"] as? [[String: Any]] ?? []).map { step in
            FakeStepScript(
                name: step["name"] as? String ?? "Build", lines: step["lines"] as? [String] ?? [],
                result: step["result"] as? String == "failed" ? .failed : .successful)
        }
        await fake.scriptPipelines(workspace: workspace, slug: slug, steps: steps)
        reply(["ok": true])
    case "pollers":
        let since = command["since"] as? Int ?? 0
        let requests = await fake.requests()
        var pollers: [String: Int] = [:]
        for request in requests.dropFirst(since) where request.method == "GET" && polls(request, run: uuid) {
            pollers[request.header("User-Agent") ?? "", default: 0] += 1
        }
        reply(["pollers": pollers, "requests": requests.count])
    default:
        reply(["error": "unknown command \(name)"])
    }
}

while let line = readLine(strippingNewline: true) {
    if line.isEmpty { continue }
    await handle(line)
}
try await fake.stop()
