import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing

/// A client key pair made by `ssh-keygen` for the SSH tests (test-only comment).
struct SSHTestKey: Sendable {
    /// Unencrypted OpenSSH private key text.
    let privateKey: Secret<String>
    /// `ssh-ed25519 AAAA… <comment>`, without newline.
    let publicLine: String
    /// The base64 blob (second field).
    var blob: String { String(publicLine.split(separator: " ")[1]) }

    /// Generates an Ed25519 key with `ssh-keygen` and `comment`.
    static func make(comment: String = "pipewright-test-only") async throws -> SSHTestKey {
        let directory = NSTemporaryDirectory() + "pwt-key-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await SubprocessRunner().run(
            ProcessInvocation(
                executable: .path("/usr/bin/ssh-keygen"),
                arguments: ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", "\(directory)/k"]))
        try #require(result.exitStatus == 0, "ssh-keygen: \(result.standardErrorText)")
        let privateText = try String(contentsOfFile: "\(directory)/k", encoding: .utf8)
        let publicText = try String(contentsOfFile: "\(directory)/k.pub", encoding: .utf8)
        return SSHTestKey(
            privateKey: Secret(privateText),
            publicLine: publicText.trimmingCharacters(in: .newlines))
    }
}

/// Shared helpers for the OpenSSH integration tests.
enum SSHTestEnvironment {
    /// Whether the real-sshd tests can run here (root, sshd and ssh installed).
    static var canRunSSHD: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh")
    }

    /// A deployer on the live OpenSSH runner with short timeouts.
    static func deployer() -> SSHKeyDeployer {
        SSHKeyDeployer(runner: OpenSSHRunner(), connectTimeout: .seconds(5), commandTimeout: .seconds(30))
    }
}
