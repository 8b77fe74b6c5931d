import Foundation
import Testing

@testable import SSHKeys

@Suite struct KeyPublicKeyLineTests {
    @Test(arguments: [
        ["-t", "ed25519"], ["-t", "rsa", "-b", "2048"], ["-t", "ecdsa", "-b", "256"], ["-t", "ecdsa", "-b", "521"],
    ])
    func init_sshKeygenPubLine_parsesAndFingerprintsMatch(_ arguments: [String]) throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("k")
        try KeyTool.succeed(KeyTool.sshKeygen, ["-q", "-N", "", "-C", "alice@laptop two", "-f", file] + arguments)
        let line = try scratch.read("k.pub")

        let key = try SSHPublicKey(openSSHLine: line)
        #expect(key.comment == "alice@laptop two")
        #expect(key.authorizedKeysLine == line.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(key.fingerprintSHA256 == (try KeyTool.fingerprint("sha256", file: file + ".pub")))
        #expect(key.fingerprintMD5 == (try KeyTool.fingerprint("md5", file: file + ".pub")))
        #expect(key.blobBase64 == String(line.split(separator: " ")[1]))
        let bits = try KeyTool.succeed(KeyTool.sshKeygen, ["-l", "-f", file + ".pub"]).split(separator: " ")[0]
        #expect(String(key.keySizeBits) == bits)
    }

    @Test func init_withOptionsPrefix_ignoresOptions() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil).publicKey(comment: "ci")
        let line = "from=\"10.0.0.1,10.0.0.2\",command=\"echo hello world\",no-pty \(key.authorizedKeysLine)\r\n"
        let parsed = try SSHPublicKey(openSSHLine: line)
        #expect(parsed == key)
    }

    @Test func init_withoutComment_hasEmptyComment() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil).publicKey
        let parsed = try SSHPublicKey(openSSHLine: "  \(key.algorithm) \(key.blobBase64)  ")
        #expect(parsed.comment == "")
        #expect(parsed.authorizedKeysLine == "\(key.algorithm) \(key.blobBase64)")
    }

    @Test func fingerprints_haveSSHKeygenShape() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil).publicKey
        #expect(key.fingerprintSHA256.hasPrefix("SHA256:"))
        #expect(key.fingerprintSHA256.count == 7 + 43)
        #expect(!key.fingerprintSHA256.contains("="))
        #expect(key.fingerprintMD5.hasPrefix("MD5:"))
        #expect(key.fingerprintMD5.split(separator: ":").count == 17)
        #expect(key.fingerprintMD5.dropFirst(4) == key.fingerprintMD5.dropFirst(4).lowercased())
    }

    @Test func init_algorithmMismatch_throwsInvalidPublicKey() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil).publicKey
        #expect(throws: SSHKeyError.invalidPublicKey(reason: "the algorithm name does not match the key data")) {
            try SSHPublicKey(openSSHLine: "ssh-rsa \(key.blobBase64) x")
        }
    }

    @Test(arguments: [
        "", "hello world", "ssh-ed25519", "ssh-ed25519 !!!", "ssh-ed25519 AAAA",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
    ])
    func init_malformed_throwsInvalidPublicKey(_ line: String) {
        #expect {
            try SSHPublicKey(openSSHLine: line)
        } throws: { error in
            guard case .invalidPublicKey = error as? SSHKeyError else { return false }
            return true
        }
    }

    @Test func init_unknownAlgorithm_throwsUnsupportedKeyType() {
        #expect(throws: SSHKeyError.unsupportedKeyType("sk-ssh-ed25519@openssh.com")) {
            try SSHPublicKey(openSSHLine: "sk-ssh-ed25519@openssh.com AAAA x")
        }
    }
}
