// `realtime`: issue 6's load benchmark — N Socket.IO viewers of one execution receiving M lines/s.
//
//   swift run -c release pipewright-bench realtime [--viewers 1000] [--rate 1000] [--duration 20]
//                                                  [--window 15] [--baseline-duration 10] [--batch-ms 10]
//
// Starts a real `pipewright serve` (the binary next to this one) with a fresh data dir on a free
// 127.0.0.1 port, `PIPEWRIGHT_POLL_INTERVAL=1` and `BITBUCKET_API_URL` pointing at an in-process
// `FakeBitbucketServer`. Through the API it creates a connection, a pipeline and triggers one run,
// which the fake keeps `IN_PROGRESS` (step 1 started, never advanced) so the monitor polls it for
// the whole benchmark. Then, in this order:
//   1. RSS of the service before any viewer;
//   2. Bitbucket requests for that run during `--window` s with 1 viewer subscribed;
//   3. baseline latency: 1 viewer, `--rate` lines/s for `--baseline-duration` s;
//   4. the other viewers connect and subscribe (Engine.IO v4 / Socket.IO v5 over WebSocketKit, auth
//      `40{"token"}`, `subscribe_pipeline_status` with an ack, `after_seq` = lines already stored);
//   5. Bitbucket requests during `--window` s with N viewers;
//   6. load: `--rate` lines/s for `--duration` s through one streamed (chunked) admin request
//      `POST /api/executions/{id}/logs?step=bench`, a batch every `--batch-ms`; every line carries its
//      number and its send time (wall clock ns); each viewer records receive time − send time per line
//      and which numbers it got; RSS of the service at the end.
//   7. the peers (issue 16 item 8, `--peers plain,merge`, default both): Benchmarks/realtime-peer/peer_server.py,
//      python-socketio 5 on aiohttp + uvloop in one process, installed from PyPI into .build/bench-venv on
//      first use (pinned in Benchmarks/realtime-peer/requirements.txt), in its per-batch (`plain`) and
//      merge-queued-batches-before-fan-out (`merge`) modes; the same N viewers connect (token CONNECT,
//      `subscribe_pipeline_status` with ack) and the same producer streams the same lines to its ingestion
//      endpoint; then one table compares p50/p99/max, CPU per delivered line, connect time and RSS, with
//      Pipewright/peer ratios.
// Goals (issues 6 and 16): p99 < 50 ms at 1,000 viewers × 1,000 lines/s with 10 ms batches, no line lost
// or duplicated, order kept; 1,000 viewers connected in < 1 s; RSS growth < 100 MB; Bitbucket requests/minute
// identical for 1 and N viewers.
import AsyncHTTPClient
import BitbucketFake
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PipewrightCore
import Synchronization
import WebSocketKit

#if canImport(Glibc)
    import Glibc
#endif

/// Entry point of `pipewright-bench realtime [options]`.
func benchmarkRealtime(arguments: [String]) async throws {
    let options: RealtimeBench.Options
    do {
        options = try RealtimeBench.Options(arguments)
    } catch {
        print("\(error)")
        print(
            "usage: pipewright-bench realtime [--viewers N] [--rate LINES_PER_S] [--duration S] [--window S] [--baseline-duration S] [--batch-ms MS] [--peers plain,merge|none]"
        )
        exit(2)
    }
    try await RealtimeBench.benchmark(options)
}

/// Helpers of the `realtime` benchmark, namespaced so they do not clash with other benchmark files.
enum RealtimeBench {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    struct Options {
        var viewers = 1_000
        var rate = 1_000
        var duration = 20.0
        var window = 15.0
        var baselineDuration = 10.0
        var batchMilliseconds = 10
        /// Peer servers to run after Pipewright with the same viewers and producer (issue 16 item 8).
        var peers: [PeerMode] = PeerMode.allCases

        init(_ arguments: [String]) throws {
            var index = 0
            func number(_ name: String, _ range: ClosedRange<Double>) throws -> Double {
                guard index + 1 < arguments.count, let value = Double(arguments[index + 1]), range.contains(value)
                else {
                    throw Failure("\(name) needs a number in \(range.lowerBound)...\(range.upperBound)")
                }
                index += 2
                return value
            }
            while index < arguments.count {
                switch arguments[index] {
                case "--viewers": viewers = Int(try number("--viewers", 1...10_000))
                case "--rate": rate = Int(try number("--rate", 1...100_000))
                case "--duration": duration = try number("--duration", 1...600)
                case "--window": window = try number("--window", 2...600)
                case "--baseline-duration": baselineDuration = try number("--baseline-duration", 1...600)
                case "--batch-ms": batchMilliseconds = Int(try number("--batch-ms", 1...1_000))
                case "--peers":
                    guard index + 1 < arguments.count else { throw Failure("--peers needs plain,merge or none") }
                    let names = arguments[index + 1].split(separator: ",").map(String.init)
                    peers =
                        try names == ["none"]
                        ? []
                        : names.map {
                            guard let mode = PeerMode(rawValue: $0) else { throw Failure("unknown peer mode \($0)") }
                            return mode
                        }
                    index += 2
                default: throw Failure("unknown option \(arguments[index])")
                }
            }
        }
    }

    /// Seconds between the service's polls of Bitbucket during the benchmark.
    static let pollIntervalSeconds = 1.0
    /// The step the benchmark's lines go to (not a Bitbucket step, so the monitor never touches it).
    static let step = "bench"

    // MARK: - Clocks and /proc

    /// Wall clock (CLOCK_REALTIME) in ns: producer and viewers live in this process, so one clock.
    /// (`Date` reads CLOCK_REALTIME; a Double of seconds since 1970 resolves ~0.25 µs today.)
    @inline(__always) static func wallNanos() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1e9)
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.seconds
    }

    /// `VmRSS`/`VmHWM`/… of `pid` in KiB (0 when unreadable).
    static func status(_ pid: Int32, _ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// User + system CPU seconds used so far by `pid` (`/proc/<pid>/stat` fields 14 and 15).
    static func cpuSeconds(_ pid: Int32) -> Double { cpuSplit(pid).user + cpuSplit(pid).system }

    /// User and system CPU seconds used so far by `pid` (`/proc/<pid>/stat` fields 14 and 15).
    static func cpuSplit(_ pid: Int32) -> (user: Double, system: Double) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return (0, 0) }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return (0, 0) }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user / ticks, system / ticks)
    }

    /// Counters of `pid` summed over its threads: read/write-class syscalls (`/proc/<pid>/io` syscr,
    /// syscw) and voluntary + involuntary context switches (`/proc/<pid>/task/*/status`).
    struct Counters {
        var readCalls = 0
        var writeCalls = 0
        var contextSwitches = 0
        var threads = 0

        static func of(_ pid: Int32) -> Counters {
            var counters = Counters()
            if let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) {
                for line in io.split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    guard parts.count == 2, let value = Int(parts[1]) else { continue }
                    if parts[0] == "syscr:" { counters.readCalls = value }
                    if parts[0] == "syscw:" { counters.writeCalls = value }
                }
            }
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            counters.threads = tasks.count
            for task in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else {
                    continue
                }
                for line in text.split(separator: "\n") where line.contains("ctxt_switches:") {
                    counters.contextSwitches += Int(line.split(separator: "\t").last ?? "") ?? 0
                }
            }
            return counters
        }

        static func - (lhs: Counters, rhs: Counters) -> Counters {
            Counters(
                readCalls: lhs.readCalls - rhs.readCalls, writeCalls: lhs.writeCalls - rhs.writeCalls,
                contextSwitches: lhs.contextSwitches - rhs.contextSwitches, threads: lhs.threads)
        }
    }

    /// CPU seconds so far per thread of `pid`, keyed by "name/tid" (`/proc/<pid>/task/<tid>/stat`).
    static func threadCPU(_ pid: Int32) -> [String: Double] {
        var result: [String: Double] = [:]
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
            else { continue }
            let name = String(text[text.index(after: open)..<close])
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            result["\(name)/\(task)"] = (user + system) / ticks
        }
        return result
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3)
            .joined(separator: " ")
    }

    /// Raises the open-files soft limit to the hard limit (1,000 sockets here, 1,000 in the service,
    /// which inherits the limit).
    static func raiseFileLimit(needed: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < rlim_t(needed) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(max(needed, 65_536)))
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    /// A free TCP port on 127.0.0.1 (bound once by the kernel's choice, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw Failure("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: - Run

    static func benchmark(_ options: Options) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "pipewright"
        ).path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("build the service first: swift build -c release (missing \(binary))")
            exit(2)
        }
        raiseFileLimit(needed: options.viewers * 2 + 512)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pw-realtime-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        print(
            "realtime benchmark: \(options.viewers) viewers, \(options.rate) lines/s for \(format(options.duration, 0)) s "
                + "(baseline: 1 viewer for \(format(options.baselineDuration, 0)) s), batches every \(options.batchMilliseconds) ms, "
                + "request windows \(format(options.window, 0)) s; \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(loadAverage())"
        )

        let fake = try await FakeBitbucketServer.start()
        let viewerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let producerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let http = HTTPClient(eventLoopGroup: producerGroup)
        var server: BenchChild?
        var viewers: [Viewer] = []
        do {
            let email = "bench@example.com"
            let bitbucketToken = "bench-bitbucket-token"
            await fake.acceptedAPIToken(email: email, token: bitbucketToken)
            await fake.addRepository(workspace: "acme", slug: "web", mainBranch: "main", files: ["package.json": "{}"])
            await fake.scriptPipelines(
                workspace: "acme", slug: "web", steps: [FakeStepScript(name: "Build", lines: ["building"])])

            let port = try freePort()
            let base = "http://127.0.0.1:\(port)"
            let environment = [
                "PIPEWRIGHT_DATA_DIR": work + "/data", "PIPEWRIGHT_PORT": String(port), "PIPEWRIGHT_HOST": "127.0.0.1",
                "LOG_LEVEL": "warning", "BITBUCKET_API_URL": fake.baseURL,
                "PIPEWRIGHT_POLL_INTERVAL": String(pollIntervalSeconds), "PIPEWRIGHT_MONITOR_TIMEOUT": "3600",
            ]
            let serviceLog = work + "/service.log"
            let service = try await BenchChild.start(binary, ["serve"], environment: environment, log: serviceLog)
            server = service
            let pid = service.pid
            try await waitForHealth(base: base, name: "service", log: serviceLog)
            let (tokenStatus, tokenText) = try run(binary, ["token", "create", "admin"], environment: environment)
            let token = tokenText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard tokenStatus == 0, token.hasPrefix("pw_") else { throw Failure("token create failed: \(tokenText)") }

            // Connection, pipeline, one triggered run kept IN_PROGRESS.
            let executionID = try await createRunningExecution(
                base: base, token: token, email: email, bitbucketToken: bitbucketToken, fake: fake)
            let uuid = executionID.uuid
            let rssBefore = status(pid, "VmRSS")
            print(
                "service pid \(pid) on \(base); execution \(executionID.id) (Bitbucket run \(uuid)) BUILDING; RSS \(mb(rssBefore))"
            )

            let url = "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket"
            // 1 viewer.
            let first = Viewer(index: 0)
            viewers.append(first)
            try await first.open(url: url, token: token, executionID: executionID.id, afterSeq: 0, group: viewerGroup)
            let oneViewer = try await countRequests(fake: fake, uuid: uuid, window: options.window)

            // Baseline latency with that viewer.
            var nextSeq = 1
            let baseline = try await loadPhase(
                viewers: viewers, http: http, base: base, token: token, executionID: executionID.id,
                firstSeq: nextSeq, rate: options.rate, duration: options.baselineDuration,
                batchMilliseconds: options.batchMilliseconds,
                pid: pid)
            nextSeq = baseline.lastSeq + 1

            // N viewers.
            let rampStart = ContinuousClock.now
            let rampCPU = (cpuSeconds(pid), ownCPUSeconds())
            let others = (1..<options.viewers).map { Viewer(index: $0) }
            viewers += others
            try await connect(
                others, url: url, token: token, executionID: executionID.id, afterSeq: baseline.highestStoredSeq,
                group: viewerGroup)
            let rampSeconds = seconds(ContinuousClock.now - rampStart)
            let rssIdle = status(pid, "VmRSS")
            print(
                "\(options.viewers) viewers subscribed in \(format(rampSeconds, 2)) s (service CPU "
                    + "\(format((cpuSeconds(pid) - rampCPU.0) * 1000 / Double(others.count), 2)) ms per viewer, viewers' "
                    + "client \(format((ownCPUSeconds() - rampCPU.1) * 1000 / Double(others.count), 2)) ms); "
                    + "service RSS \(mb(rssIdle))")
            let manyViewers = try await countRequests(fake: fake, uuid: uuid, window: options.window)

            // The load phase (Bitbucket requests counted during it too).
            await fake.clearRequests()
            let loadStart = ContinuousClock.now
            let load = try await loadPhase(
                viewers: viewers, http: http, base: base, token: token, executionID: executionID.id,
                firstSeq: nextSeq, rate: options.rate, duration: options.duration,
                batchMilliseconds: options.batchMilliseconds,
                pid: pid)
            let underLoad = RequestCount(
                requests: await fake.requests().filter { matches($0, uuid: uuid) }.count,
                seconds: seconds(ContinuousClock.now - loadStart))
            let rssEnd = status(pid, "VmRSS")
            let peak = status(pid, "VmHWM")
            let openAtEnd = viewers.filter(\.isOpen).count

            report(
                options: options, baseline: baseline, load: load, one: oneViewer, many: manyViewers,
                underLoad: underLoad,
                rss: (rssBefore, rssIdle, rssEnd, peak), rampSeconds: rampSeconds, openAtEnd: openAtEnd)
            // The peers run alone: Pipewright and its viewers are gone first.
            for viewer in viewers { viewer.close() }
            viewers = []
            await server?.stop()
            server = nil
            var runs = [
                ServerRun(
                    name: "Pipewright", load: load, connectSeconds: rampSeconds, connected: options.viewers,
                    rssBefore: rssBefore, rssEnd: rssEnd, openAtEnd: openAtEnd)
            ]
            for mode in options.peers {
                runs.append(
                    try await runPeer(mode, options: options, work: work, http: http, viewerGroup: viewerGroup))
            }
            if runs.count > 1 { compare(runs, options: options) }
        } catch {
            print("realtime benchmark failed: \(error)")
            if let log = try? String(contentsOfFile: work + "/service.log", encoding: .utf8), !log.isEmpty {
                print("service log (last 2,000 characters):\n\(log.suffix(2_000))")
            }
            for viewer in viewers { viewer.close() }
            await server?.stop()
            try? await http.shutdown()
            try? await viewerGroup.shutdownGracefully()
            try? await producerGroup.shutdownGracefully()
            try? await fake.stop()
            exit(1)
        }
        for viewer in viewers { viewer.close() }
        await server?.stop()
        try await http.shutdown()
        try await viewerGroup.shutdownGracefully()
        try await producerGroup.shutdownGracefully()
        try await fake.stop()
    }

    /// Waits (30 s at most) until `base`/health answers 200; else fails with the end of `log`.
    static func waitForHealth(base: String, name: String, log: String) async throws {
        for _ in 0..<300 {
            try await Task.sleep(for: .milliseconds(100))
            if (try? await request("GET", "\(base)/health", token: nil, body: nil).0) == 200 { return }
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw Failure("\(name) did not start; log (last 2,000 characters): \(text.suffix(2_000))")
    }

    /// Opens `viewers` (50 handshakes in flight at a time) and returns once every one is subscribed.
    static func connect(
        _ viewers: [Viewer], url: String, token: String, executionID: Int, afterSeq: Int, group: any EventLoopGroup
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var started = 0
            for viewer in viewers {
                if started >= 50 { try await tasks.next() }
                tasks.addTask {
                    try await viewer.open(
                        url: url, token: token, executionID: executionID, afterSeq: afterSeq, group: group)
                }
                started += 1
            }
            try await tasks.waitForAll()
        }
    }

    // MARK: - Peers (issue 16 item 8)

    /// The peer server's fan-out (Benchmarks/realtime-peer/peer_server.py `--mode`).
    enum PeerMode: String, CaseIterable {
        /// Every ingested chunk is emitted to the room as it is read.
        case plain
        /// Queued chunks are merged and emitted once for all viewers.
        case merge
    }

    /// What one server did under the load, for the comparison table.
    struct ServerRun {
        var name: String
        var load: PhaseResult
        var connectSeconds: Double
        var connected: Int
        var rssBefore: Int
        var rssEnd: Int
        var openAtEnd: Int
    }

    /// The repository root: the first folder above the benchmark binary (or the working directory) that has
    /// Benchmarks/realtime-peer/peer_server.py.
    static func repositoryRoot() throws -> String {
        var candidates = [FileManager.default.currentDirectoryPath]
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(url.path)
            url.deleteLastPathComponent()
        }
        for folder in candidates
        where FileManager.default.fileExists(atPath: folder + "/Benchmarks/realtime-peer/peer_server.py") {
            return folder
        }
        throw Failure("Benchmarks/realtime-peer/peer_server.py not found; run from the repository root")
    }

    /// `.build/bench-venv` with the pinned requirements, created (`python3 -m venv`, pip from PyPI) when
    /// missing or when requirements.txt changed; returns its python.
    static func peerPython(root: String) throws -> String {
        let venv = root + "/.build/bench-venv"
        let requirements = root + "/Benchmarks/realtime-peer/requirements.txt"
        let stamp = venv + "/requirements.installed"
        let wanted = try String(contentsOfFile: requirements, encoding: .utf8)
        let python = venv + "/bin/python"
        if FileManager.default.isExecutableFile(atPath: python),
            (try? String(contentsOfFile: stamp, encoding: .utf8)) == wanted
        {
            return python
        }
        print("installing the peer server's packages into \(venv) (pip, PyPI)…")
        let (created, createOutput) = try run("/usr/bin/env", ["python3", "-m", "venv", venv], environment: [:])
        guard created == 0 else { throw Failure("python3 -m venv failed: \(createOutput)") }
        let (installed, installOutput) = try run(
            python, ["-m", "pip", "install", "--quiet", "-r", requirements], environment: [:])
        guard installed == 0 else { throw Failure("pip install failed: \(installOutput.suffix(2_000))") }
        try wanted.write(toFile: stamp, atomically: true, encoding: .utf8)
        return python
    }

    /// Runs one peer mode: start, connect the viewers, the same load phase, RSS; then stops it.
    static func runPeer(
        _ mode: PeerMode, options: Options, work: String, http: HTTPClient, viewerGroup: any EventLoopGroup
    ) async throws -> ServerRun {
        let root = try repositoryRoot()
        let python = try peerPython(root: root)
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let token = "pw_peer" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let log = work + "/peer-\(mode.rawValue).log"
        let peer = try await BenchChild.start(
            python,
            [root + "/Benchmarks/realtime-peer/peer_server.py", "--port", String(port), "--mode", mode.rawValue],
            environment: ["PEER_TOKEN": token], log: log)
        let pid = peer.pid
        do {
            let run = try await measurePeer(
                mode, pid: pid, port: port, base: base, token: token, log: log, options: options, http: http,
                viewerGroup: viewerGroup)
            await peer.stop()
            return run
        } catch {
            await peer.stop()
            throw error
        }
    }

    /// The peer phase itself: health, connect + subscribe all viewers, the load phase, RSS.
    static func measurePeer(
        _ mode: PeerMode, pid: Int32, port: Int, base: String, token: String, log: String, options: Options,
        http: HTTPClient, viewerGroup: any EventLoopGroup
    ) async throws -> ServerRun {
        let viewers = (0..<options.viewers).map { Viewer(index: $0) }
        do {
            try await waitForHealth(base: base, name: "peer \(mode)", log: log)
            let rssBefore = status(pid, "VmRSS")
            let url = "ws://127.0.0.1:\(port)/socket.io/?EIO=4&transport=websocket"
            let start = ContinuousClock.now
            try await connect(viewers, url: url, token: token, executionID: 1, afterSeq: 0, group: viewerGroup)
            let connectSeconds = seconds(ContinuousClock.now - start)
            print(
                "peer \(mode.rawValue) (pid \(pid)): \(options.viewers) viewers subscribed in \(format(connectSeconds, 2)) s; "
                    + "RSS \(mb(rssBefore)) → \(mb(status(pid, "VmRSS")))")
            let load = try await loadPhase(
                viewers: viewers, http: http, base: base, token: token, executionID: 1, firstSeq: 1, rate: options.rate,
                duration: options.duration, batchMilliseconds: options.batchMilliseconds, pid: pid)
            let rssEnd = status(pid, "VmRSS")
            let openAtEnd = viewers.filter(\.isOpen).count
            for viewer in viewers { viewer.close() }
            return ServerRun(
                name: "peer \(mode.rawValue)", load: load, connectSeconds: connectSeconds, connected: options.viewers,
                rssBefore: rssBefore, rssEnd: rssEnd, openAtEnd: openAtEnd)
        } catch {
            for viewer in viewers { viewer.close() }
            throw error
        }
    }

    /// Pipewright beside the peers: latency, CPU per delivered line, connect time, RSS, and the ratios.
    static func compare(_ runs: [ServerRun], options: Options) {
        guard let pipewright = runs.first else { return }
        let n = options.viewers
        func ms(_ value: Double) -> String { "\(format(value, value < 10 ? 2 : 1)) ms" }
        func delivered(_ run: ServerRun) -> Int { run.load.latencies.count }
        func cpuPerLine(_ run: ServerRun) -> Double { run.load.serviceCPU / Double(max(delivered(run), 1)) * 1e6 }
        func connectMs(_ run: ServerRun) -> Double { run.connectSeconds * 1000 }
        func growth(_ run: ServerRun) -> Double { Double(run.rssEnd - run.rssBefore) / 1024 }
        let measures: [(String, (ServerRun) -> Double, (Double) -> String, String, Bool)] = [
            ("p50", { $0.load.percentile(0.5) }, ms, "-", false),
            ("p99", { $0.load.percentile(0.99) }, ms, "< 50 ms", true),
            ("max", { $0.load.maxMilliseconds }, ms, "-", false),
            ("CPU per delivered line", cpuPerLine, { "\(format($0, 2)) µs" }, "-", false),
            ("connect + subscribe, all viewers", connectMs, ms, n >= 1_000 ? "< 1 s" : "-", true),
            ("RSS growth (before viewers → end)", growth, { "\(format($0, 1)) MB" }, "< 100 MB", true),
            ("RSS at end", { Double($0.rssEnd) / 1024 }, { "\(format($0, 1)) MB" }, "-", false),
        ]
        var rows: [[String]] = [
            ["measure"] + runs.map(\.name) + runs.dropFirst().map { "Pipewright/\($0.name)" } + ["goal (Pipewright)"]
        ]
        for (label, value, render, goal, _) in measures {
            let values = runs.map(value)
            let ratios = values.dropFirst().map { format(values[0] / $0, 2) + "×" }
            rows.append([label] + values.map(render) + ratios + [goal])
        }
        rows.append(
            ["lines delivered / lost / dup / out of order"]
                + runs.map {
                    "\(delivered($0)) / \($0.load.lost) / \($0.load.duplicates) / \($0.load.outOfOrder)"
                } + runs.dropFirst().map { _ in "-" } + ["all / 0 / 0 / 0"])
        rows.append(
            ["logs frames received"] + runs.map { "\($0.load.frames)" } + runs.dropFirst().map { _ in "-" } + ["-"])
        rows.append(
            ["service CPU during phase"]
                + runs.map {
                    "\(format($0.load.serviceCPU / ($0.load.sendSeconds + $0.load.drainSeconds) * 100, 0)) % of a core"
                } + runs.dropFirst().map { _ in "-" } + ["-"])
        rows.append(
            ["viewers still open at end"] + runs.map { "\($0.openAtEnd) of \($0.connected)" }
                + runs.dropFirst().map { _ in "-" } + ["all"])
        print("")
        print(
            "Pipewright vs python-socketio 5 peer (aiohttp + uvloop, one process): \(n) viewers × \(options.rate) lines/s "
                + "for \(format(options.duration, 0)) s, \(options.batchMilliseconds) ms batches, same viewers and producer"
        )
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, text in
                text + String(repeating: " ", count: max(0, widths[column] - text.count))
            }
            print("  " + cells.joined(separator: "  "))
        }
        let p99 = pipewright.load.percentile(0.99)
        print(
            "goals: p99 \(ms(p99)) \(p99 < 50 ? "ok" : "MISSED"); lost \(pipewright.load.lost) "
                + "\(pipewright.load.lost == 0 ? "ok" : "MISSED"); connect \(format(pipewright.connectSeconds, 2)) s "
                + "\(n < 1_000 || pipewright.connectSeconds < 1 ? "ok" : "MISSED"); RSS growth \(format(growth(pipewright), 1)) MB "
                + "\(growth(pipewright) < 100 ? "ok" : "MISSED")")
    }

    // MARK: - Setup through the API

    static func createRunningExecution(
        base: String, token: String, email: String, bitbucketToken: String, fake: FakeBitbucketServer
    )
        async throws -> (id: Int, uuid: String)
    {
        var ids: [Int] = []
        for (path, payload) in [
            (
                "api/connections",
                [
                    "name": "acme", "workspace": "acme",
                    "auth": ["type": "api_token", "email": email, "token": bitbucketToken],
                ]
            ),
            ("api/ssh-keys", ["name": "deploy", "key_type": "ed25519"]),
            ("api/servers", ["host": "203.0.113.10", "username": "deploy"]),
        ] as [(String, [String: Any])] {
            let (status, json) = try await request("POST", "\(base)/\(path)", token: token, body: payload)
            guard status == 201 || status == 200, let id = json["id"] as? Int else {
                throw Failure("POST \(path): \(status) \(json)")
            }
            ids.append(id)
        }
        let pipeline: [String: Any] = [
            "name": "web", "connection_id": ids[0], "repo_slug": "web",
            "deploy": ["server_ids": [ids[2]], "ssh_key_id": ids[1], "deploy_path": "/srv/web"],
        ]
        let (pipelineStatus, pipelineJSON) = try await request(
            "POST", "\(base)/api/pipelines", token: token, body: pipeline)
        guard let pipelineID = pipelineJSON["id"] as? Int else {
            throw Failure("POST api/pipelines: \(pipelineStatus) \(pipelineJSON)")
        }
        let (triggerStatus, triggerJSON) = try await request(
            "POST", "\(base)/api/pipelines/\(pipelineID)/trigger", token: token, body: ["branch": "main"])
        guard triggerStatus == 202, let executionID = triggerJSON["id"] as? Int else {
            throw Failure("trigger: \(triggerStatus) \(triggerJSON)")
        }
        var uuid: String?
        for _ in 0..<200 where uuid == nil {
            try await Task.sleep(for: .milliseconds(50))
            let (_, execution) = try await request(
                "GET", "\(base)/api/executions/\(executionID)", token: token, body: nil)
            uuid = (execution["bitbucket"] as? [String: Any])?["uuid"] as? String
        }
        guard let uuid else { throw Failure("the trigger never reached the fake Bitbucket") }
        // One tick: step "Build" IN_PROGRESS; the fake never moves on its own, so the run stays there.
        _ = await fake.advancePipeline(uuid)
        var status = ""
        for _ in 0..<200 where status != "BUILDING" {
            try await Task.sleep(for: .milliseconds(50))
            status =
                (try await request("GET", "\(base)/api/executions/\(executionID)", token: token, body: nil).1["status"]
                    as? String) ?? ""
        }
        guard status == "BUILDING" else { throw Failure("execution never became BUILDING (\(status))") }
        return (executionID, uuid)
    }

    // MARK: - Bitbucket request rate

    struct RequestCount {
        var requests: Int
        var seconds: Double
        var perMinute: Double { Double(requests) / seconds * 60 }
    }

    /// Whether the fake's request is about run `uuid` (pipeline, its steps or a step log).
    static func matches(_ request: FakeRequest, uuid: String) -> Bool {
        let bare = uuid.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased()
        return request.path.lowercased().contains(bare)
    }

    static func countRequests(fake: FakeBitbucketServer, uuid: String, window: Double) async throws -> RequestCount {
        await fake.clearRequests()
        let start = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(Int64(window * 1000)))
        let count = await fake.requests().filter { matches($0, uuid: uuid) }.count
        return RequestCount(requests: count, seconds: seconds(ContinuousClock.now - start))
    }

    // MARK: - Load phase

    struct PhaseResult {
        var viewers: Int
        var lines: Int
        var lastSeq: Int
        var highestStoredSeq: Int
        var sendSeconds: Double
        var drainSeconds: Double
        /// Sorted latencies in µs over all viewers and lines (first delivery of each line to each viewer).
        var latencies: [Int32]
        /// Per line, sorted: the latency of the first viewer that got it (the path ingest → store → hub →
        /// one socket, without the fan-out) and of the last one (only lines every viewer got).
        var firstViewer: [Int32]
        var lastViewer: [Int32]
        var lost: Int
        var duplicates: Int
        var outOfOrder: Int
        var logErrors: Int
        var firstLogError: String?
        var serviceCPU: Double
        var benchCPU: Double
        /// `pipeline_logs` frames the viewers received.
        var frames: Int
        /// The service's syscalls and context switches during the phase.
        var counters: Counters
        /// Part of the service's CPU spent in the kernel.
        var systemShare: Double
        /// The service's four busiest threads during the phase, "name NN%" of a core.
        var busiestThreads: String

        func percentile(_ p: Double) -> Double { Self.percentile(p, of: latencies) }

        /// Nearest-rank percentile of sorted µs values, in ms.
        static func percentile(_ p: Double, of sorted: [Int32]) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1000
        }
        var maxMilliseconds: Double { latencies.last.map { Double($0) / 1000 } ?? .nan }
    }

    static func ownCPUSeconds() -> Double { cpuSeconds(getpid()) }

    static func loadPhase(
        viewers: [Viewer], http: HTTPClient, base: String, token: String, executionID: Int, firstSeq: Int, rate: Int,
        duration: Double, batchMilliseconds: Int, pid: Int32
    ) async throws -> PhaseResult {
        let total = max(1, Int(Double(rate) * duration))
        let lastSeq = firstSeq + total - 1
        for viewer in viewers { viewer.startRecording(first: firstSeq, last: lastSeq) }
        let cpuStart = (cpuSeconds(pid), ownCPUSeconds())
        let countersStart = Counters.of(pid)
        let splitStart = cpuSplit(pid)
        let threadsStart = threadCPU(pid)
        let sendStart = ContinuousClock.now
        let produced = try await produce(
            http: http, base: base, token: token, executionID: executionID, firstSeq: firstSeq, total: total,
            rate: rate,
            batch: .milliseconds(batchMilliseconds))
        let sendSeconds = seconds(ContinuousClock.now - sendStart)
        guard produced.stored == total else {
            throw Failure("the service stored \(produced.stored) of \(total) lines")
        }
        // Drain: until every viewer has every line, at most 20 s after the producer finished.
        let drainStart = ContinuousClock.now
        while ContinuousClock.now - drainStart < .seconds(20), viewers.contains(where: { !$0.isComplete }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let drainSeconds = seconds(ContinuousClock.now - drainStart)
        let cpu = (cpuSeconds(pid) - cpuStart.0, ownCPUSeconds() - cpuStart.1)
        let counters = Counters.of(pid) - countersStart
        let splitEnd = cpuSplit(pid)
        let phaseSeconds = seconds(ContinuousClock.now - sendStart)
        let busiest = threadCPU(pid).map { ($0.key, ($0.value - (threadsStart[$0.key] ?? 0)) / phaseSeconds) }
            .sorted { $0.1 > $1.1 }.prefix(4)
            .map { "\($0.0.split(separator: "/").first ?? "") \(format($0.1 * 100, 0))%" }.joined(separator: ", ")
        let systemShare =
            (splitEnd.system - splitStart.system)
            / max(0.001, (splitEnd.user + splitEnd.system) - (splitStart.user + splitStart.system))
        var frames = 0
        var latencies: [Int32] = []
        latencies.reserveCapacity(total * viewers.count)
        var firstViewer = [Int32](repeating: .max, count: total)
        var lastViewer = [Int32](repeating: .min, count: total)
        var everyone = [Bool](repeating: true, count: total)
        var lost = 0
        var duplicates = 0
        var outOfOrder = 0
        var logErrors = 0
        var firstLogError: String?
        for viewer in viewers {
            let recording = viewer.stopRecording()
            for (slot, latency) in recording.latencies.enumerated() {
                if latency == Viewer.notReceived {
                    everyone[slot] = false
                    continue
                }
                latencies.append(latency)
                firstViewer[slot] = min(firstViewer[slot], latency)
                lastViewer[slot] = max(lastViewer[slot], latency)
            }
            lost += recording.counts.lazy.filter { $0 == 0 }.count
            duplicates += recording.counts.reduce(0) { $0 + max(0, Int($1) - 1) }
            outOfOrder += recording.outOfOrder
            frames += recording.frames
            logErrors += recording.logErrors
            if firstLogError == nil { firstLogError = recording.firstLogError }
        }
        latencies.sort()
        let firstSorted = firstViewer.filter { $0 != .max }.sorted()
        let lastSorted = zip(lastViewer, everyone).filter { $0.1 }.map(\.0).sorted()
        return PhaseResult(
            viewers: viewers.count, lines: total, lastSeq: lastSeq, highestStoredSeq: produced.highestSeq,
            sendSeconds: sendSeconds,
            drainSeconds: drainSeconds, latencies: latencies, firstViewer: firstSorted, lastViewer: lastSorted,
            lost: lost, duplicates: duplicates, outOfOrder: outOfOrder,
            logErrors: logErrors, firstLogError: firstLogError, serviceCPU: cpu.0, benchCPU: cpu.1, frames: frames,
            counters: counters, systemShare: systemShare,
            busiestThreads: busiest)
    }

    /// `pwb <seq> <sent wall ns> ` padded to about 100 bytes, one line of build output.
    static func line(seq: Int, sentNanos: Int64) -> String {
        let head = "pwb \(seq) \(sentNanos) "
        return head + String(repeating: "x", count: max(0, 99 - head.utf8.count)) + "\n"
    }

    /// Streams `total` lines at `rate` lines/s to the ingestion endpoint in one chunked request, a chunk
    /// every `batch`; returns what the service reports (`lines_stored`, `highest_seq`).
    static func produce(
        http: HTTPClient, base: String, token: String, executionID: Int, firstSeq: Int, total: Int, rate: Int,
        batch: Duration
    ) async throws -> (stored: Int, highestSeq: Int) {
        let (chunks, continuation) = AsyncStream<ByteBuffer>.makeStream()
        var request = HTTPClientRequest(url: "\(base)/api/executions/\(executionID)/logs?step=\(step)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        request.body = .stream(chunks, length: .unknown)
        let duration = Double(total) / Double(rate)
        let response = Task {
            let response = try await http.execute(request, timeout: .seconds(Int64(duration) + 120))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (response.status.code, String(buffer: body))
        }
        let start = ContinuousClock.now
        var sent = 0
        var tick = 0
        // Bounded: `due` reaches `total` once `duration` has passed; the time cap guards a stalled clock.
        while sent < total, ContinuousClock.now - start < .seconds(duration + 30) {
            tick += 1
            try await Task.sleep(until: start + batch * tick, clock: .continuous)
            let elapsed = seconds(ContinuousClock.now - start)
            let due = min(total, Int(elapsed * Double(rate)))
            guard due > sent else { continue }
            let now = wallNanos()
            var text = ""
            text.reserveCapacity((due - sent) * 100)
            for index in sent..<due { text += line(seq: firstSeq + index, sentNanos: now) }
            continuation.yield(ByteBuffer(string: text))
            sent = due
        }
        continuation.finish()
        let (status, body) = try await response.value
        guard status == 200,
            let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let stored = json["lines_stored"] as? Int, let highest = json["highest_seq"] as? Int
        else { throw Failure("ingestion answered \(status): \(body.prefix(300))") }
        return (stored, highest)
    }

    // MARK: - Report

    static func mb(_ kib: Int) -> String { "\(format(Double(kib) / 1024, 1)) MB" }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    static func report(
        options: Options, baseline: PhaseResult, load: PhaseResult, one: RequestCount, many: RequestCount,
        underLoad: RequestCount,
        rss: (before: Int, idle: Int, end: Int, peak: Int), rampSeconds: Double, openAtEnd: Int
    ) {
        let n = options.viewers
        var rows: [(String, String, String, String, String)] = []
        func verdict(_ ok: Bool) -> String { ok ? "ok" : "MISSED" }
        func ms(_ value: Double) -> String { "\(format(value, 2)) ms" }
        for (label, p) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)] {
            let goal = label == "p99" ? "< 50 ms" : "-"
            let ratio = load.percentile(p) / baseline.percentile(p)
            rows.append(
                (
                    "delivery latency \(label)", ms(load.percentile(p)), ms(baseline.percentile(p)), goal,
                    label == "p99"
                        ? "\(format(ratio, 2))× baseline, \(verdict(load.percentile(p) < 50))"
                        : "\(format(ratio, 2))× baseline"
                ))
        }
        rows.append(("delivery latency max", ms(load.maxMilliseconds), ms(baseline.maxMilliseconds), "-", "-"))
        func spread(_ phase: PhaseResult) -> String {
            "first \(ms(PhaseResult.percentile(0.5, of: phase.firstViewer))) / \(ms(PhaseResult.percentile(0.99, of: phase.firstViewer))), "
                + "last \(ms(PhaseResult.percentile(0.5, of: phase.lastViewer))) / \(ms(PhaseResult.percentile(0.99, of: phase.lastViewer)))"
        }
        rows.append(("per line: first / last viewer p50 / p99", spread(load), "-", "-", "fan-out spread"))
        rows.append(
            (
                "lines delivered (viewers × lines)", "\(load.latencies.count) of \(load.lines * n)",
                "\(baseline.latencies.count) of \(baseline.lines)",
                "all", verdict(load.latencies.count == load.lines * n)
            ))
        rows.append(
            (
                "lines lost (missing 20 s after the last send)", "\(load.lost)", "\(baseline.lost)", "0",
                verdict(load.lost == 0 && baseline.lost == 0)
            ))
        rows.append(
            (
                "duplicates / out of order", "\(load.duplicates) / \(load.outOfOrder)",
                "\(baseline.duplicates) / \(baseline.outOfOrder)", "0 / 0",
                verdict(load.duplicates + load.outOfOrder + baseline.duplicates + baseline.outOfOrder == 0)
            ))
        rows.append(
            (
                "log_error events (e.g. slow_consumer)", "\(load.logErrors)", "\(baseline.logErrors)", "0",
                verdict(load.logErrors + baseline.logErrors == 0)
            ))
        rows.append(
            (
                "producer send time / drain after",
                "\(format(load.sendSeconds, 2)) s / \(format(load.drainSeconds, 2)) s",
                "\(format(baseline.sendSeconds, 2)) s / \(format(baseline.drainSeconds, 2)) s", "-", "-"
            ))
        rows.append(
            (
                "service CPU during phase",
                "\(format(load.serviceCPU / (load.sendSeconds + load.drainSeconds) * 100, 0)) % of a core",
                "\(format(baseline.serviceCPU / (baseline.sendSeconds + baseline.drainSeconds) * 100, 0)) % of a core",
                "-", "-"
            ))
        func perFrame(_ phase: PhaseResult) -> String {
            let frames = Double(max(phase.frames, 1))
            return "\(format(phase.serviceCPU / frames * 1e6, 1)) µs (\(format(phase.systemShare * 100, 0)) % sys), "
                + "\(format(Double(phase.counters.writeCalls) / frames, 2)) wr, \(format(Double(phase.counters.readCalls) / frames, 2)) rd, "
                + "\(format(Double(phase.counters.contextSwitches) / frames, 2)) cs; \(phase.frames) frames"
        }
        rows.append(("service's busiest threads", load.busiestThreads, baseline.busiestThreads, "-", "-"))
        rows.append(("service CPU, syscalls, ctx sw. per logs frame", perFrame(load), perFrame(baseline), "-", "-"))
        rows.append(
            (
                "bench (viewers+producer) CPU",
                "\(format(load.benchCPU / (load.sendSeconds + load.drainSeconds) * 100, 0)) % of a core",
                "\(format(baseline.benchCPU / (baseline.sendSeconds + baseline.drainSeconds) * 100, 0)) % of a core",
                "-", "-"
            ))
        let growth = rss.end - rss.before
        rows.append(
            (
                "service RSS growth (before viewers → end)",
                "\(mb(growth)) (\(mb(rss.before)) → \(mb(rss.end)); \(n) idle: \(mb(rss.idle)); peak \(mb(rss.peak)))",
                "-", "< 100 MB", verdict(Double(growth) / 1024 < 100)
            ))
        rows.append(
            (
                "viewers connected+subscribed / still open at end",
                "\(n) in \(format(rampSeconds, 2)) s / \(openAtEnd)", "-", "\(n) (in < 1 s at 1,000)",
                verdict(openAtEnd == n && (n < 1_000 || rampSeconds < 1))
            ))
        // One poll's worth of requests (pipeline, steps, step log), the noise of a window boundary.
        let polls = one.seconds / pollIntervalSeconds
        let perPoll = Int((Double(one.requests) / polls).rounded(.up))
        let perPollPerMinute = Double(perPoll) / many.seconds * 60
        let ratio = many.perMinute / one.perMinute
        let identical = abs(many.requests - one.requests) <= perPoll
        let manyText = "\(format(many.perMinute, 1)) (\(many.requests) in \(format(many.seconds, 1)) s)"
        let oneText = "1 viewer: \(format(one.perMinute, 1)) (\(one.requests) in \(format(one.seconds, 1)) s)"
        let goalText = "identical (±1 poll = ±\(format(perPollPerMinute, 1)))"
        rows.append(
            (
                "Bitbucket requests/min, \(n) viewers", manyText, oneText, goalText,
                "ratio \(format(ratio, 2)), \(verdict(identical))"
            ))
        rows.append(
            (
                "Bitbucket requests/min during the load phase",
                "\(format(underLoad.perMinute, 1)) (\(underLoad.requests) in \(format(underLoad.seconds, 1)) s)",
                "1 viewer: \(format(one.perMinute, 1))", "identical",
                "ratio \(format(underLoad.perMinute / one.perMinute, 2))"
            ))
        if let error = load.firstLogError ?? baseline.firstLogError { print("first log_error frame: \(error)") }
        print("")
        print(
            "realtime: \(n) viewers × \(options.rate) lines/s for \(format(options.duration, 0)) s (baseline: 1 viewer × \(options.rate) lines/s for \(format(options.baselineDuration, 0)) s), poll interval \(format(pollIntervalSeconds, 0)) s"
        )
        let headers = ("measure", "\(n) viewers", "baseline", "goal", "ratio / verdict")
        let all: [(String, String, String, String, String)] = [headers] + rows
        let widths: [Int] = [
            all.map { $0.0.count }.max() ?? 0, all.map { $0.1.count }.max() ?? 0,
            all.map { $0.2.count }.max() ?? 0, all.map { $0.3.count }.max() ?? 0,
        ]
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        for row in all {
            print(
                "  \(pad(row.0, widths[0]))  \(pad(row.1, widths[1]))  \(pad(row.2, widths[2]))  \(pad(row.3, widths[3]))  \(row.4)"
            )
        }
    }
}

/// One Socket.IO viewer: a WebSocket speaking Engine.IO v4 / Socket.IO v5
/// (https://socket.io/docs/v4/engine-io-protocol/, https://socket.io/docs/v4/socket-io-protocol/), which
/// authenticates with `40{"token"}`, subscribes to one execution with an ack, answers pings and records
/// which benchmark lines arrive and how late. Its callbacks run on the socket's event loop; the state
/// sits behind a mutex because the benchmark reads it from other tasks.
final class Viewer: Sendable {
    let index: Int

    struct Recording {
        var first = 0
        var last = -1
        /// Deliveries per line number (index = number − first).
        var counts: [UInt8] = []
        /// Per line (index = number − first), receive − send in µs of its first delivery, or `notReceived`.
        var latencies: [Int32] = []
        var unique = 0
        var highest = 0
        var outOfOrder = 0
        var logErrors = 0
        var firstLogError: String?
        var frames = 0
    }

    private struct State {
        var socket: WebSocket?
        var token = ""
        var executionID = 0
        var afterSeq = 0
        var subscribed = false
        var closed = false
        var waiter: CheckedContinuation<Void, any Error>?
        var recording = Recording()
    }

    private let state = Mutex(State())
    static let notReceived: Int32 = -1

    init(index: Int) { self.index = index }

    var isOpen: Bool { state.withLock { $0.subscribed && !$0.closed } }
    var isComplete: Bool { state.withLock { $0.closed || $0.recording.unique == $0.recording.counts.count } }

    /// Connects, authenticates and subscribes; returns once the subscription is acknowledged (30 s at most).
    func open(url: String, token: String, executionID: Int, afterSeq: Int, group: any EventLoopGroup) async throws {
        state.withLock {
            $0.token = token
            $0.executionID = executionID
            $0.afterSeq = afterSeq
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(30))
            self.fail(RealtimeBench.Failure("viewer \(self.index): no subscription ack within 30 s"))
        }
        defer { timeout.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLock { $0.waiter = continuation }
            // The path as written: `URL.path` (used by `connect(to:)`) drops the trailing slash of
            // `/socket.io/`, which python-socketio's aiohttp route requires (404 without it).
            guard let parts = URLComponents(string: url), let host = parts.host else {
                fail(RealtimeBench.Failure("viewer \(index): bad URL \(url)"))
                return
            }
            WebSocket.connect(
                scheme: parts.scheme ?? "ws", host: host, port: parts.port ?? 80, path: parts.percentEncodedPath,
                query: parts.percentEncodedQuery,
                configuration: WebSocketClient.Configuration(maxFrameSize: 1 << 22), on: group
            ) { socket in
                self.state.withLock { $0.socket = socket }
                socket.onText { socket, text in self.receive(socket, text) }
                socket.onClose.whenComplete { _ in
                    self.state.withLock { $0.closed = true }
                    self.fail(
                        RealtimeBench.Failure("viewer \(self.index): connection closed before the subscription ack"))
                }
            }.whenFailure { error in self.fail(error) }
        }
    }

    func close() {
        let socket = state.withLock { state -> WebSocket? in
            state.closed = true
            return state.socket
        }
        _ = socket?.close()
    }

    func startRecording(first: Int, last: Int) {
        state.withLock { state in
            state.recording = Recording(first: first, last: last, counts: Array(repeating: 0, count: last - first + 1))
            state.recording.latencies = Array(repeating: Self.notReceived, count: last - first + 1)
            state.recording.highest = first - 1
        }
    }

    func stopRecording() -> Recording {
        state.withLock { state in
            defer { state.recording = Recording() }
            return state.recording
        }
    }

    private func fail(_ error: any Error) {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: error)
    }

    private func succeed() {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            state.subscribed = true
            return state.waiter
        }
        waiter?.resume()
    }

    /// One text frame from the server.
    private func receive(_ socket: WebSocket, _ text: String) {
        let now = RealtimeBench.wallNanos()
        if text.hasPrefix("42[\"pipeline_logs\"") {
            record(Self.benchLines(in: text), receivedAt: now)
        } else if text == "2" {
            socket.send("3")
        } else if text.hasPrefix("0{") {
            let token = state.withLock { $0.token }
            socket.send("40{\"token\":\"\(token)\"}")
        } else if text.hasPrefix("40") {
            let (id, after) = state.withLock { ($0.executionID, $0.afterSeq) }
            socket.send("421[\"subscribe_pipeline_status\",{\"execution_id\":\(id),\"after_seq\":\(after)}]")
        } else if text.hasPrefix("431[") {
            if text.contains("\"ok\":true") {
                succeed()
            } else {
                fail(RealtimeBench.Failure("viewer \(index): subscription refused: \(text.prefix(300))"))
            }
        } else if text.hasPrefix("44") {
            fail(RealtimeBench.Failure("viewer \(index): connect refused: \(text.prefix(300))"))
        } else if text.hasPrefix("42[\"log_error\"") {
            state.withLock { state in
                state.recording.logErrors += 1
                if state.recording.firstLogError == nil { state.recording.firstLogError = String(text.prefix(300)) }
            }
        }
    }

    private func record(_ lines: [(seq: Int, sent: Int64)], receivedAt now: Int64) {
        state.withLock { state in
            state.recording.frames += 1
            for (seq, sent) in lines {
                guard seq >= state.recording.first, seq <= state.recording.last else { continue }
                let slot = seq - state.recording.first
                if state.recording.counts[slot] == 0 { state.recording.unique += 1 }
                if state.recording.counts[slot] < 255 { state.recording.counts[slot] += 1 }
                if seq <= state.recording.highest { state.recording.outOfOrder += 1 }
                state.recording.highest = max(state.recording.highest, seq)
                if state.recording.latencies[slot] == Self.notReceived {
                    state.recording.latencies[slot] = Int32(clamping: max(0, now - sent) / 1_000)
                }
            }
        }
    }

    /// `(number, sent ns)` of every benchmark line (`"text":"pwb <n> <ns> …`) in a `pipeline_logs` frame.
    static func benchLines(in text: String) -> [(seq: Int, sent: Int64)] {
        var text = text
        return text.withUTF8 { bytes -> [(seq: Int, sent: Int64)] in
            let marker = Array("\"text\":\"pwb ".utf8)
            var found: [(seq: Int, sent: Int64)] = []
            var index = 0
            let end = bytes.count - marker.count
            while index <= end {
                if bytes[index] == marker[0] {
                    var matched = true
                    for offset in 1..<marker.count where bytes[index + offset] != marker[offset] {
                        matched = false
                        break
                    }
                    if matched {
                        var cursor = index + marker.count
                        func number() -> Int64 {
                            var value: Int64 = 0
                            while cursor < bytes.count, bytes[cursor] >= 48, bytes[cursor] <= 57 {
                                value = value * 10 + Int64(bytes[cursor] - 48)
                                cursor += 1
                            }
                            return value
                        }
                        let seq = number()
                        cursor += 1
                        let sent = number()
                        found.append((Int(seq), sent))
                        index = cursor
                        continue
                    }
                }
                index += 1
            }
            return found
        }
    }
}
