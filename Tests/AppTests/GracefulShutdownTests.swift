import AsyncHTTPClient
import Foundation
import NIOCore
import NIOWebSocket
import PipewrightTesting
import Testing
import Vapor
import WebSocketKit

@testable import App

/// SIGTERM to the real `pipewright serve` binary (README "TLS, reverse proxy, shutdown"; issue 7 item 9):
/// it stops accepting, lets in-flight requests finish within `PIPEWRIGHT_SHUTDOWN_GRACE`, cancels what is
/// left, leaves nothing half-written on SSH servers, and exits 0.
@Suite(.serialized) struct GracefulShutdownTests {
    struct Reply: Sendable {
        var status: HTTPResponseStatus
        var data: Data
        var headers: HTTPHeaders
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [
                "raw": String(decoding: data, as: UTF8.self)
            ]
        }
    }

    /// POSTs a JSON body with the bearer token.
    func post(_ client: HTTPClient, _ url: String, token: String, _ body: Data) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await client.execute(request, timeout: .seconds(120))
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        return Reply(status: response.status, data: data, headers: response.headers)
    }

    func post(_ client: HTTPClient, _ url: String, token: String, _ body: [String: Any]) async throws -> (
        HTTPResponseStatus, [String: Any], HTTPHeaders
    ) {
        let reply = try await post(client, url, token: token, try JSONSerialization.data(withJSONObject: body))
        return (reply.status, reply.json, reply.headers)
    }

    /// `authorized_keys` of `user` is absent, or every line mentioning the key's blob is the whole key line.
    /// Returns how many times the full line is present.
    func fullLineCount(_ fixture: SSHDFixture, _ user: SSHDFixtureUser, keyLine: String) -> Int {
        guard let content = fixture.authorizedKeys(of: user) else { return 0 }
        let blob = String(keyLine.split(separator: " ")[1])
        var count = 0
        for line in content.split(separator: "\n", omittingEmptySubsequences: false)
        where line.contains(blob.prefix(20)) {
            #expect(line == keyLine, "half-written or altered line: \(line)")
            count += 1
        }
        #expect(content.isEmpty || content.hasSuffix("\n"), "the file ends with a complete line")
        return count
    }

    /// Whether a new TCP connection to `port` is refused.
    func connectionRefused(port: Int) -> Bool {
        let result = try? runProgram(
            "/usr/bin/env", ["curl", "-sS", "-o", "/dev/null", "--max-time", "2", "http://127.0.0.1:\(port)/health"])
        return result?.status != 0
    }

    @Test func sigtermDuringDeployToThreeServers_requestCompletes_nothingHalfWritten_exitsZero() async throws {
        let fixtures = [try await SSHDFixture.start(), try await SSHDFixture.start(), try await SSHDFixture.start()]
        let dataDirectory = ServeProcess.makeDataDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try? FileManager.default.removeItem(atPath: dataDirectory + ".serve.log")
        }
        do {
            let token = try ServeProcess.adminToken(dataDirectory: dataDirectory)
            // One SSH session at a time, so SIGTERM surely lands while servers 2 and 3 are still to do.
            let serve = try await ServeProcess.start(
                dataDirectory: dataDirectory,
                environment: ["PIPEWRIGHT_SSH_CONCURRENCY": "1", "PIPEWRIGHT_SHUTDOWN_GRACE": "30"])
            defer { serve.kill() }
            try await withHTTPClient { client in
                let (created, key, _) = try await post(
                    client, "\(serve.baseURL)/api/ssh-keys", token: token, ["name": "k", "key_type": "ed25519"])
                #expect(created == .created)
                let keyID = try #require(key["id"] as? Int)
                let keyLine = try #require(key["public_key"] as? String)
                let servers = fixtures.map { fixture -> [String: Any] in
                    let user = fixture.users[0]
                    return [
                        "host": fixture.host, "port": fixture.port, "username": user.name,
                        "password": user.password.value,
                    ]
                }
                let deployBody = try JSONSerialization.data(withJSONObject: ["servers": servers])
                let deploy = Task {
                    try await post(client, "\(serve.baseURL)/api/ssh-keys/\(keyID)/deploy", token: token, deployBody)
                }
                #expect(
                    await fixtures[0].waitForLog(containing: "Accepted password", timeout: .seconds(20)),
                    "first server reached")
                serve.signal(SIGTERM)
                try await Task.sleep(for: .milliseconds(300))
                let refusedWhileDraining = connectionRefused(port: serve.port)
                let reply = try await deploy.value
                let (status, json, headers) = (reply.status, reply.json, reply.headers)
                #expect(status == .ok, "\(json)")
                #expect(headers.first(name: "Connection")?.lowercased() == "close")
                let results = try #require(json["results"] as? [[String: Any]])
                #expect(results.count == 3)
                #expect(refusedWhileDraining, "no new connections once SIGTERM arrived")
                let exit = await serve.waitForExit(timeout: .seconds(40))
                #expect(exit == 0, "exit status; log: \(serve.log.suffix(2000))")
                for (fixture, result) in zip(fixtures, results) {
                    let count = fullLineCount(fixture, fixture.users[0], keyLine: keyLine)
                    if result["status"] as? String == "deployed" {
                        #expect(count == 1, "\(result)")
                    } else {
                        #expect(count <= 1, "\(result)")
                    }
                }
                #expect(
                    results.allSatisfy { $0["status"] as? String == "deployed" },
                    "30 s grace lets all three finish: \(results)")
                #expect(serve.log.contains("shutting down"))
            }
        } catch {
            for fixture in fixtures { await fixture.stop() }
            throw error
        }
        for fixture in fixtures { await fixture.stop() }
    }

    @Test func graceOver_requestIsAnswered503_sshIsKilled_serversClean_exitsZero() async throws {
        let fixtures = [try await SSHDFixture.start(), try await SSHDFixture.start()]
        let stall = try StallingListener.start()
        let dataDirectory = ServeProcess.makeDataDirectory()
        defer {
            stall.stop()
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try? FileManager.default.removeItem(atPath: dataDirectory + ".serve.log")
        }
        do {
            let token = try ServeProcess.adminToken(dataDirectory: dataDirectory)
            let serve = try await ServeProcess.start(
                dataDirectory: dataDirectory,
                environment: [
                    "PIPEWRIGHT_SHUTDOWN_GRACE": "1", "PIPEWRIGHT_SSH_CONNECT_TIMEOUT": "60",
                    "PIPEWRIGHT_SSH_COMMAND_TIMEOUT": "60",
                ])
            defer { serve.kill() }
            try await withHTTPClient { client in
                let (_, key, _) = try await post(
                    client, "\(serve.baseURL)/api/ssh-keys", token: token, ["name": "k", "key_type": "ed25519"])
                let keyID = try #require(key["id"] as? Int)
                let keyLine = try #require(key["public_key"] as? String)
                var servers = fixtures.map { fixture -> [String: Any] in
                    let user = fixture.users[0]
                    return [
                        "host": fixture.host, "port": fixture.port, "username": user.name,
                        "password": user.password.value,
                    ]
                }
                servers.insert(["host": "127.0.0.1", "port": stall.port, "username": "nobody", "password": "x"], at: 1)
                let deployBody = try JSONSerialization.data(withJSONObject: ["servers": servers])
                let deploy = Task {
                    try await post(client, "\(serve.baseURL)/api/ssh-keys/\(keyID)/deploy", token: token, deployBody)
                }
                #expect(stall.waitForOutput(containing: "accepted", timeout: 20), "the stalled server is being dialled")
                let start = ContinuousClock.now
                serve.signal(SIGTERM)
                let reply = try await deploy.value
                let (status, json) = (reply.status, reply.json)
                #expect(status == .serviceUnavailable, "\(json)")
                #expect((json["error"] as? [String: Any])?["code"] as? String == "shutting_down")
                let exit = await serve.waitForExit(timeout: .seconds(20))
                #expect(exit == 0, "exit status; log: \(serve.log.suffix(2000))")
                #expect(ContinuousClock.now - start < .seconds(15), "bounded by the grace period")
                #expect(stall.waitForOutput(containing: "closed", timeout: 10), "the stalled ssh session was killed")
                for fixture in fixtures { #expect(fullLineCount(fixture, fixture.users[0], keyLine: keyLine) <= 1) }
            }
        } catch {
            for fixture in fixtures { await fixture.stop() }
            throw error
        }
        for fixture in fixtures { await fixture.stop() }
    }

    @Test func tlsServe_fromTheBinary_andBadTLSFiles_stopStartUpWithOneLine() async throws {
        let certificate = try SelfSignedCertificate.make()
        let dataDirectory = ServeProcess.makeDataDirectory()
        defer {
            certificate.remove()
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try? FileManager.default.removeItem(atPath: dataDirectory + ".serve.log")
        }
        let bad = try ServeProcess.command(
            ["serve"], dataDirectory: dataDirectory,
            environment: [
                "PIPEWRIGHT_TLS_CERT_FILE": certificate.directory + "/missing.pem",
                "PIPEWRIGHT_TLS_KEY_FILE": certificate.keyPath,
                "PIPEWRIGHT_PORT": String(try freeTCPPort()),
            ])
        #expect(bad.status == 1)
        let lines = bad.stderr.split(separator: "\n")
        #expect(
            lines.count == 1 && lines[0].hasPrefix("configuration error: PIPEWRIGHT_TLS_CERT_FILE:"), "\(bad.stderr)")
        let half = try ServeProcess.command(
            ["serve"], dataDirectory: dataDirectory, environment: ["PIPEWRIGHT_TLS_KEY_FILE": certificate.keyPath])
        #expect(half.status == 1 && half.stderr.contains("PIPEWRIGHT_TLS_CERT_FILE"), "\(half.stderr)")

        let serve = try await ServeProcess.start(
            dataDirectory: dataDirectory,
            environment: [
                "PIPEWRIGHT_TLS_CERT_FILE": certificate.certificatePath, "PIPEWRIGHT_TLS_KEY_FILE": certificate.keyPath,
            ],
            trustedCertificate: certificate.certificatePath)
        defer { serve.kill() }
        let headers = try runProgram(
            "/usr/bin/env",
            [
                "curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert", certificate.certificatePath,
                "\(serve.baseURL)/ready",
            ])
        #expect(
            headers.stdout.lowercased().contains("strict-transport-security: max-age=31536000"),
            "\(headers.stdout) \(headers.stderr)")
        let plain = try runProgram(
            "/usr/bin/env", ["curl", "-sS", "--max-time", "5", "http://127.0.0.1:\(serve.port)/health"])
        #expect(plain.status != 0, "plain HTTP to the TLS port fails")
        serve.signal(SIGTERM)
        #expect(await serve.waitForExit(timeout: .seconds(20)) == 0)
    }
}

/// `GracefulShutdown.drain` in process: in-flight requests finish, new connections are refused, and the
/// `app.shutdownDrain` handlers let long-lived connections close without waiting for the grace period.
@Suite(.serialized) struct GracefulShutdownDrainTests {
    final class Box<T: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: T
        init(_ value: T) { self.value = value }
        var current: T { lock.withLock { value } }
        func set(_ new: T) { lock.withLock { value = new } }
    }

    @Test func drain_letsInFlightRequestFinish_andRefusesNewConnections() async throws {
        try await withTestApp(configure: { $0.server.shutdownGrace = .seconds(10) }) { ctx in
            ctx.app.routes.cancellable().get("test", "slow") { _ async throws -> String in
                try await Task.sleep(for: .milliseconds(1200))
                return "finished"
            }
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    let inFlight = Task {
                        let response = try await client.execute(
                            HTTPClientRequest(url: "http://127.0.0.1:\(port)/test/slow"), timeout: .seconds(30))
                        return (
                            response.status, String(buffer: try await response.body.collect(upTo: 1024)),
                            response.headers.first(name: "Connection")
                        )
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    let start = ContinuousClock.now
                    let drain = Task { await GracefulShutdown.drain(ctx.app) }
                    try await Task.sleep(for: .milliseconds(200))
                    await #expect(throws: (any Error).self, "new connections are refused while draining") {
                        _ = try await client.execute(
                            HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(2))
                    }
                    let (status, body, connection) = try await inFlight.value
                    #expect(status == .ok)
                    #expect(body == "finished")
                    #expect(connection?.lowercased() == "close")
                    await drain.value
                    let elapsed = ContinuousClock.now - start
                    #expect(elapsed >= .milliseconds(700), "waited for the request")
                    #expect(elapsed < .seconds(5), "did not wait for the whole grace period")
                }
            }
        }
    }

    @Test func drainHandlers_closeWebSockets_soShutdownDoesNotWaitForTheGrace() async throws {
        try await withTestApp(configure: { $0.server.shutdownGrace = .seconds(15) }) { ctx in
            let serverSide = Box<WebSocket?>(nil)
            ctx.app.webSocket("test", "ws") { _, ws async in serverSide.set(ws) }.streaming()
            ctx.app.shutdownDrain.use { _ in
                try? await serverSide.current?.close(code: .goingAway)
            }
            try await withRunningServer(ctx.app) { port in
                let closeCode = Box<WebSocketErrorCode?>(nil)
                try await WebSocket.connect(
                    to: "ws://127.0.0.1:\(port)/test/ws", on: MultiThreadedEventLoopGroup.singleton
                ) { ws in
                    ws.onClose.whenComplete { _ in closeCode.set(ws.closeCode) }
                }.get()
                let deadline = ContinuousClock.now + .seconds(5)
                while serverSide.current == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(serverSide.current != nil)
                let start = ContinuousClock.now
                await GracefulShutdown.drain(ctx.app)
                #expect(ContinuousClock.now - start < .seconds(5), "the WebSocket was closed by the drain handler")
                let closed = ContinuousClock.now + .seconds(5)
                while closeCode.current == nil, ContinuousClock.now < closed {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(closeCode.current == .goingAway, "clients see 1001 going away and reconnect elsewhere")
            }
        }
    }
}

/// With realtime merged: SIGTERM closes open WebSockets at once (1001) instead of letting them hold the
/// drain for the whole grace period, and the binary exits 0 quickly.
@Suite(.serialized) struct GracefulShutdownRealtimeTests {
    @Test func sigterm_closesWebSocketClientsAtOnce_andExitsZeroWellBeforeTheGrace() async throws {
        let dataDirectory = ServeProcess.makeDataDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try? FileManager.default.removeItem(atPath: dataDirectory + ".serve.log")
        }
        let token = try ServeProcess.adminToken(dataDirectory: dataDirectory)
        let serve = try await ServeProcess.start(
            dataDirectory: dataDirectory, environment: ["PIPEWRIGHT_SHUTDOWN_GRACE": "20"])
        defer { serve.kill() }
        let closeCode = GracefulShutdownDrainTests.Box<WebSocketErrorCode?>(nil)
        let closed = GracefulShutdownDrainTests.Box(false)
        try await WebSocket.connect(
            to: "ws://127.0.0.1:\(serve.port)/api/ws", headers: ["Authorization": "Bearer \(token)"],
            on: MultiThreadedEventLoopGroup.singleton
        ) { ws in
            ws.onClose.whenComplete { _ in
                closeCode.set(ws.closeCode)
                closed.set(true)
            }
        }.get()
        try await Task.sleep(for: .milliseconds(300))
        let start = ContinuousClock.now
        serve.signal(SIGTERM)
        let exit = await serve.waitForExit(timeout: .seconds(30))
        #expect(exit == 0, "\(serve.log.suffix(1500))")
        #expect(ContinuousClock.now - start < .seconds(8), "did not wait for the 20 s grace")
        #expect(closed.current)
        #expect(closeCode.current == .goingAway)
    }
}
