import Foundation
import PipewrightCore
import SSHKeys
import Testing

@Suite struct SSHHostKeyTests {
    @Test func fingerprint_matchesSSHKeygen() async throws {
        let key = try await SSHTestKey.make()
        let fields = key.publicLine.split(separator: " ").map(String.init)
        let hostKey = try HostKey(algorithm: fields[0], blobBase64: fields[1])
        let file = NSTemporaryDirectory() + "pwt-hk-\(UUID().uuidString).pub"
        try Data((key.publicLine + "\n").utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try await SubprocessRunner().run(
            ProcessInvocation(executable: .path("/usr/bin/ssh-keygen"), arguments: ["-l", "-E", "sha256", "-f", file]))
        let expected = result.standardOutputText.split(separator: " ")[1]
        #expect(hostKey.fingerprintSHA256 == String(expected))
        #expect(hostKey.fingerprintSHA256.count == 7 + 43)
    }

    @Test func knownHostsLine_usesBracketsForNonDefaultPort() throws {
        let key = try HostKey(
            algorithm: "ssh-ed25519", blobBase64: "AAAAC3NzaC1lZDI1NTE5AAAAIH+1I349HB4jo3/yqatD9Vp4RjvBYBhL6pAhqUiG+cIv"
        )
        #expect(
            key.knownHostsLine(host: "127.0.0.1", port: 22022)
                == "[127.0.0.1]:22022 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH+1I349HB4jo3/yqatD9Vp4RjvBYBhL6pAhqUiG+cIv")
        #expect(key.knownHostsLine(host: "Example.com", port: 22).hasPrefix("example.com ssh-ed25519 "))
        #expect(HostKey.knownHostsPattern(host: "::1", port: 2222) == "[::1]:2222")
    }

    @Test func parseKnownHosts_skipsCommentsMarkersAndGarbage() throws {
        let blob = "AAAAC3NzaC1lZDI1NTE5AAAAIH+1I349HB4jo3/yqatD9Vp4RjvBYBhL6pAhqUiG+cIv"
        let text = """
            # comment
            [127.0.0.1]:22022 ssh-ed25519 \(blob)
            @revoked * ssh-ed25519 \(blob)
            host ssh-ed25519 not-base64!
            host ssh-rsa \(blob)
            [127.0.0.1]:22022 ssh-ed25519 \(blob)\r
            """
        #expect(HostKey.parseKnownHosts(text) == [try HostKey(algorithm: "ssh-ed25519", blobBase64: blob)])
    }

    @Test func init_rejectsMismatchedAlgorithmAndBadBase64() {
        let blob = "AAAAC3NzaC1lZDI1NTE5AAAAIH+1I349HB4jo3/yqatD9Vp4RjvBYBhL6pAhqUiG+cIv"
        #expect(throws: SSHKeyError.self) { try HostKey(algorithm: "ssh-rsa", blobBase64: blob) }
        #expect(throws: SSHKeyError.self) { try HostKey(algorithm: "ssh-ed25519", blobBase64: "%%%") }
        #expect(throws: SSHKeyError.self) { try HostKey(algorithm: "SSH ED", blobBase64: blob) }
    }

    @Test func policy_rawValues() {
        #expect(HostKeyPolicy(rawValue: "tofu") == .tofu)
        #expect(HostKeyPolicy(rawValue: "strict") == .strict)
    }
}
