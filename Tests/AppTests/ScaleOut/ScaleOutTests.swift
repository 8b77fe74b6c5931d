import AsyncHTTPClient
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Several real `pipewright serve` processes on one PostgreSQL database (docs/scaling.md): one monitor per
/// running execution whatever the number of instances, takeover after `kill -9` of its holder with a
/// complete log, and live lines on an instance that does not monitor the execution.
@Suite(.serialized) struct ScaleOutTests {
    /// The text of fake log line `number`.
    static func line(_ number: Int) -> String {
        "line \(number) of the build \(String(repeating: "=", count: number % 40))\n"
    }

    /// Appends lines `range` to the run's first step in the fake, `perBatch` at a time with `pause` between.
    static func append(
        _ range: ClosedRange<Int>, to uuid: String, fake: FakeBitbucketProcess, perBatch: Int = 10,
        pause: Duration = .milliseconds(50)
    ) async throws {
        for start in stride(from: range.lowerBound, through: range.upperBound, by: perBatch) {
            let text = (start...min(start + perBatch - 1, range.upperBound)).map(line).joined()
            try fake.command("append", ["uuid": uuid, "step": 0, "text": text])
            try await Task.sleep(for: pause)
        }
    }

    @Test func oneRunningExecution_threeInstances_onePoller_andKillNineTakeoverKeepsTheLogWhole() async throws {
        let lease = 2.0
        let cluster = try ScaleOutCluster(lease: lease)
        defer { cluster.stop() }
        try await withHTTPClient { client in
            try await cluster.start(["a", "b", "c"], client: client)
            let (id, uuid) = try await cluster.runningExecution(via: "a", client: client)
            try await Self.append(1...100, to: uuid, fake: cluster.fake)

            // Three instances, one running execution: one instance reads its steps and log.
            let before = try cluster.fake.pollers(of: uuid).requests
            try await Task.sleep(for: .seconds(2 * lease))
            let watched = try cluster.fake.pollers(of: uuid, since: before).pollers
            #expect(watched.count == 1, "pollers: \(watched)")
            let holder = try #require(try cluster.leaseHolder(id), "no live lease for execution \(id)")
            #expect(watched.keys.first == "pipewright (instance \(holder))")

            // kill -9 of the holder while lines keep coming: another instance takes over within the lease.
            let appending = Task { try await Self.append(101...300, to: uuid, fake: cluster.fake) }
            try await Task.sleep(for: .milliseconds(300))
            let killedAt = ContinuousClock.now
            let requestsAtKill = try cluster.fake.pollers(of: uuid).requests
            try #require(cluster.instances[holder]).signal(SIGKILL)
            var successor: String?
            var claimedAfter: Duration = .zero
            while ContinuousClock.now - killedAt < .seconds(lease * 5) {
                if let current = try cluster.leaseHolder(id), current != holder {
                    successor = current
                    claimedAfter = ContinuousClock.now - killedAt
                    break
                }
                try await Task.sleep(for: .milliseconds(25))
            }
            let newHolder = try #require(successor, "no instance took execution \(id) over")
            var firstPollAfter: Duration?
            while firstPollAfter == nil, ContinuousClock.now - killedAt < .seconds(lease * 5) {
                let seen = try cluster.fake.pollers(of: uuid, since: requestsAtKill).pollers
                if seen["pipewright (instance \(newHolder))"] != nil { firstPollAfter = ContinuousClock.now - killedAt }
                try await Task.sleep(for: .milliseconds(25))
            }
            print(
                "scale-out: takeover after kill -9: lease claimed after \(claimedAfter), first poll by the new "
                    + "holder after \(firstPollAfter ?? .zero) (lease \(lease) s, heartbeat \(lease / 3) s)")
            // Generous bound: one lease period plus a heartbeat and a poll, on a loaded 2-core machine.
            #expect(claimedAfter < .seconds(lease * 2.5))
            try await appending.value
            try cluster.fake.command("complete", ["uuid": uuid])
            try await cluster.waitForStatus(id, ["SUCCESS"], via: newHolder, client: client)

            // The stored log is complete, in order, with no line twice — as every instance reads it.
            let expected = Array((1...300).map(Self.line).joined().utf8)
            for name in ["a", "b", "c"] where name != holder {
                let base = try #require(cluster.instances[name]).baseURL
                let stored = try await cluster.raw(client, base, "/api/executions/\(id)/logs/raw")
                #expect(
                    stored == expected, "log read through \(name): \(stored.count) bytes, expected \(expected.count)")
            }
            let after = try cluster.fake.pollers(of: uuid, since: requestsAtKill).pollers
            #expect(after.keys.filter { $0 != "pipewright (instance \(holder))" }.count == 1, "pollers: \(after)")
        }
    }

    @Test func gracefulShutdownOfTheHolder_handsTheExecutionToAnotherInstanceAtOnce() async throws {
        // A long lease: a takeover by lapse would take 20 s; the hand-back must not wait for it.
        let cluster = try ScaleOutCluster(lease: 20)
        defer { cluster.stop() }
        try await withHTTPClient { client in
            try await cluster.start(["a", "b"], client: client)
            let (id, uuid) = try await cluster.runningExecution(via: "a", client: client)
            try await Self.append(1...50, to: uuid, fake: cluster.fake)
            let holder = try #require(try cluster.leaseHolder(id))
            let other = holder == "a" ? "b" : "a"
            let stoppedAt = ContinuousClock.now
            try #require(cluster.instances[holder]).signal(SIGTERM)
            var taken: Duration?
            while taken == nil, ContinuousClock.now - stoppedAt < .seconds(15) {
                if try cluster.leaseHolder(id) == other { taken = ContinuousClock.now - stoppedAt }
                try await Task.sleep(for: .milliseconds(25))
            }
            print("scale-out: hand-back after SIGTERM: taken by the other instance after \(taken ?? .zero)")
            let after = try #require(taken, "execution \(id) was not taken over after a graceful shutdown")
            #expect(after < .seconds(10))
            try await Self.append(51...80, to: uuid, fake: cluster.fake)
            try cluster.fake.command("complete", ["uuid": uuid])
            try await cluster.waitForStatus(id, ["SUCCESS"], via: other, client: client)
            let base = try #require(cluster.instances[other]).baseURL
            let stored = try await cluster.raw(client, base, "/api/executions/\(id)/logs/raw")
            #expect(stored == Array((1...80).map(Self.line).joined().utf8))
        }
    }

    /// An instance whose ownership lock an offline command takes while the lock's connection is down drains
    /// and exits with status 1 and a clear message — it neither writes on beside the command nor crashes
    /// (docs/scaling.md "While running"); an instance that gets its lock back keeps serving.
    @Test func lostOwnershipLock_takenByAnOfflineCommand_stopsServeWithStatus1() async throws {
        let cluster = try ScaleOutCluster(lease: 5)
        defer { cluster.stop() }
        try await withHTTPClient { client in
            try await cluster.start(["a"], client: client)
            let instance = try #require(cluster.instances["a"])
            let terminate =
                "SELECT pg_terminate_backend(pid) FROM (SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' "
                + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) s"
            // The lock's session is killed, nothing else happens: the instance takes it back and serves on.
            try TestPostgres.psql(cluster.database.url, terminate)
            try await Task.sleep(for: .seconds(2))
            #expect(instance.process.isRunning)
            _ = try await cluster.api(client, instance.baseURL, .GET, "/api/ssh-keys")  // 2xx or the test fails
            // Killed again, and an offline command takes the database (the ownership key, "PIPEWRIG",
            // `DatabaseOwnership.lockKey`) before the instance is back.
            let command = Task {
                try TestPostgres.psql(
                    cluster.database.url,
                    terminate + "; SELECT pg_advisory_lock(\(Int64(0x5049_5045_5752_4947))); SELECT pg_sleep(4)")
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while instance.process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            _ = try? await command.value
            #expect(!instance.process.isRunning, "serve still runs beside the offline command")
            #expect(instance.process.terminationReason == .exit)
            #expect(instance.process.terminationStatus == 1)
            #expect(
                instance.log.contains("serve stopped: the database ownership lock was lost"),
                "\(instance.log.suffix(2_000))")
            #expect(!instance.log.contains("Assertion failed"))
        }
    }

    @Test func viewerOnB_monitorOnA_receivesEveryLineInOrder() async throws {
        let cluster = try ScaleOutCluster(lease: 3)
        defer { cluster.stop() }
        try await withHTTPClient { client in
            try await cluster.start(["a", "b"], client: client)
            let (id, uuid) = try await cluster.runningExecution(via: "a", client: client)
            let monitor = try #require(try cluster.leaseHolder(id))
            let other = monitor == "a" ? "b" : "a"
            let count = 400
            func viewer(_ name: String) throws -> PythonRealtimeClient {
                try PythonRealtimeClient([
                    "socketio", "--url", try #require(cluster.instances[name]).baseURL, "--token", cluster.token,
                    "--execution", "\(id)", "--until-seq", "\(count)", "--timeout", "60",
                ])
            }
            let local = try viewer(monitor)
            let remote = try viewer(other)
            // Both clients connected and subscribed (python start-up and Socket.IO handshake).
            try await Task.sleep(for: .seconds(3))
            try await Self.append(1...count, to: uuid, fake: cluster.fake, perBatch: 10, pause: .milliseconds(25))
            let localRecords = try await local.finish(timeout: .seconds(60))
            let remoteRecords = try await remote.finish(timeout: .seconds(60))

            // Every line on the instance that does not monitor, once, in order.
            #expect(remoteRecords.lineSeqs == Array(1...count))
            #expect(remoteRecords.lineTexts == (1...count).map { String(Self.line($0).dropLast()) })
            #expect(localRecords.lineSeqs == Array(1...count))

            // Added latency: when the remote viewer got each line minus when the monitor's own viewer got it.
            func arrivals(_ records: [[String: Any]]) -> [Int: Double] {
                var times: [Int: Double] = [:]
                for record in records.records("event") where record["name"] as? String == "pipeline_logs" {
                    let at = record["at"] as? Double ?? 0
                    let lines = (record["data"] as? [String: Any])?["lines"] as? [[String: Any]] ?? []
                    for line in lines { if let seq = line["seq"] as? Int, times[seq] == nil { times[seq] = at } }
                }
                return times
            }
            let localTimes = arrivals(localRecords)
            let remoteTimes = arrivals(remoteRecords)
            let added = (1...count).compactMap { seq in
                remoteTimes[seq].flatMap { remote in localTimes[seq].map { (remote - $0) * 1000 } }
            }
            #expect(added.count == count)
            let p50 = percentile(added, 0.5)
            let p99 = percentile(added, 0.99)
            print(
                String(
                    format: "scale-out: cross-instance added latency over %d lines: p50 %.1f ms, p99 %.1f ms, "
                        + "max %.1f ms (goal p99 < 100 ms)", added.count, p50, p99, added.max() ?? .nan))
            // Generous bound (the goal is 100 ms; this machine is shared with other builds).
            #expect(p99 < 1_000)
        }
    }
}
