import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing

/// End-to-end tests of ``SSHKeyDeployer`` + ``OpenSSHRunner`` against real, private `sshd`
/// instances (``SSHDFixture``). Each test starts its own fixture, so they run in parallel.
@Suite(.enabled(if: SSHTestEnvironment.canRunSSHD, "needs root and openssh-server"))
struct SSHDeploymentIntegrationTests {
    let deployer = SSHTestEnvironment.deployer()

    @Test func deploy_withPassword_thenKeyLoginWorks() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let key = try await SSHTestKey.make()
            let result = try await deployer.deploy(
                publicKeyLine: key.publicLine, to: fixture.target(for: user),
                authentication: .password(user.password))
            #expect(result.outcome == .added)
            #expect(result.remoteUser == user.name)
            let hostKey = await fixture.hostKey
            #expect(result.acceptedHostKeys == [hostKey])
            #expect(fixture.authorizedKeys(of: user) == key.publicLine + "\n")

            // Modes: ~/.ssh 0700, authorized_keys 0600, owned by the user.
            let sshAttributes = try FileManager.default.attributesOfItem(atPath: "\(user.home)/.ssh")
            let fileAttributes = try FileManager.default.attributesOfItem(atPath: user.authorizedKeysPath)
            #expect((sshAttributes[.posixPermissions] as? Int) == 0o700)
            #expect((fileAttributes[.posixPermissions] as? Int) == 0o600)
            #expect((fileAttributes[.ownerAccountID] as? NSNumber)?.uint32Value == user.uid)

            // Key login with the pinned host key (StrictHostKeyChecking=yes).
            let test = try await deployer.test(
                target: fixture.target(for: user), privateKey: key.privateKey,
                pinnedHostKeys: result.acceptedHostKeys, policy: .strict, publicKeyBlobBase64: key.blob)
            #expect(test.remoteUser == user.name)
            #expect(test.keyPresent == true)
            #expect(test.acceptedHostKeys.isEmpty)
            #expect(test.latency > .zero)
        }
    }

    @Test func deploy_keyFromKeyGenerator_logsIn() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let generated = try KeyGenerator.generate(type: .ed25519)
            let publicLine = generated.publicKey(comment: "pipewright-test-only").authorizedKeysLine
            let privatePEM = try generated.openSSHPrivateKeyPEM(comment: "pipewright-test-only", passphrase: nil)
            let result = try await deployer.deploy(
                publicKeyLine: publicLine, to: fixture.target(for: user), authentication: .password(user.password))
            #expect(result.outcome == .added)
            let test = try await deployer.test(
                target: fixture.target(for: user), privateKey: privatePEM,
                pinnedHostKeys: result.acceptedHostKeys, publicKeyBlobBase64: generated.publicKey.blobBase64)
            #expect(test.remoteUser == user.name)
            #expect(test.keyPresent == true)
        }
    }

    @Test func deploy_wrongPassword_authFailedAfterExactlyOneAttempt() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let key = try await SSHTestKey.make()
            await #expect(throws: SSHKeyError.authFailed) {
                try await deployer.deploy(
                    publicKeyLine: key.publicLine, to: fixture.target(for: user),
                    authentication: .password(Secret("wrong-\(UUID().uuidString)")))
            }
            #expect(await fixture.waitForLog(containing: "Failed password for \(user.name)"))
            // Give sshd a moment to log any further attempt before counting.
            try await Task.sleep(for: .milliseconds(300))
            #expect(fixture.failedPasswordAttempts(for: user) == 1)
            #expect(fixture.authorizedKeys(of: user) == nil)
        }
    }

    @Test func deploy_twice_leavesOneLine() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let key = try await SSHTestKey.make()
            let first = try await deployer.deploy(
                publicKeyLine: key.publicLine, to: fixture.target(for: user), authentication: .password(user.password))
            let second = try await deployer.deploy(
                publicKeyLine: key.publicLine, to: fixture.target(for: user), authentication: .password(user.password),
                pinnedHostKeys: first.acceptedHostKeys)
            #expect(first.outcome == .added)
            #expect(second.outcome == .alreadyPresent)
            #expect(second.acceptedHostKeys.isEmpty)
            #expect(fixture.authorizedKeys(of: user) == key.publicLine + "\n")
        }
    }

    @Test func deployAndRemove_keepOtherLinesByteIdentical() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let ours = try await SSHTestKey.make(comment: "shared-comment")
            let sameComment = try await SSHTestKey.make(comment: "shared-comment")
            let restricted = try await SSHTestKey.make(comment: "restricted")
            let original = """
                # managed by hand
                \(sameComment.publicLine)

                # the next key is restricted
                from="10.0.0.0/8",no-pty \(restricted.publicLine)
                #\(ours.publicLine)
                """  // no final newline; the commented-out copy of our key must not count
            try fixture.writeAuthorizedKeys(original, for: user)

            let deployed = try await deployer.deploy(
                publicKeyLine: ours.publicLine, to: fixture.target(for: user), authentication: .password(user.password))
            #expect(deployed.outcome == .added)
            #expect(fixture.authorizedKeys(of: user) == original + "\n" + ours.publicLine + "\n")

            // Remove by logging in with the very key being removed.
            let removed = try await deployer.remove(
                publicKeyBlobBase64: ours.blob, from: fixture.target(for: user),
                authentication: .privateKey(ours.privateKey), pinnedHostKeys: deployed.acceptedHostKeys)
            #expect(removed.outcome == .removed)
            #expect(fixture.authorizedKeys(of: user) == original + "\n")
            let attributes = try FileManager.default.attributesOfItem(atPath: user.authorizedKeysPath)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == user.uid)

            let again = try await deployer.remove(
                publicKeyBlobBase64: ours.blob, from: fixture.target(for: user),
                authentication: .password(user.password), pinnedHostKeys: deployed.acceptedHostKeys)
            #expect(again.outcome == .absent)
            #expect(fixture.authorizedKeys(of: user) == original + "\n")

            // The removed key no longer logs in; the caller would mark the deployment missing.
            await #expect(throws: SSHKeyError.authFailed) {
                try await deployer.test(
                    target: fixture.target(for: user), privateKey: ours.privateKey,
                    pinnedHostKeys: deployed.acceptedHostKeys)
            }
            // The restricted key (options prefix) still logs in from 127.0.0.1? No: from= limits it to
            // 10.0.0.0/8, so it must be refused too, proving its options survived.
            await #expect(throws: SSHKeyError.authFailed) {
                try await deployer.test(
                    target: fixture.target(for: user), privateKey: restricted.privateKey,
                    pinnedHostKeys: deployed.acceptedHostKeys)
            }
            let other = try await deployer.test(
                target: fixture.target(for: user), privateKey: sameComment.privateKey,
                pinnedHostKeys: deployed.acceptedHostKeys, publicKeyBlobBase64: sameComment.blob)
            #expect(other.keyPresent == true)
        }
    }

    @Test func deploy_afterHostKeyChange_mismatchWithoutPasswordAttempt() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let key = try await SSHTestKey.make()
            let first = try await deployer.deploy(
                publicKeyLine: key.publicLine, to: fixture.target(for: user), authentication: .password(user.password))
            let oldFingerprint = try #require(first.acceptedHostKeys.first).fingerprintSHA256
            try await fixture.regenerateHostKey()
            let newFingerprint = await fixture.hostKeyFingerprint
            #expect(oldFingerprint != newFingerprint)
            let logBefore = fixture.log()

            await #expect(throws: SSHKeyError.hostKeyMismatch(pinned: [oldFingerprint], presented: newFingerprint)) {
                try await deployer.deploy(
                    publicKeyLine: key.publicLine, to: fixture.target(for: user),
                    authentication: .password(user.password), pinnedHostKeys: first.acceptedHostKeys)
            }
            try await Task.sleep(for: .milliseconds(300))
            let newLog = String(fixture.log().dropFirst(logBefore.count))
            #expect(newLog.contains("Connection from"), "the client did reach sshd")
            #expect(!newLog.contains("password for"), "sshd log after mismatch: \(newLog)")
            #expect(!newLog.contains("Accepted"))
        }
    }

    @Test func deploy_strictPolicyWithoutPins_hostKeyUnknownWithoutConnecting() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let key = try await SSHTestKey.make()
            let logBefore = fixture.log()
            await #expect(throws: SSHKeyError.hostKeyUnknown(presented: nil)) {
                try await deployer.deploy(
                    publicKeyLine: key.publicLine, to: fixture.target(for: user),
                    authentication: .password(user.password), policy: .strict)
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(!String(fixture.log().dropFirst(logBefore.count)).contains("Connection from"))
        }
    }

    @Test func deploy_hostileComment_isWrittenVerbatimAndNotExecuted() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let key = try await SSHTestKey.make()
            let hostile =
                key.publicLine.split(separator: " ").prefix(2).joined(separator: " ")
                + #" it's '; touch ~/pwned; echo ' $(id) `id` %s %n \n \\ "q""#
            let result = try await deployer.deploy(
                publicKeyLine: hostile, to: fixture.target(for: user), authentication: .password(user.password))
            #expect(result.outcome == .added)
            #expect(fixture.authorizedKeys(of: user) == hostile + "\n")
            #expect(!FileManager.default.fileExists(atPath: "\(user.home)/pwned"))
            let test = try await deployer.test(
                target: fixture.target(for: user), privateKey: key.privateKey,
                pinnedHostKeys: result.acceptedHostKeys, publicKeyBlobBase64: key.blob)
            #expect(test.keyPresent == true)
        }
    }

    @Test func deploy_unwritableHome_permissionDeniedRemote() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: user.home)
            let key = try await SSHTestKey.make()
            await #expect(throws: SSHKeyError.permissionDeniedRemote(reason: "cannot create ~/.ssh")) {
                try await deployer.deploy(
                    publicKeyLine: key.publicLine, to: fixture.target(for: user),
                    authentication: .password(user.password))
            }
            #expect(!FileManager.default.fileExists(atPath: "\(user.home)/.ssh"))
        }
    }

    @Test func deploy_toFiveServersConcurrently_allSucceed() async throws {
        let deployer = self.deployer
        let clock = ContinuousClock()
        let key = try await SSHTestKey.make()
        var fixtures: [SSHDFixture] = []
        do {
            let setupStart = clock.now
            try await withThrowingTaskGroup(of: SSHDFixture.self) { group in
                for _ in 0..<5 { group.addTask { try await SSHDFixture.start() } }
                for try await fixture in group { fixtures.append(fixture) }
            }
            let setup = setupStart.duration(to: clock.now)
            let deployStart = clock.now
            let outcomes = try await withThrowingTaskGroup(of: KeyDeploymentResult.Outcome.self) { group in
                for fixture in fixtures {
                    let user = fixture.users[0]
                    group.addTask {
                        try await deployer.deploy(
                            publicKeyLine: key.publicLine, to: fixture.target(for: user),
                            authentication: .password(user.password)
                        ).outcome
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let deploy = deployStart.duration(to: clock.now)
            print("[timing] 5 fixtures started in \(setup), deployed to 5 servers concurrently in \(deploy)")
            #expect(outcomes == Array(repeating: .added, count: 5))
            for fixture in fixtures {
                #expect(fixture.authorizedKeys(of: fixture.users[0]) == key.publicLine + "\n")
            }
            #expect(Set(fixtures.map(\.port)).count == 5)
        } catch {
            for fixture in fixtures { await fixture.stop() }
            throw error
        }
        for fixture in fixtures { await fixture.stop() }
    }

    @Test func deploy_singleServer_timing() async throws {
        try await SSHDFixture.withFixture { fixture in
            let user = try #require(fixture.users.first)
            let key = try await SSHTestKey.make()
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await deployer.deploy(
                publicKeyLine: key.publicLine, to: fixture.target(for: user), authentication: .password(user.password))
            print("[timing] deployed to 1 server in \(start.duration(to: clock.now))")
        }
    }

    @Test func fixture_secondUser_isIndependent() async throws {
        try await SSHDFixture.withFixture(users: 2) { fixture in
            #expect(fixture.users.count == 2)
            let (first, second) = (fixture.users[0], fixture.users[1])
            #expect(first.name != second.name)
            let key = try await SSHTestKey.make()
            _ = try await deployer.deploy(
                publicKeyLine: key.publicLine, to: fixture.target(for: second),
                authentication: .password(second.password))
            #expect(fixture.authorizedKeys(of: first) == nil)
            #expect(fixture.authorizedKeys(of: second) == key.publicLine + "\n")
        }
    }
}

/// Transport failures that need no sshd, or only a closed port.
@Suite struct SSHTransportFailureTests {
    let deployer = SSHTestEnvironment.deployer()

    @Test func deploy_toClosedPort_connectionRefused() async throws {
        let key = try await SSHTestKey.make()
        let port = try closedPort()
        await #expect(throws: SSHKeyError.connectionRefused) {
            try await deployer.deploy(
                publicKeyLine: key.publicLine, to: SSHTarget(host: "127.0.0.1", port: port, username: "nobody"),
                authentication: .password(Secret("irrelevant")))
        }
    }

    @Test func deploy_toUnresolvableHost_dnsFailure() async throws {
        let key = try await SSHTestKey.make()
        await #expect(throws: SSHKeyError.dnsFailure) {
            try await deployer.deploy(
                publicKeyLine: key.publicLine, to: SSHTarget(host: "no-such-host.invalid", username: "nobody"),
                authentication: .password(Secret("irrelevant")))
        }
    }

    @Test(arguments: [
        SSHTarget(host: "-oProxyCommand=touch /tmp/x", port: 22, username: "root"),
        SSHTarget(host: "-oProxyCommand=touch${IFS}/tmp/x", port: 22, username: "root"),
        SSHTarget(host: "127.0.0.1", port: 22, username: "root\nProxyCommand touch /tmp/x"),
        SSHTarget(host: "127.0.0.1", port: 22, username: "-oProxyCommand=touch /tmp/x"),
        SSHTarget(host: "127.0.0.1", port: 0, username: "root"),
        SSHTarget(host: "127.0.0.1", port: 70_000, username: "root"),
        SSHTarget(host: "", port: 22, username: "root"),
    ])
    func deploy_invalidTarget_executesNothing(target: SSHTarget) async throws {
        // /tmp/x is the file an injected ProxyCommand would create.
        try? FileManager.default.removeItem(atPath: "/tmp/x")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/x"))
        let key = try await SSHTestKey.make()
        let recorder = RecordingSSHRunner()
        let guarded = SSHKeyDeployer(runner: recorder)
        await #expect {
            try await guarded.deploy(
                publicKeyLine: key.publicLine, to: target, authentication: .password(Secret("irrelevant")))
        } throws: { error in
            (error as? SSHKeyError)?.code == "invalid_target"
        }
        await #expect {
            try await deployer.deploy(
                publicKeyLine: key.publicLine, to: target, authentication: .password(Secret("irrelevant")))
        } throws: { error in
            (error as? SSHKeyError)?.code == "invalid_target"
        }
        #expect(await recorder.requests.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/x"))
    }

    private func closedPort() throws -> Int {
        // A port that was free a moment ago and has nothing listening.
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketDescriptor, $0, length) == 0 && getsockname(socketDescriptor, $0, &length) == 0
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
