// pipewright-bench: performance figures measured against a baseline in the same run.
//
//   swift build -c release && swift run -c release pipewright-bench keys     [runs]
//   swift build -c release && swift run -c release pipewright-bench deploy   [runs]   (root: starts sshd)
//   swift run -c release pipewright-bench logs [SIZE_MB]   (default 100; 1000 for the 1 GB goals)
//   swift run -c release pipewright-bench realtime [--viewers 1000] [--rate 1000] [--duration 20]
//   swift run -c release pipewright-bench logstore-scale [--lines 1000000] [--batches 20000]   (PostgreSQL)
//
// `keys`:   RSA-4096 generation in-process (swift-crypto) vs `ssh-keygen -t rsa -b 4096 -N ''`, medians.
// `deploy`: one `POST /api/ssh-keys/{id}/deploy` to 10 sshd instances vs to 1, medians of wall time,
//           against a real `pipewright serve` (the release binary next to this one).
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return elapsed.seconds
}

@discardableResult
func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }

// MARK: - keys

func benchmarkKeys(runs: Int) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-bench-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var ours: [Double] = []
    var baseline: [Double] = []
    for index in 0..<runs {
        // Interleave the two so machine load affects both alike.
        ours.append(try seconds { _ = try KeyGenerator.generate(type: .rsa, bits: 4096) })
        let file = "\(directory)/k\(index)"
        baseline.append(
            try seconds {
                let (status, _) = try run(
                    "/usr/bin/ssh-keygen", ["-q", "-t", "rsa", "-b", "4096", "-N", "", "-f", file])
                precondition(status == 0, "ssh-keygen failed")
            })
    }
    let ratio = median(ours) / median(baseline)
    print("rsa-4096 generation, \(runs) runs each")
    print(
        "  pipewright (swift-crypto) median: \(format(median(ours))) s  runs: \(ours.map(format).joined(separator: " "))"
    )
    print(
        "  ssh-keygen baseline       median: \(format(median(baseline))) s  runs: \(baseline.map(format).joined(separator: " "))"
    )
    print("  ratio pipewright / ssh-keygen: \(format(ratio))  (target <= 1.5)")
}

// MARK: - deploy

func request(_ method: String, _ url: String, token: String?, body: [String: Any]?) async throws -> (Int, [String: Any])
{
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.timeoutInterval = 300
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    if let body {
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
}

func benchmarkDeploy(runs: Int) async throws {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
        "pipewright"
    ).path
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        print("build the service first: swift build -c release (missing \(binary))")
        exit(2)
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-bench-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let port = 18_000 + Int.random(in: 0..<2000)
    let environment = ["PIPEWRIGHT_DATA_DIR": directory, "PIPEWRIGHT_PORT": String(port), "LOG_LEVEL": "warning"]
    let server = Process()
    server.executableURL = URL(fileURLWithPath: binary)
    server.arguments = ["serve"]
    server.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    server.standardOutput = FileHandle.nullDevice
    server.standardError = FileHandle.nullDevice
    try server.run()
    defer { server.terminate() }
    let base = "http://127.0.0.1:\(port)"
    var up = false
    for _ in 0..<200 where !up {
        try await Task.sleep(for: .milliseconds(100))
        up = (try? await request("GET", "\(base)/health", token: nil, body: nil).0) == 200
    }
    guard up else { print("service did not start"); exit(1) }
    let (_, tokenText) = try run(binary, ["token", "create", "admin"], environment: environment)
    let token = tokenText.trimmingCharacters(in: .whitespacesAndNewlines)

    var fixtures: [SSHDFixture] = []
    for _ in 0..<10 { fixtures.append(try await SSHDFixture.start()) }
    defer { for fixture in fixtures { Task { await fixture.stop() } } }
    func target(_ fixture: SSHDFixture) -> [String: Any] {
        let user = fixture.users[0]
        return ["host": fixture.host, "port": fixture.port, "username": user.name, "password": user.password.value]
    }
    let (_, key) = try await request(
        "POST", "\(base)/api/ssh-keys", token: token, body: ["name": "bench", "key_type": "ed25519"])
    guard let id = key["id"] as? Int else { print("key creation failed: \(key)"); exit(1) }
    func deploy(_ targets: [[String: Any]]) async throws -> Double {
        let start = ContinuousClock.now
        let (status, body) = try await request(
            "POST", "\(base)/api/ssh-keys/\(id)/deploy", token: token, body: ["servers": targets])
        let elapsed = ContinuousClock.now - start
        guard status == 200, body["ok"] as? Bool == true else { print("deploy failed: \(status) \(body)"); exit(1) }
        return elapsed.seconds
    }
    // Warm-up: first contact pins every host key.
    _ = try await deploy(fixtures.map(target))
    var one: [Double] = []
    var ten: [Double] = []
    for _ in 0..<runs {
        one.append(try await deploy([target(fixtures[0])]))
        ten.append(try await deploy(fixtures.map(target)))
    }
    print("deploy (password login + authorized_keys edit) in one request, \(runs) runs each")
    print("  1 server   median: \(format(median(one))) s  runs: \(one.map(format).joined(separator: " "))")
    print("  10 servers median: \(format(median(ten))) s  runs: \(ten.map(format).joined(separator: " "))")
    print("  ratio 10 / 1: \(format(median(ten) / median(one)))  (target <= 2)")
    for fixture in fixtures { await fixture.stop() }
    fixtures = []
}

let arguments = Array(CommandLine.arguments.dropFirst())
let runs = arguments.count > 1 ? Int(arguments[1]) ?? 10 : 10
switch arguments.first {
case "keys": try benchmarkKeys(runs: runs)
case "deploy": try await benchmarkDeploy(runs: runs)
case "logs": try await benchmarkLogs(arguments: Array(arguments.dropFirst()))
case "realtime": try await benchmarkRealtime(arguments: Array(arguments.dropFirst()))
case "ui": try await benchmarkUI(arguments: Array(arguments.dropFirst()))
case "logstore-scale": try await benchmarkLogStoreScale(arguments: Array(arguments.dropFirst()))
default:
    print(
        "usage: pipewright-bench keys|deploy [runs] | logs [SIZE_MB] | realtime [--viewers N] [--rate L] [--duration S]"
            + " | ui [LINES] | logstore-scale [--lines N] [--batches N]"
    )
    exit(2)
}
