import Foundation
import PipewrightCore
import SSHKeys

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A private OpenSSH server on 127.0.0.1 (or another loopback address) for tests, with its own throwaway users.
///
/// `start(users:)` creates fresh local accounts (`useradd -m -s /bin/sh pwt_<random>`, random
/// password via `chpasswd`), a temporary directory with a new Ed25519 host key and an
/// `sshd_config` (`UsePAM no`, `PasswordAuthentication yes`, `LogLevel VERBOSE`, `ListenAddress
/// 127.0.0.1`, a free high port), then runs `/usr/sbin/sshd -D -E <log> -f <config>` and waits until its
/// log says `Server listening on 127.0.0.1 port N.`. Every fixture has its own port, users, key and
/// directory, so parallel tests may each start one. Always call ``stop()`` (or use
/// ``withFixture(users:_:)``): it kills `sshd`, deletes the users (`userdel -r -f`) and the
/// directory.
///
/// Requires root (Linux, OpenSSH server installed: `scripts/test` installs `openssh-server`; README "Tests").
public actor SSHDFixture {
    /// The loopback address sshd listens on: `127.0.0.1` unless `start(users:listenAddress:)` chose
    /// another (any of 127.0.0.0/8 works on Linux).
    public nonisolated let host: String
    /// The TCP port sshd listens on.
    public nonisolated let port: Int
    /// The accounts created for this fixture.
    public nonisolated let users: [SSHDFixtureUser]
    /// The fixture's temporary directory (config, host key, log).
    public nonisolated let directory: String

    /// Extra `sshd_config` lines (e.g. `PubkeyAcceptedAlgorithms ssh-rsa` for a server that accepts only
    /// SHA-1 RSA signatures).
    public nonisolated let extraConfiguration: [String]

    /// The current Ed25519 host key.
    public private(set) var hostKey: HostKey
    private var sshd: SSHDProcess?
    private var isStopped = false

    /// `SHA256:…` fingerprint of the current host key.
    public var hostKeyFingerprint: String { hostKey.fingerprintSHA256 }

    private init(
        host: String, port: Int, users: [SSHDFixtureUser], directory: String, hostKey: HostKey,
        extraConfiguration: [String]
    ) {
        self.extraConfiguration = extraConfiguration
        self.host = host
        self.port = port
        self.users = users
        self.directory = directory
        self.hostKey = hostKey
    }

    // MARK: - Lifecycle

    /// Creates `users` accounts and starts a private sshd.
    ///
    /// - Parameters:
    ///   - users: Number of accounts to create (≥ 1).
    ///   - listenAddress: IPv4 loopback address to listen on; `127.0.0.1` by default.
    ///   - extraConfiguration: `sshd_config` lines appended to the fixture's configuration.
    /// - Returns: A running fixture.
    /// - Throws: ``SSHDFixtureError`` (`notRoot`, `sshdMissing`, `commandFailed`, `sshdDidNotStart`).
    public static func start(
        users count: Int = 1, listenAddress: String = "127.0.0.1", extraConfiguration: [String] = []
    ) async throws -> SSHDFixture {
        guard geteuid() == 0 else { throw SSHDFixtureError.notRoot }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else { throw SSHDFixtureError.sshdMissing }
        try FileManager.default.createDirectory(
            atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])

        let directory = try makeTemporaryDirectory()
        var created: [SSHDFixtureUser] = []
        do {
            for _ in 0..<max(1, count) { created.append(try await UserAdministration.shared.createUser()) }
            let hostKey = try await generateHostKey(in: directory)
            for attempt in 1...5 {
                let port = try freePort(on: listenAddress)
                let fixture = SSHDFixture(
                    host: listenAddress, port: port, users: created, directory: directory, hostKey: hostKey,
                    extraConfiguration: extraConfiguration)
                do {
                    try await fixture.launch()
                    return fixture
                } catch SSHDFixtureError.sshdDidNotStart(let log)
                    where log.contains("Address already in use") && attempt < 5
                {
                    continue
                }
            }
            throw SSHDFixtureError.sshdDidNotStart(log: "no free port found")
        } catch {
            for user in created { await UserAdministration.shared.deleteUser(user.name) }
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Starts a fixture, runs `body`, and stops the fixture whether `body` succeeds or throws.
    ///
    /// - Parameters:
    ///   - users: Number of accounts to create.
    ///   - listenAddress: IPv4 loopback address to listen on; `127.0.0.1` by default.
    ///   - extraConfiguration: `sshd_config` lines appended to the fixture's configuration.
    ///   - body: The test body.
    /// - Returns: What `body` returns.
    /// - Throws: ``SSHDFixtureError`` from setup, or what `body` throws.
    public static func withFixture<T: Sendable>(
        users: Int = 1, listenAddress: String = "127.0.0.1", extraConfiguration: [String] = [],
        _ body: (SSHDFixture) async throws -> T
    ) async throws -> T {
        let fixture = try await start(
            users: users, listenAddress: listenAddress, extraConfiguration: extraConfiguration)
        do {
            let result = try await body(fixture)
            await fixture.stop()
            return result
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// Kills sshd, deletes the users with their homes (`userdel -r -f`) and removes the directory.
    /// Safe to call twice.
    public func stop() async {
        guard !isStopped else { return }
        isStopped = true
        await terminateSSHD()
        for user in users { await UserAdministration.shared.deleteUser(user.name) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Replaces the host key with a new Ed25519 key and restarts sshd on the same port.
    ///
    /// - Throws: ``SSHDFixtureError`` when the key cannot be generated or sshd does not restart.
    public func regenerateHostKey() async throws {
        await terminateSSHD()
        try? FileManager.default.removeItem(atPath: "\(directory)/hk_ed25519")
        try? FileManager.default.removeItem(atPath: "\(directory)/hk_ed25519.pub")
        hostKey = try await Self.generateHostKey(in: directory)
        try await launch()
    }

    // MARK: - Inspection

    /// An ``SSHTarget`` for `user` on this server.
    ///
    /// - Parameter user: One of ``users``.
    public nonisolated func target(for user: SSHDFixtureUser) -> SSHTarget {
        SSHTarget(host: host, port: port, username: user.name)
    }

    /// The content of `user`'s `~/.ssh/authorized_keys`, or `nil` when the file does not exist.
    ///
    /// - Parameter user: One of ``users``.
    public nonisolated func authorizedKeys(of user: SSHDFixtureUser) -> String? {
        guard let data = FileManager.default.contents(atPath: user.authorizedKeysPath) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `content` verbatim to `user`'s `~/.ssh/authorized_keys` (0600, `~/.ssh` 0700, both
    /// owned by the user), creating `~/.ssh` if needed.
    ///
    /// - Parameters:
    ///   - content: Exact file content (no newline is added).
    ///   - user: One of ``users``.
    /// - Throws: Foundation file errors, ``SSHDFixtureError/commandFailed(command:output:)`` on chown failure.
    public nonisolated func writeAuthorizedKeys(_ content: String, for user: SSHDFixtureUser) throws {
        let sshDirectory = "\(user.home)/.ssh"
        let manager = FileManager.default
        if !manager.fileExists(atPath: sshDirectory) {
            try manager.createDirectory(atPath: sshDirectory, withIntermediateDirectories: false)
        }
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: sshDirectory)
        try Data(content.utf8).write(to: URL(fileURLWithPath: user.authorizedKeysPath))
        try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: user.authorizedKeysPath)
        for path in [sshDirectory, user.authorizedKeysPath] where chown(path, user.uid, user.gid) != 0 {
            throw SSHDFixtureError.commandFailed(command: "chown \(path)", output: String(cString: strerror(errno)))
        }
    }

    /// The sshd log so far (`-E` log file at `LogLevel VERBOSE`).
    public nonisolated func log() -> String {
        guard let data = FileManager.default.contents(atPath: "\(directory)/sshd.log") else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// How many `Failed password for <user>` lines the sshd log holds.
    ///
    /// - Parameter user: One of ``users``.
    public nonisolated func failedPasswordAttempts(for user: SSHDFixtureUser) -> Int {
        log().split(whereSeparator: \.isNewline).filter { line in
            line.contains("Failed password for \(user.name) ")
                || line.contains("Failed password for invalid user \(user.name) ")
        }.count
    }

    /// Waits until the sshd log contains `text`.
    ///
    /// - Parameters:
    ///   - text: Substring to look for.
    ///   - timeout: How long to poll (every 20 ms); 5 seconds by default.
    /// - Returns: `true` when found in time.
    public nonisolated func waitForLog(containing text: String, timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log().contains(text) { return true }
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return false }
        }
        return log().contains(text)
    }

    // MARK: - sshd process

    private func launch() async throws {
        let configPath = "\(directory)/sshd_config"
        let config = """
            Port \(port)
            ListenAddress \(host)
            HostKey \(directory)/hk_ed25519
            PidFile \(directory)/sshd.pid
            UsePAM no
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin no
            StrictModes yes
            AuthorizedKeysFile .ssh/authorized_keys
            AllowUsers \(users.map(\.name).joined(separator: " "))
            MaxStartups 50:30:100
            LogLevel VERBOSE

            """ + extraConfiguration.map { $0 + "\n" }.joined()
        try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
        let logOffset = log().utf8.count
        // -E appends the log (also of per-connection children) to a file we can read while it runs.
        let process = SSHDProcess(
            invocation: ProcessInvocation(
                executable: .path("/usr/sbin/sshd"),
                arguments: ["-D", "-E", "\(directory)/sshd.log", "-f", configPath],
                timeout: .seconds(3600)))
        sshd = process

        let ready = "Server listening on \(host) port \(port)."
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let recent = String(decoding: Array(log().utf8.dropFirst(logOffset)), as: UTF8.self)
            if recent.contains(ready) { return }
            if let exit = process.exitDescription {
                sshd = nil
                throw SSHDFixtureError.sshdDidNotStart(log: "\(exit); \(recent)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        await terminateSSHD()
        throw SSHDFixtureError.sshdDidNotStart(log: "timed out waiting for '\(ready)'")
    }

    private func terminateSSHD() async {
        guard let sshd else { return }
        self.sshd = nil
        await sshd.stop()
    }

    // MARK: - Helpers

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/pwt-sshd.XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let path else { throw SSHDFixtureError.commandFailed(command: "mkdtemp", output: "failed") }
        return path
    }

    private static func generateHostKey(in directory: String) async throws -> HostKey {
        let path = "\(directory)/hk_ed25519"
        try await runTool("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pwt-fixture", "-f", path])
        guard let data = FileManager.default.contents(atPath: path + ".pub") else {
            throw SSHDFixtureError.commandFailed(command: "ssh-keygen", output: "no public key written")
        }
        let fields = String(decoding: data, as: UTF8.self).split(separator: " ")
        guard fields.count >= 2 else { throw SSHDFixtureError.commandFailed(command: "ssh-keygen", output: "bad .pub") }
        return try HostKey(algorithm: String(fields[0]), blobBase64: String(fields[1]))
    }

    /// Asks the kernel for a free port on `address` by binding port 0.
    private static func freePort(on listenAddress: String) throws -> Int {
        let hostAddress = listenAddress
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SSHDFixtureError.commandFailed(command: "socket", output: "failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr(hostAddress)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw SSHDFixtureError.commandFailed(command: "bind", output: "failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a setup tool and throws unless it exits 0.
    @discardableResult
    static func runTool(_ path: String, _ arguments: [String], input: String = "") async throws -> ProcessResult {
        let result = try await SubprocessRunner().run(
            ProcessInvocation(
                executable: .path(path), arguments: arguments, standardInput: Array(input.utf8),
                timeout: .seconds(30)))
        guard result.exitStatus == 0 else {
            throw SSHDFixtureError.commandFailed(
                command: ([path] + arguments).joined(separator: " "),
                output: "\(result.termination): \(result.standardErrorText)")
        }
        return result
    }
}
