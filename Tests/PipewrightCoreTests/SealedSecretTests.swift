import Foundation
import Testing

@testable import PipewrightCore

@Suite struct SealedSecretTests {
    let plaintext = Array("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret material\n".utf8)
    let associatedData = Array("ssh_keys:42:private_key".utf8)

    @Test func seal_thenOpen_roundTrips() throws {
        let key = MasterKey.generate()
        let sealed = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData)
        #expect(sealed.keyID == key.id)
        #expect(sealed.version == 1)
        #expect(try sealed.open(with: key, associatedData: associatedData).value == plaintext)
    }

    @Test func serialized_roundTripsThroughBytesAndBase64() throws {
        let key = MasterKey.generate()
        let sealed = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData)
        let bytes = sealed.serialized()
        #expect(bytes.count == 1 + 1 + 8 + 12 + plaintext.count + 16)
        #expect(try SealedSecret(serialized: bytes) == sealed)
        #expect(try SealedSecret(base64: sealed.base64) == sealed)
        #expect(try SealedSecret(serialized: bytes).open(with: key, associatedData: associatedData).value == plaintext)
    }

    @Test func seal_twice_usesFreshNonce() throws {
        let key = MasterKey.generate()
        let first = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData)
        let second = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData)
        #expect(first.serialized() != second.serialized())
    }

    @Test func open_wrongMasterKey_throwsCorrupt() throws {
        let sealed = try SealedSecret.seal(plaintext, with: MasterKey.generate(), associatedData: associatedData)
        #expect(throws: SecretError.sealedSecretCorrupt) {
            try sealed.open(with: MasterKey.generate(), associatedData: associatedData)
        }
    }

    @Test func open_wrongKeyWithForgedID_throwsCorrupt() throws {
        let key = MasterKey.generate()
        let other = MasterKey.generate()
        var bytes = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData).serialized()
        bytes.replaceSubrange(2..<10, with: Array(other.id.utf8))
        #expect(throws: SecretError.sealedSecretCorrupt) {
            try SealedSecret(serialized: bytes).open(with: other, associatedData: associatedData)
        }
    }

    @Test func open_wrongAssociatedData_throwsCorrupt() throws {
        let key = MasterKey.generate()
        let sealed = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData)
        #expect(throws: SecretError.sealedSecretCorrupt) {
            try sealed.open(with: key, associatedData: Array("ssh_keys:43:private_key".utf8))
        }
    }

    @Test func open_anyFlippedByte_throwsCorrupt() throws {
        let key = MasterKey.generate()
        let bytes = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData).serialized()
        for index in bytes.indices {
            var tampered = bytes
            tampered[index] ^= 0x01
            #expect(throws: SecretError.sealedSecretCorrupt, "byte \(index)") {
                try SealedSecret(serialized: tampered).open(with: key, associatedData: associatedData)
            }
        }
    }

    @Test func init_truncated_throwsCorrupt() throws {
        let key = MasterKey.generate()
        let bytes = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData).serialized()
        #expect(throws: SecretError.sealedSecretCorrupt) { try SealedSecret(serialized: Array(bytes.prefix(20))) }
        #expect(throws: SecretError.sealedSecretCorrupt) { try SealedSecret(serialized: []) }
        #expect(throws: SecretError.sealedSecretCorrupt) { try SealedSecret(base64: "not base64!") }
    }

    @Test func serialized_doesNotContainPlaintext() throws {
        let key = MasterKey.generate()
        let bytes = try SealedSecret.seal(plaintext, with: key, associatedData: associatedData).serialized()
        let marker = Array("secret material".utf8)
        let containsMarker = (0...(bytes.count - marker.count)).contains {
            Array(bytes[$0..<($0 + marker.count)]) == marker
        }
        #expect(!containsMarker)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("OPENSSH"))
    }
}

@Suite struct SealedMasterKeyTests {
    @Test func init_base64_roundTripsAndIDIsSHA256Prefix() throws {
        let raw = [UInt8](repeating: 7, count: 32)
        let key = try MasterKey(base64: Data(raw).base64EncodedString())
        // python3: hashlib.sha256(bytes([7] * 32)).hexdigest()[:8]
        #expect(key.id == "4bb06f8e")
        #expect(try MasterKey(base64: key.base64Representation.value).id == key.id)
    }

    @Test(arguments: [
        "", "not base64", Data(repeating: 1, count: 16).base64EncodedString(),
        Data(repeating: 1, count: 33).base64EncodedString(),
    ])
    func init_invalidBase64_throwsInvalidMasterKey(_ text: String) {
        #expect {
            try MasterKey(base64: text)
        } throws: { error in
            guard case .invalidMasterKey = error as? SecretError else { return false }
            return true
        }
    }

    @Test func description_isRedacted() throws {
        let key = MasterKey.generate()
        let secret = key.base64Representation.value
        #expect(!String(describing: key).contains(secret))
        #expect(!String(reflecting: key).contains(secret))
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains(secret))
        #expect(String(describing: key).contains(key.id))
        #expect("\(key.base64Representation)" == "<redacted>")
    }

    @Test func generate_givesDistinctKeys() {
        #expect(MasterKey.generate().id != MasterKey.generate().id)
    }
}
