import Foundation
import PipewrightCore
import Testing

@testable import SSHKeys

/// Keys generated in-process, written as openssh-key-v1 and checked with the real `ssh-keygen`.
@Suite struct KeyOpenSSHExportTests {
    /// RSA-4096 generation takes seconds: generate it once for the whole suite.
    static let rsa4096: Result<SSHPrivateKey, any Error> = Result { try KeyGenerator.generate(type: .rsa, bits: 4096) }

    enum Kind: String, CaseIterable, Sendable {
        case ed25519, rsa2048, rsa4096
    }

    static func key(_ kind: Kind) throws -> SSHPrivateKey {
        switch kind {
        case .ed25519: try KeyGenerator.generate(type: .ed25519, bits: nil)
        case .rsa2048: try KeyGenerator.generate(type: .rsa, bits: 2048)
        case .rsa4096: try rsa4096.get()
        }
    }

    @Test(arguments: Kind.allCases)
    func export_unencrypted_sshKeygenDerivesSamePublicKey(_ kind: Kind) throws {
        let key = try Self.key(kind)
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let pem = try key.openSSHPrivateKeyPEM(comment: "deploy@pipewright", passphrase: nil)
        let file = try scratch.write("id", pem.value)

        let derived = try KeyTool.succeed(KeyTool.sshKeygen, ["-y", "-P", "", "-f", file])
        let ours = key.publicKey(comment: "deploy@pipewright")
        #expect(KeyTool.typeAndBlob(derived) == KeyTool.typeAndBlob(ours.authorizedKeysLine))
        // ssh-keygen -y also prints the comment stored in the private key.
        #expect(derived.trimmingCharacters(in: .whitespacesAndNewlines) == ours.authorizedKeysLine)
    }

    @Test(arguments: Kind.allCases)
    func fingerprints_matchSSHKeygen(_ kind: Kind) throws {
        let key = try Self.key(kind)
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let publicKey = key.publicKey(comment: "fp test")
        let pub = try scratch.write("id.pub", publicKey.authorizedKeysLine + "\n")

        #expect(try KeyTool.fingerprint("sha256", file: pub) == publicKey.fingerprintSHA256)
        #expect(try KeyTool.fingerprint("md5", file: pub) == publicKey.fingerprintMD5)
        let output = try KeyTool.succeed(KeyTool.sshKeygen, ["-l", "-f", pub])
        #expect(output.hasPrefix("\(key.keySizeBits) "))
    }

    @Test(arguments: Kind.allCases)
    func export_withPassphrase_sshKeygenDecryptsIt(_ kind: Kind) throws {
        let key = try Self.key(kind)
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let pem = try key.openSSHPrivateKeyPEM(comment: "enc", passphrase: Secret("correct horse"))
        let file = try scratch.write("id", pem.value)

        let derived = try KeyTool.succeed(KeyTool.sshKeygen, ["-y", "-P", "correct horse", "-f", file])
        #expect(KeyTool.typeAndBlob(derived) == KeyTool.typeAndBlob(key.publicKey.authorizedKeysLine))

        let wrong = try KeyTool.run(KeyTool.sshKeygen, ["-y", "-P", "wrong horse", "-f", file])
        #expect(wrong.status != 0)
        #expect(wrong.stdout.isEmpty)
    }

    @Test func export_withPassphrase_usesAES256CTRAndBcrypt16Rounds() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "x", passphrase: Secret("secret pass"))
        let blocks = try PEMBlock.parseAll(pem.value)
        var reader = SSHWireReader(blocks[0].body.dropFirst(OpenSSHPrivateKeyCodec.magic.count))
        #expect(try reader.readText() == "aes256-ctr")
        #expect(try reader.readText() == "bcrypt")
        var options = SSHWireReader(try reader.readString())
        #expect(try options.readString().count == 16)
        #expect(try options.readUInt32() == 16)
        #expect(try reader.readUInt32() == 1)
        #expect(try reader.readString() == key.publicKey.blob)
        #expect(try reader.readString().count % 16 == 0)
        #expect(reader.isAtEnd)
    }

    @Test func export_layout_matchesSSHKeygen() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "layout", passphrase: nil).value
        let lines = pem.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "-----BEGIN OPENSSH PRIVATE KEY-----")
        #expect(lines.dropLast().last == "-----END OPENSSH PRIVATE KEY-----")
        #expect(lines.last == "")  // final newline
        let body = lines.dropFirst().dropLast(2)
        #expect(body.dropLast().allSatisfy { $0.count == 70 })
        #expect((body.last?.count ?? 0) <= 70)

        let container = try PEMBlock.parseAll(pem)[0].body
        var reader = SSHWireReader(container.dropFirst(OpenSSHPrivateKeyCodec.magic.count))
        #expect(try reader.readText() == "none")
        #expect(try reader.readText() == "none")
        #expect(try reader.readString().isEmpty)
        _ = try reader.readUInt32()
        _ = try reader.readString()
        let section = try reader.readString()
        #expect(section.count % 8 == 0)
        var inner = SSHWireReader(section)
        #expect(try inner.readUInt32() == inner.readUInt32())
        #expect(try inner.readText() == "ssh-ed25519")
        _ = try inner.readString()
        #expect(try inner.readString().count == 64)
        #expect(try inner.readText() == "layout")
        let padding = Array(inner.remaining)
        #expect(padding == Array(1...UInt8(max(padding.count, 1))).prefix(padding.count).map { $0 })
    }

    @Test(arguments: Kind.allCases)
    func export_thenImport_roundTrips(_ kind: Kind) throws {
        let key = try Self.key(kind)
        let plain = try PrivateKeyImporter.parse(
            try key.openSSHPrivateKeyPEM(comment: "rt", passphrase: nil).value, passphrase: nil)
        #expect(plain.key.publicKey.blob == key.publicKey.blob)
        #expect(plain.comment == "rt")
        #expect(!plain.wasPassphraseProtected)

        let encrypted = try key.openSSHPrivateKeyPEM(comment: "rt2", passphrase: Secret("pass phrase"))
        let opened = try PrivateKeyImporter.parse(encrypted.value, passphrase: Secret("pass phrase"))
        #expect(opened.key.publicKey.blob == key.publicKey.blob)
        #expect(opened.comment == "rt2")
        #expect(opened.wasPassphraseProtected)
    }

    @Test func export_emptyPassphrase_writesUnencrypted() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "", passphrase: Secret(""))
        let imported = try PrivateKeyImporter.parse(pem.value, passphrase: nil)
        #expect(!imported.wasPassphraseProtected)
    }
}
