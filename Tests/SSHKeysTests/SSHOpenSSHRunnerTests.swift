import Foundation
import PipewrightCore
import PipewrightTesting
import Testing

@testable import SSHKeys

@Suite struct SSHOpenSSHRunnerTests {
    static let blob = "AAAAC3NzaC1lZDI1NTE5AAAAIH+1I349HB4jo3/yqatD9Vp4RjvBYBhL6pAhqUiG+cIv"
    let target = SSHTarget(host: "Server.Example", port: 2222, username: "deploy")
    let password = "S3cret pw with 'quotes' and $(id)"

    @Test func passwordLogin_argumentsEnvironmentAndFiles() async throws {
        let fake = FakeProcessRunner { _ in ProcessResult(termination: .exited(0), standardOutput: Array("ok\n".utf8)) }
        let runner = OpenSSHRunner(processRunner: fake)
        let pinned = try HostKey(algorithm: "ssh-ed25519", blobBase64: Self.blob)
        let result = try await runner.run(
            SSHCommandRequest(
                target: target, authentication: .password(Secret(password)), pinnedHostKeys: [pinned],
                standardInput: Array("echo hi\n".utf8), connectTimeout: .milliseconds(2500), timeout: .seconds(42)))
        #expect(result.exitStatus == 0)
        #expect(result.standardOutput == "ok\n")
        #expect(result.acceptedHostKeys.isEmpty)

        let snapshot = try #require(fake.recorded.first)
        let invocation = snapshot.invocation
        #expect(invocation.executable == .name("ssh"))
        #expect(invocation.timeout == .seconds(42))
        #expect(invocation.standardInput == Array("echo hi\n".utf8))
        let arguments = invocation.arguments
        #expect(Array(arguments.suffix(5)) == ["-p", "2222", "--", "deploy@server.example", "sh -s"])
        for option in [
            "BatchMode=no", "StrictHostKeyChecking=yes", "GlobalKnownHostsFile=/dev/null", "HashKnownHosts=no",
            "LogLevel=ERROR", "ConnectTimeout=3", "PreferredAuthentications=password,keyboard-interactive",
            "PubkeyAuthentication=no", "NumberOfPasswordPrompts=1", "IdentityAgent=none",
        ] {
            #expect(arguments.contains(option), "missing -o \(option)")
        }
        #expect(Array(arguments.prefix(3)) == ["-F", "/dev/null", "-T"])
        // The password is nowhere in argv or the environment.
        #expect(!arguments.joined(separator: " ").contains(password))
        #expect(!invocation.environmentAdditions.values.contains { $0.contains(password) })
        #expect(invocation.environmentAdditions["SSH_ASKPASS_REQUIRE"] == "force")

        // Files: password 0600, askpass 0700, known_hosts from the pin, directory 0700.
        #expect(snapshot.directoryMode == 0o700)
        #expect(snapshot.files["password"]?.contents == password)
        #expect(snapshot.files["password"]?.mode == 0o600)
        #expect(snapshot.files["askpass"]?.mode == 0o700)
        #expect(snapshot.files["askpass"]?.contents == "#!/bin/sh\nexec cat -- \"$PIPEWRIGHT_ASKPASS_FILE\"\n")
        #expect(snapshot.files["known_hosts"]?.contents == "[server.example]:2222 ssh-ed25519 \(Self.blob)\n")
        #expect(snapshot.files["known_hosts"]?.mode == 0o600)
        // ...and the directory is gone afterwards.
        let directory = try #require(snapshot.directory)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func checkedAddress_isTheDestination_andPinsStayUnderTheName() async throws {
        let fake = FakeProcessRunner { _ in ProcessResult(termination: .exited(0)) }
        let runner = OpenSSHRunner(processRunner: fake)
        let pinned = try HostKey(algorithm: "ssh-ed25519", blobBase64: Self.blob)
        var checked = target
        checked.connectAddress = "192.0.2.10"
        _ = try await runner.run(
            SSHCommandRequest(target: checked, authentication: .privateKey(Secret("k")), pinnedHostKeys: [pinned]))
        let snapshot = try #require(fake.recorded.first)
        let arguments = snapshot.invocation.arguments
        #expect(Array(arguments.suffix(4)) == ["2222", "--", "deploy@192.0.2.10", "sh -s"])
        #expect(arguments.contains("HostKeyAlias=[server.example]:2222"))
        #expect(snapshot.files["known_hosts"]?.contents == "[server.example]:2222 ssh-ed25519 \(Self.blob)\n")
        // Without a checked address nothing changes.
        _ = try await runner.run(SSHCommandRequest(target: target, authentication: .privateKey(Secret("k"))))
        #expect(!(try #require(fake.recorded.last)).invocation.arguments.contains { $0.hasPrefix("HostKeyAlias=") })
    }

    @Test func keyLogin_usesIdentityFileAndBatchMode() async throws {
        let fake = FakeProcessRunner { _ in ProcessResult(termination: .exited(0)) }
        let runner = OpenSSHRunner(processRunner: fake, sshExecutable: "/usr/local/bin/ssh")
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\r\nAAAA\r\n-----END OPENSSH PRIVATE KEY-----"
        _ = try await runner.run(SSHCommandRequest(target: target, authentication: .privateKey(Secret(pem))))
        let snapshot = try #require(fake.recorded.first)
        let arguments = snapshot.invocation.arguments
        #expect(snapshot.invocation.executable == .path("/usr/local/bin/ssh"))
        for option in ["BatchMode=yes", "IdentitiesOnly=yes", "IdentityAgent=none", "StrictHostKeyChecking=accept-new"]
        {
            #expect(arguments.contains(option), "missing -o \(option)")
        }
        let identityIndex = try #require(arguments.firstIndex(of: "-i"))
        #expect(arguments[identityIndex + 1].hasSuffix("/id"))
        #expect(snapshot.files["id"]?.mode == 0o600)
        #expect(
            snapshot.files["id"]?.contents
                == "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
        #expect(!arguments.joined().contains("AAAA"))
    }

    @Test func legacyRSASHA1_offersSSHRSAFirst_onlyForThatTarget_andARefusedRSAKeyIsProbedOnce() async throws {
        let refused = "deploy@server.example: Permission denied (publickey).\n"
        let fake = FakeProcessRunner { invocation in
            let legacy = invocation.arguments.contains("PubkeyAcceptedAlgorithms=^ssh-rsa")
            return legacy
                ? ProcessResult(termination: .exited(0))
                : ProcessResult(termination: .exited(255), standardError: Array(refused.utf8))
        }
        let runner = OpenSSHRunner(processRunner: fake)
        let rsa = Secret("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
        await #expect(throws: SSHKeyError.unsupportedSignatureAlgorithm) {
            _ = try await runner.run(SSHCommandRequest(target: target, authentication: .privateKey(rsa)))
        }
        #expect(fake.recorded.count == 2)
        #expect(fake.recorded.last?.invocation.arguments.last == "exit 0")
        // Opted in: ssh-rsa first, one session.
        var legacy = target
        legacy.allowsLegacyRSASHA1 = true
        _ = try await runner.run(SSHCommandRequest(target: legacy, authentication: .privateKey(rsa)))
        #expect(fake.recorded.count == 3)
        // Passwords never probe (a probe must not cost a password attempt); Ed25519 keys neither.
        await #expect(throws: SSHKeyError.authFailed) {
            _ = try await runner.run(SSHCommandRequest(target: target, authentication: .password(Secret("x"))))
        }
        #expect(fake.recorded.count == 4)
        #expect(!OpenSSHRunner.mayBeRSA("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----"))
    }

    @Test func tofu_returnsKeysWrittenByAcceptNew() async throws {
        let fake = FakeProcessRunner { invocation in
            // Simulate OpenSSH appending the presented key under accept-new.
            if let option = invocation.arguments.first(where: { $0.hasPrefix("UserKnownHostsFile=") }) {
                let path = String(option.dropFirst("UserKnownHostsFile=".count))
                try? Data("[server.example]:2222 ssh-ed25519 \(Self.blob)\n".utf8).write(to: URL(fileURLWithPath: path))
            }
            return ProcessResult(termination: .exited(0))
        }
        let result = try await OpenSSHRunner(processRunner: fake).run(
            SSHCommandRequest(target: target, authentication: .password(Secret("x"))))
        #expect(result.acceptedHostKeys == [try HostKey(algorithm: "ssh-ed25519", blobBase64: Self.blob)])
    }

    @Test func strictWithoutPins_throwsBeforeRunning() async throws {
        let fake = FakeProcessRunner { _ in ProcessResult(termination: .exited(0)) }
        await #expect(throws: SSHKeyError.hostKeyUnknown(presented: nil)) {
            try await OpenSSHRunner(processRunner: fake).run(
                SSHCommandRequest(target: target, authentication: .password(Secret("x")), hostKeyPolicy: .strict))
        }
        #expect(fake.recorded.isEmpty)
    }

    @Test func timeoutAndSignal_areClassified() async throws {
        let timedOut = FakeProcessRunner { _ in ProcessResult(termination: .timedOut) }
        await #expect(throws: SSHKeyError.timeout) {
            try await OpenSSHRunner(processRunner: timedOut).run(
                SSHCommandRequest(target: target, authentication: .password(Secret("x"))))
        }
        let killed = FakeProcessRunner { _ in ProcessResult(termination: .signaled(9)) }
        await #expect(throws: SSHKeyError.sshFailed(exit: -1, summary: "ssh was ended by signal 9")) {
            try await OpenSSHRunner(processRunner: killed).run(
                SSHCommandRequest(target: target, authentication: .password(Secret("x"))))
        }
    }

    @Test func stderrOfExit255_isRedactedInSummary() async throws {
        let secret = "hunter2-very-secret"
        let fake = FakeProcessRunner { invocation in
            let directory =
                invocation.environmentAdditions["SSH_ASKPASS"].map { ($0 as NSString).deletingLastPathComponent } ?? ""
            return ProcessResult(
                termination: .exited(255), standardError: Array("weird failure in \(directory) with \(secret)\n".utf8))
        }
        await #expect(throws: SSHKeyError.sshFailed(exit: 255, summary: "weird failure in <tmp> with <redacted>")) {
            try await OpenSSHRunner(processRunner: fake).run(
                SSHCommandRequest(target: target, authentication: .password(Secret(secret))))
        }
    }

    static let mismatchBanner = """
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
        The fingerprint for the ED25519 key sent by the remote host is
        SHA256:CwYTqWkR2glRtsNA3zmUnTa37EVOI3Hya6kjSCg0GHY.
        Please contact your system administrator.
        Host key for [127.0.0.1]:22099 has changed and you have requested strict checking.
        Host key verification failed.
        """

    @Test(arguments: [
        (
            mismatchBanner, ["SHA256:old"],
            SSHKeyError.hostKeyMismatch(
                pinned: ["SHA256:old"], presented: "SHA256:CwYTqWkR2glRtsNA3zmUnTa37EVOI3Hya6kjSCg0GHY")
        ),
        (
            "No ED25519 host key is known for [127.0.0.1]:22099 and you have requested strict checking.\nHost key verification failed.\n",
            ["SHA256:rsa"], SSHKeyError.hostKeyMismatch(pinned: ["SHA256:rsa"], presented: "unknown")
        ),
        (
            "No ED25519 host key is known for x.\nHost key verification failed.\n", [],
            SSHKeyError.hostKeyUnknown(presented: nil)
        ),
        ("pwtest@127.0.0.1: Permission denied (publickey,password).\n", [], SSHKeyError.authFailed),
        ("Received disconnect from 1.2.3.4 port 22:2: Too many authentication failures\n", [], SSHKeyError.authFailed),
        ("ssh: connect to host 127.0.0.1 port 22098: Connection refused\n", [], SSHKeyError.connectionRefused),
        ("ssh: Could not resolve hostname nosuch.invalid: Name or service not known\n", [], SSHKeyError.dnsFailure),
        ("ssh: connect to host 10.255.255.1 port 22: Connection timed out\n", [], SSHKeyError.timeout),
        ("Connection timed out during banner exchange\n", [], SSHKeyError.timeout),
        (
            "kex_exchange_identification: Connection closed by remote host\r\n\n", [],
            SSHKeyError.sshFailed(exit: 255, summary: "kex_exchange_identification: Connection closed by remote host")
        ),
    ])
    func classifier_mapsOpenSSHMessages(stderr: String, pinned: [String], expected: SSHKeyError) {
        #expect(
            SSHFailureClassifier.classify(exitStatus: 255, standardError: stderr, pinnedFingerprints: pinned)
                == expected)
    }

    @Test func errors_haveStableCodesAndSafeDetails() {
        let mismatch = SSHKeyError.hostKeyMismatch(pinned: ["SHA256:a", "SHA256:b"], presented: "SHA256:c")
        #expect(mismatch.code == "host_key_mismatch")
        #expect(mismatch.details == ["pinned_fingerprints": "SHA256:a,SHA256:b", "presented_fingerprint": "SHA256:c"])
        #expect(SSHKeyError.authFailed.code == "auth_failed")
        #expect(SSHKeyError.hostKeyUnknown(presented: nil).code == "host_key_unknown")
        #expect(SSHKeyError.connectionRefused.code == "connection_refused")
        #expect(SSHKeyError.timeout.code == "timeout")
        #expect(SSHKeyError.dnsFailure.code == "dns_failure")
        #expect(SSHKeyError.permissionDeniedRemote(reason: "x").code == "permission_denied_remote")
        #expect(SSHKeyError.sshFailed(exit: 255, summary: "x").code == "ssh_failed")
        #expect(SSHKeyError.remoteScriptFailed(exit: 4, reason: "x").code == "remote_script_failed")
    }
}
