import Foundation
import PipewrightCore
import Testing

@testable import SSHKeys

/// Imports keys written by the real `ssh-keygen` / `openssl` at test time and compares fingerprints.
@Suite struct KeyImportTests {
    static let passphrase = "correct horse"

    /// An `ssh-keygen` invocation and what the import should report.
    struct KeygenCase: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var type: KeyType
        var bits: Int
        var encrypted: Bool
        var expectsComment: Bool
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let keygenCases: [KeygenCase] = [
        KeygenCase(
            arguments: ["-t", "ed25519", "-N", ""], type: .ed25519, bits: 256, encrypted: false, expectsComment: true),
        KeygenCase(
            arguments: ["-t", "ed25519", "-N", passphrase], type: .ed25519, bits: 256, encrypted: true,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "2048", "-N", ""], type: .rsa, bits: 2048, encrypted: false,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "2048", "-N", passphrase], type: .rsa, bits: 2048, encrypted: true,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""], type: .rsa, bits: 2048, encrypted: false,
            expectsComment: false),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", passphrase], type: .rsa, bits: 2048,
            encrypted: true, expectsComment: false),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", ""], type: .rsa, bits: 2048, encrypted: false,
            expectsComment: false),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", passphrase], type: .rsa, bits: 2048,
            encrypted: true, expectsComment: false),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "2048", "-m", "RFC4716", "-N", ""], type: .rsa, bits: 2048, encrypted: false,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "rsa", "-b", "4096", "-N", ""], type: .rsa, bits: 4096, encrypted: false,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "ecdsa", "-b", "256", "-N", ""], type: .ecdsa, bits: 256, encrypted: false,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "ecdsa", "-b", "384", "-N", passphrase], type: .ecdsa, bits: 384, encrypted: true,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "ecdsa", "-b", "521", "-N", ""], type: .ecdsa, bits: 521, encrypted: false,
            expectsComment: true),
        KeygenCase(
            arguments: ["-t", "ecdsa", "-b", "256", "-m", "PEM", "-N", ""], type: .ecdsa, bits: 256, encrypted: false,
            expectsComment: false),
        KeygenCase(
            arguments: ["-t", "ecdsa", "-b", "256", "-m", "PEM", "-N", passphrase], type: .ecdsa, bits: 256,
            encrypted: true, expectsComment: false),
        KeygenCase(
            arguments: ["-t", "ecdsa", "-b", "384", "-m", "PKCS8", "-N", ""], type: .ecdsa, bits: 384, encrypted: false,
            expectsComment: false),
        KeygenCase(
            arguments: ["-t", "ecdsa", "-b", "521", "-m", "PKCS8", "-N", passphrase], type: .ecdsa, bits: 521,
            encrypted: true, expectsComment: false),
    ]

    @Test(arguments: keygenCases)
    func parse_sshKeygenKey_fingerprintMatches(_ testCase: KeygenCase) throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("k")
        try KeyTool.succeed(KeyTool.sshKeygen, ["-q", "-C", "imported@test", "-f", file] + testCase.arguments)
        let text = try scratch.read("k")

        let imported = try PrivateKeyImporter.parse(
            text, passphrase: testCase.encrypted ? Secret(Self.passphrase) : nil)
        #expect(imported.key.keyType == testCase.type)
        #expect(imported.key.keySizeBits == testCase.bits)
        #expect(imported.wasPassphraseProtected == testCase.encrypted)
        #expect(imported.comment == (testCase.expectsComment ? "imported@test" : nil))
        #expect(imported.key.publicKey.fingerprintSHA256 == (try KeyTool.fingerprint("sha256", file: file + ".pub")))
        #expect(imported.key.publicKey.fingerprintMD5 == (try KeyTool.fingerprint("md5", file: file + ".pub")))
        let pubLine = try scratch.read("k.pub")
        #expect(KeyTool.typeAndBlob(imported.key.publicKey.authorizedKeysLine) == KeyTool.typeAndBlob(pubLine))

        if testCase.encrypted {
            #expect(throws: SSHKeyError.wrongPassphrase) {
                try PrivateKeyImporter.parse(text, passphrase: Secret("wrong horse"))
            }
            #expect(throws: SSHKeyError.wrongPassphrase) {
                try PrivateKeyImporter.parse(text, passphrase: nil)
            }
        }
    }

    /// Re-exporting an imported key as openssh-key-v1 must still be accepted by ssh-keygen (ECDSA included).
    @Test(arguments: ["256", "384", "521"])
    func parse_ecdsaThenExport_sshKeygenAccepts(_ bits: String) throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let source = scratch.file("src")
        try KeyTool.succeed(KeyTool.sshKeygen, ["-q", "-t", "ecdsa", "-b", bits, "-N", "", "-f", source])
        let imported = try PrivateKeyImporter.parse(try scratch.read("src"), passphrase: nil)
        let file = try scratch.write(
            "out", try imported.key.openSSHPrivateKeyPEM(comment: "re", passphrase: Secret("pass phrase")).value)
        let derived = try KeyTool.succeed(KeyTool.sshKeygen, ["-y", "-P", "pass phrase", "-f", file])
        #expect(KeyTool.typeAndBlob(derived) == KeyTool.typeAndBlob(try scratch.read("src.pub")))
    }

    // MARK: - openssl-written keys

    struct OpenSSLCase: Sendable, CustomTestStringConvertible {
        var name: String
        var commands: [[String]]  // run in order; "IN"/"OUT" are replaced by file paths
        var type: KeyType
        var bits: Int
        var encrypted: Bool
        var testDescription: String { name }
    }

    static let openSSLCases: [OpenSSLCase] = [
        OpenSSLCase(
            name: "ed25519 PKCS#8", commands: [["genpkey", "-algorithm", "ed25519", "-out", "OUT"]],
            type: .ed25519, bits: 256, encrypted: false),
        OpenSSLCase(
            name: "ed25519 encrypted PKCS#8 aes-256-cbc",
            commands: [
                ["genpkey", "-algorithm", "ed25519", "-out", "IN"],
                [
                    "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:\(passphrase)", "-in", "IN", "-out",
                    "OUT",
                ],
            ],
            type: .ed25519, bits: 256, encrypted: true),
        OpenSSLCase(
            name: "rsa PKCS#8",
            commands: [["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "OUT"]],
            type: .rsa, bits: 2048, encrypted: false),
        OpenSSLCase(
            name: "rsa encrypted PKCS#8 aes-128-cbc sha1 prf",
            commands: [
                ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "IN"],
                [
                    "pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-passout", "pass:\(passphrase)",
                    "-in", "IN", "-out", "OUT",
                ],
            ],
            type: .rsa, bits: 2048, encrypted: true),
        OpenSSLCase(
            name: "rsa legacy PEM aes-256-cbc",
            commands: [
                ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "IN"],
                ["rsa", "-traditional", "-aes256", "-passout", "pass:\(passphrase)", "-in", "IN", "-out", "OUT"],
            ],
            type: .rsa, bits: 2048, encrypted: true),
        OpenSSLCase(
            name: "ec P-384 SEC1", commands: [["ecparam", "-genkey", "-name", "secp384r1", "-noout", "-out", "OUT"]],
            type: .ecdsa, bits: 384, encrypted: false),
        OpenSSLCase(
            name: "ec P-256 SEC1 with EC PARAMETERS block first",
            commands: [["ecparam", "-genkey", "-name", "prime256v1", "-out", "OUT"]],
            type: .ecdsa, bits: 256, encrypted: false),
        OpenSSLCase(
            name: "ec P-256 encrypted PKCS#8",
            commands: [
                ["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", "IN"],
                [
                    "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:\(passphrase)", "-in", "IN", "-out",
                    "OUT",
                ],
            ],
            type: .ecdsa, bits: 256, encrypted: true),
    ]

    @Test(.enabled(if: KeyTool.hasOpenSSL), arguments: openSSLCases)
    func parse_opensslKey_fingerprintMatchesSSHKeygen(_ testCase: OpenSSLCase) throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        for command in testCase.commands {
            let arguments = command.map { $0 == "IN" ? scratch.file("in") : $0 == "OUT" ? scratch.file("out") : $0 }
            try KeyTool.succeed(KeyTool.openssl, arguments)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: scratch.file("out"))
        let text = try scratch.read("out")

        let imported = try PrivateKeyImporter.parse(
            text, passphrase: testCase.encrypted ? Secret(Self.passphrase) : nil)
        #expect(imported.key.keyType == testCase.type)
        #expect(imported.key.keySizeBits == testCase.bits)
        #expect(imported.wasPassphraseProtected == testCase.encrypted)
        #expect(imported.comment == nil)

        if testCase.type == .ed25519 {
            // OpenSSH 9.2 cannot read PEM Ed25519 keys: compare with openssl's SubjectPublicKeyInfo,
            // whose last 32 bytes are the raw public key (RFC 8410).
            var arguments = [
                "pkey", "-in", scratch.file("out"), "-pubout", "-outform", "DER", "-out", scratch.file("spki"),
            ]
            if testCase.encrypted { arguments += ["-passin", "pass:\(Self.passphrase)"] }
            try KeyTool.succeed(KeyTool.openssl, arguments)
            let spki = try Data(contentsOf: URL(fileURLWithPath: scratch.file("spki")))
            var expectedBlob = SSHWireWriter()
            expectedBlob.writeString("ssh-ed25519")
            expectedBlob.writeString(Array(spki.suffix(32)))
            #expect(imported.key.publicKey.blob == expectedBlob.bytes)
        } else {
            // ssh-keygen reads these formats itself: compare its public key with ours.
            let derived = try KeyTool.succeed(
                KeyTool.sshKeygen, ["-y", "-P", testCase.encrypted ? Self.passphrase : "", "-f", scratch.file("out")])
            #expect(KeyTool.typeAndBlob(derived) == KeyTool.typeAndBlob(imported.key.publicKey.authorizedKeysLine))
        }
        if testCase.encrypted {
            #expect(throws: SSHKeyError.wrongPassphrase) {
                try PrivateKeyImporter.parse(text, passphrase: Secret("wrong horse"))
            }
        }
    }

    @Test(.enabled(if: KeyTool.hasOpenSSL))
    func parse_encryptedEd25519PKCS8_matchesUnencryptedOriginal() throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        try KeyTool.succeed(KeyTool.openssl, ["genpkey", "-algorithm", "ed25519", "-out", scratch.file("plain")])
        try KeyTool.succeed(
            KeyTool.openssl,
            [
                "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:\(Self.passphrase)", "-in",
                scratch.file("plain"),
                "-out", scratch.file("enc"),
            ])
        let plain = try PrivateKeyImporter.parse(try scratch.read("plain"), passphrase: nil)
        let encrypted = try PrivateKeyImporter.parse(try scratch.read("enc"), passphrase: Secret(Self.passphrase))
        #expect(plain.key.publicKey == encrypted.key.publicKey)
    }

    // MARK: - Text tolerance

    @Test func parse_crlfWhitespaceAndNoFinalNewline_accepted() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "crlf", passphrase: nil).value
        let mangled =
            "\n   \t" + pem.trimmingCharacters(in: .newlines).replacingOccurrences(of: "\n", with: "\r\n") + "  \r\n\n "
        let imported = try PrivateKeyImporter.parse(mangled, passphrase: nil)
        #expect(imported.key.publicKey.blob == key.publicKey.blob)

        let noFinalNewline = String(pem.dropLast())
        #expect(try PrivateKeyImporter.parse(noFinalNewline, passphrase: nil).key.publicKey.blob == key.publicKey.blob)
    }

    @Test func parse_keyWithTextAroundIt_throwsInvalidPrivateKeyNamingTheText() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "junk", passphrase: nil).value
        for (text, expected) in [
            (pem + "<html>404</html>", "after the key block: \"<html>404</html>\""),
            ("HTTP/1.1 404\n" + pem, "before the key block: \"HTTP/1.1 404\""),
        ] {
            #expect {
                try PrivateKeyImporter.parse(text, passphrase: nil)
            } throws: { error in
                guard case .invalidPrivateKey(let reason) = error as? SSHKeyError else { return false }
                return reason.contains(expected)
            }
        }
    }

    @Test func fingerprintSpelling_readsEveryCommonSpelling() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil).publicKey
        let sha = String(key.fingerprintSHA256.dropFirst(7))
        let md5 = String(key.fingerprintMD5.dropFirst(4))
        for text in [key.fingerprintSHA256, sha, sha + "=", "sha256:" + sha + "="] {
            #expect(FingerprintSpelling(text) == .sha256(key.fingerprintSHA256), "\(text)")
        }
        for text in [key.fingerprintMD5, md5, md5.uppercased(), "md5:" + md5.replacingOccurrences(of: ":", with: "")] {
            #expect(FingerprintSpelling(text) == .md5(key.fingerprintMD5), "\(text)")
        }
        for text in ["", "deploy", "MD5:" + sha, "SHA256:" + md5, String(sha.dropLast()), "MD5:zz"] {
            #expect(FingerprintSpelling(text) == nil, "\(text)")
        }
    }

    @Test func parse_crlfLegacyEncryptedPEM_accepted() throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("k")
        try KeyTool.succeed(
            KeyTool.sshKeygen, ["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", Self.passphrase, "-f", file])
        let text = try scratch.read("k").replacingOccurrences(of: "\n", with: "\r\n")
        let imported = try PrivateKeyImporter.parse(text, passphrase: Secret(Self.passphrase))
        #expect(imported.key.publicKey.fingerprintSHA256 == (try KeyTool.fingerprint("sha256", file: file + ".pub")))
    }

    // MARK: - Refusals

    @Test func parse_sshKeygenDSAKey_throwsUnsupportedKeyType() throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("dsa")
        let result = try KeyTool.run(KeyTool.sshKeygen, ["-q", "-t", "dsa", "-N", "", "-f", file])
        try #require(result.status == 0, "ssh-keygen -t dsa is disabled here: \(result.stderr)")
        #expect(throws: SSHKeyError.unsupportedKeyType("dsa")) {
            try PrivateKeyImporter.parse(try scratch.read("dsa"), passphrase: nil)
        }
        #expect(throws: SSHKeyError.unsupportedKeyType("dsa")) {
            try SSHPublicKey(openSSHLine: try scratch.read("dsa.pub"))
        }
    }

    @Test func parse_dsaPEMHeader_throwsUnsupportedKeyType() {
        // A (truncated) traditional OpenSSL DSA key: refused from the header alone.
        let text = "-----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQA=\n-----END DSA PRIVATE KEY-----\n"
        #expect(throws: SSHKeyError.unsupportedKeyType("dsa")) {
            try PrivateKeyImporter.parse(text, passphrase: nil)
        }
    }

    @Test(.enabled(if: KeyTool.hasOpenSSL))
    func parse_dsaPKCS8_throwsUnsupportedKeyType() throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let output = try KeyTool.succeed(KeyTool.openssl, ["dsaparam", "-genkey", "-noout", "1024"])
        #expect(throws: SSHKeyError.unsupportedKeyType("dsa")) {
            try PrivateKeyImporter.parse(output, passphrase: nil)
        }
    }

    @Test func parse_rsa1024_throwsUnsupportedKeyType() throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        for format in [["-m", "PEM"], []] {
            let file = scratch.file("r\(format.count)")
            try KeyTool.succeed(KeyTool.sshKeygen, ["-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", file] + format)
            #expect(throws: SSHKeyError.unsupportedKeyType("rsa-1024")) {
                try PrivateKeyImporter.parse(try String(contentsOfFile: file, encoding: .utf8), passphrase: nil)
            }
        }
    }

    @Test func parse_publicKeyText_throwsNotAPrivateKey() throws {
        let scratch = try KeyScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("k")
        try KeyTool.succeed(KeyTool.sshKeygen, ["-q", "-t", "ed25519", "-N", "", "-C", "me@host", "-f", file])
        let rsaFile = scratch.file("r")
        try KeyTool.succeed(KeyTool.sshKeygen, ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsaFile])
        let texts = [
            try scratch.read("k.pub"),
            "no-pty,command=\"echo hi there\" " + (try scratch.read("k.pub")),
            try KeyTool.succeed(KeyTool.sshKeygen, ["-e", "-m", "RFC4716", "-f", file + ".pub"]),
            try KeyTool.succeed(KeyTool.sshKeygen, ["-e", "-m", "PKCS8", "-f", rsaFile + ".pub"]),
            try KeyTool.succeed(KeyTool.sshKeygen, ["-e", "-m", "PEM", "-f", rsaFile + ".pub"]),
        ]
        for text in texts {
            #expect(throws: SSHKeyError.notAPrivateKey, "\(text.prefix(40))") {
                try PrivateKeyImporter.parse(text, passphrase: nil)
            }
        }
    }

    @Test(arguments: [
        "garbage",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!notbase64!!!\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n",
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----",
        "   ",
    ])
    func parse_malformed_throwsInvalidPrivateKey(_ text: String) {
        #expect {
            try PrivateKeyImporter.parse(text, passphrase: nil)
        } throws: { error in
            guard case .invalidPrivateKey(let reason) = error as? SSHKeyError else { return false }
            return !reason.isEmpty
        }
    }

    @Test func parse_truncatedOpenSSHKey_throwsInvalidPrivateKey() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "t", passphrase: nil).value
        var lines = pem.split(separator: "\n").map(String.init)
        lines.remove(at: 2)  // drop one body line; the base64 stays valid but the container is short
        #expect {
            try PrivateKeyImporter.parse(lines.joined(separator: "\n"), passphrase: nil)
        } throws: { error in
            guard case .invalidPrivateKey = error as? SSHKeyError else { return false }
            return true
        }
    }

    @Test func errors_neverContainKeyMaterialOrPassphrase() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "c", passphrase: Secret("sup3r secret")).value
        do {
            _ = try PrivateKeyImporter.parse(pem, passphrase: Secret("wrong guess"))
            Issue.record("expected wrongPassphrase")
        } catch {
            #expect(error == .wrongPassphrase)
            #expect(!error.message.contains("wrong guess"))
            #expect(!error.message.contains("sup3r"))
            #expect(error.code == "wrong_passphrase")
        }
    }
}
