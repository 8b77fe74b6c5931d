import PipewrightCore
import Testing

@testable import SSHKeys

@Suite struct KeyGeneratorTests {
    @Test func generate_ed25519_is256Bits() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        #expect(key.keyType == .ed25519)
        #expect(key.keySizeBits == 256)
        #expect(key.publicKey.algorithm == "ssh-ed25519")
        #expect(key.publicKey.blob.count == 4 + 11 + 4 + 32)
    }

    @Test func generate_rsa2048_has2048BitModulus() throws {
        let key = try KeyGenerator.generate(type: .rsa, bits: 2048)
        #expect(key.keyType == .rsa)
        #expect(key.keySizeBits == 2048)
        #expect(key.publicKey.algorithm == "ssh-rsa")
    }

    @Test func generate_twice_givesDifferentKeys() throws {
        let first = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let second = try KeyGenerator.generate(type: .ed25519, bits: nil)
        #expect(first.publicKey.blob != second.publicKey.blob)
    }

    @Test(arguments: [1024, 3072, 8192, 0])
    func generate_rsaUnsupportedSize_throwsInvalidKeyParameters(_ bits: Int) {
        #expect {
            try KeyGenerator.generate(type: .rsa, bits: bits)
        } throws: { error in
            guard case .invalidKeyParameters = error as? SSHKeyError else { return false }
            return true
        }
    }

    @Test func generate_ed25519With4096Bits_throwsInvalidKeyParameters() {
        #expect(throws: SSHKeyError.invalidKeyParameters(reason: "ed25519 keys are always 256 bits")) {
            try KeyGenerator.generate(type: .ed25519, bits: 4096)
        }
    }

    @Test func generate_ecdsa_isNotSupported() {
        #expect(throws: SSHKeyError.invalidKeyParameters(reason: "ecdsa keys can be imported but not generated")) {
            try KeyGenerator.generate(type: .ecdsa, bits: 256)
        }
    }

    @Test func description_doesNotContainKeyMaterial() throws {
        let key = try KeyGenerator.generate(type: .ed25519, bits: nil)
        let pem = try key.openSSHPrivateKeyPEM(comment: "", passphrase: nil).value
        let body = pem.split(separator: "\n")[1]
        #expect(!String(describing: key).contains(body))
        #expect(String(describing: key).contains(key.publicKey.fingerprintSHA256))
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains(body))
        #expect("\(try key.openSSHPrivateKeyPEM(comment: "", passphrase: nil))" == "<redacted>")
    }
}
