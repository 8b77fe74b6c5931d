import Foundation
import NIOConcurrencyHelpers
import Testing
import Vapor
import VaporTesting

@testable import App

/// `PIPEWRIGHT_REQUEST_TIMEOUT`: a non-streaming request still running after the bound gets 503
/// `request_timeout` at once and its work is cancelled; streaming routes are exempt.
@Suite struct RequestTimeoutTests {
    /// Records whether a handler saw its task cancelled.
    final class Flag: Sendable {
        private let box = NIOLockedValueBox(false)
        var isSet: Bool { box.withLockedValue { $0 } }
        func set() { box.withLockedValue { $0 = true } }

        /// Polls until set (or `timeout`).
        func wait(timeout: Duration = .seconds(5)) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline, !isSet { try? await Task.sleep(for: .milliseconds(20)) }
            return isSet
        }
    }

    @Test func slowRequest_is503RequestTimeout_onTime_andItsWorkIsCancelled() async throws {
        try await withTestApp(configure: { $0.server.requestTimeout = .milliseconds(300) }) { ctx in
            let cancelled = Flag()
            ctx.app.routes.cancellable().get("test", "slow") { _ async throws -> String in
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    cancelled.set()
                    throw error
                }
                return "late"
            }
            let start = ContinuousClock.now
            try await ctx.app.testing().test(.GET, "test/slow", headers: ["X-Request-ID": "slow-1"]) {
                res async throws in
                #expect(res.status == .serviceUnavailable)
                #expect(res.errorCode == "request_timeout")
                let error = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body))
                #expect(error.error.details["timeout_s"] == "0.3")
                #expect(res.headers.first(name: "X-Request-ID") == "slow-1")
                #expect(res.headers.first(name: "X-Content-Type-Options") == "nosniff")
            }
            #expect(ContinuousClock.now - start < .seconds(3))
            #expect(await cancelled.wait(), "the handler's task was cancelled")
        }
    }

    @Test func handlerIgnoringCancellation_stillGetsItsTimeoutResponseOnTime() async throws {
        try await withTestApp(configure: { $0.server.requestTimeout = .milliseconds(300) }) { ctx in
            ctx.app.get("test", "stubborn") { _ async -> String in
                let end = ContinuousClock.now + .seconds(3)
                while ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(50)) }
                return "late"
            }
            let start = ContinuousClock.now
            try await ctx.app.testing().test(.GET, "test/stubborn") { res async throws in
                #expect(res.status == .serviceUnavailable)
                #expect(res.errorCode == "request_timeout")
            }
            #expect(ContinuousClock.now - start < .seconds(2), "answered before the handler finished")
        }
    }

    @Test func streamingRoutes_andFastRequests_areNotCut() async throws {
        try await withTestApp(configure: { $0.server.requestTimeout = .milliseconds(300) }) { ctx in
            ctx.app.get("test", "long-stream") { _ async throws -> String in
                try await Task.sleep(for: .milliseconds(900))
                return "streamed"
            }.streaming()
            ctx.app.get("test", "quick") { _ async throws -> String in
                try await Task.sleep(for: .milliseconds(50))
                return "quick"
            }
            try await ctx.app.testing().test(.GET, "test/long-stream") { res async throws in
                #expect(res.status == .ok)
                #expect(res.body.string == "streamed")
            }
            try await ctx.app.testing().test(.GET, "test/quick") { res async throws in
                #expect(res.status == .ok)
            }
            // Errors of the handler pass through unchanged.
            try await ctx.app.testing().test(.GET, "api/ssh-keys/424242", headers: ctx.adminAuth) { res async throws in
                #expect(res.status == .notFound)
            }
        }
    }

    /// A deploy to a "server" that accepts TCP but never speaks SSH: the request is answered with 503 when
    /// the request timeout passes, and the `ssh` client is killed (the listener sees the connection close).
    @Test func deployToStallingServer_timesOut_andKillsTheSSHClient() async throws {
        let listener = try StallingListener.start()
        defer { listener.stop() }
        try await withTestApp(configure: {
            $0.server.requestTimeout = .seconds(2)
            $0.sshConnectTimeout = .seconds(60)
            $0.sshCommandTimeout = .seconds(60)
        }) { ctx in
            var keyID = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.adminAuth),
                body: try jsonBody(["name": "k", "key_type": "ed25519"])
            ) { res async throws in keyID = try #require(try res.json()["id"] as? Int) }
            let start = ContinuousClock.now
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/\(keyID)/deploy", headers: .json(ctx.adminAuth),
                body: try jsonBody([
                    "servers": [["host": "127.0.0.1", "port": listener.port, "username": "nobody", "password": "x"]]
                ])
            ) { res async throws in
                #expect(res.status == .serviceUnavailable, "\(res.body.string)")
                #expect(res.errorCode == "request_timeout")
            }
            #expect(ContinuousClock.now - start < .seconds(8))
            #expect(listener.waitForOutput(containing: "accepted", timeout: 1), "ssh did connect")
            #expect(listener.waitForOutput(containing: "closed", timeout: 10), "the cancelled deploy killed ssh")
        }
    }

    @Test func configuration_rejectsBadTimeoutAndGraceValues() throws {
        for (name, raw) in [
            ("PIPEWRIGHT_REQUEST_TIMEOUT", "abc"), ("PIPEWRIGHT_REQUEST_TIMEOUT", "0"),
            ("PIPEWRIGHT_SHUTDOWN_GRACE", "-1"),
            ("PIPEWRIGHT_MAX_BODY_SIZE", "12"), ("PIPEWRIGHT_COOKIE_SECURE", "maybe"),
        ] {
            #expect(throws: ConfigurationError.self, "\(name)=\(raw)") {
                try PipewrightConfiguration.fromEnvironment([name: raw])
            }
            do {
                _ = try PipewrightConfiguration.fromEnvironment([name: raw])
            } catch {
                #expect("\(error)".contains(name))
                #expect("\(error)".split(separator: "\n").count == 1)
            }
        }
        let defaults = try PipewrightConfiguration.fromEnvironment([:]).server
        #expect(defaults.requestTimeout == .seconds(300))
        #expect(defaults.shutdownGrace == .seconds(30))
        #expect(defaults.maxBodySize == 1 << 20)
        #expect(defaults.tls == nil && !defaults.cookiesAreSecure)
        let parsed = try PipewrightConfiguration.fromEnvironment([
            "PIPEWRIGHT_REQUEST_TIMEOUT": "2.5", "PIPEWRIGHT_SHUTDOWN_GRACE": "0", "PIPEWRIGHT_COOKIE_SECURE": "true",
        ]).server
        #expect(parsed.requestTimeout == .milliseconds(2500))
        #expect(parsed.shutdownGrace == .zero)
        #expect(parsed.cookiesAreSecure)
    }
}

/// A TCP listener on 127.0.0.1 that accepts one connection and never answers (a stalled SSH server).
/// Prints `accepted`, then `closed` when the peer closes. Runs as a python3 child process.
final class StallingListener: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let output: Pipe
    private let lock = NSLock()
    private var collected = ""

    private init(port: Int, process: Process, output: Pipe) {
        self.port = port
        self.process = process
        self.output = output
    }

    static func start() throws -> StallingListener {
        let script = """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
            print(s.getsockname()[1], flush=True)
            c, _ = s.accept(); print("accepted", flush=True)
            while c.recv(4096): pass
            print("closed", flush=True)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var firstLine = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            firstLine.append(byte)
        }
        guard let port = Int(String(decoding: firstLine, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw CancellationError()
        }
        let listener = StallingListener(port: port, process: process, output: output)
        output.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            listener.lock.withLock { listener.collected += text }
        }
        return listener
    }

    /// Polls the listener's output for `text`.
    func waitForOutput(containing text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lock.withLock({ collected.contains(text) }) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return lock.withLock { collected.contains(text) }
    }

    /// SIGKILL, then waits. Not SIGTERM: a child started by Foundation's `Process` from a cooperative thread
    /// inherits that thread's blocked signals, ignores SIGTERM, and `waitUntilExit()` then spins forever
    /// (a whole test run once hung here).
    func stop() {
        output.fileHandleForReading.readabilityHandler = nil
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
