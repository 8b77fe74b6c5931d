import Testing

@testable import SSHKeys

/// Known answers from OpenBSD's `regress/lib/libutil/bcrypt_pbkdf/bcrypt_pbkdf_test.c` (also used by
/// golang.org/x/crypto and RustCrypto), plus Schneier's Blowfish all-zero vector.
@Suite struct BcryptPBKDFTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var rounds: Int
        var password: [UInt8]
        var salt: [UInt8]
        var expectedHex: String
        var testDescription: String { "rounds=\(rounds) len=\(expectedHex.count / 2)" }
    }

    static let vectors: [Vector] = [
        Vector(
            rounds: 4, password: Array("password".utf8), salt: Array("salt".utf8),
            expectedHex: "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"),
        Vector(rounds: 4, password: Array("password".utf8), salt: [0], expectedHex: "c12b566235eee04c212598970a579a67"),
        Vector(rounds: 4, password: [0], salt: Array("salt".utf8), expectedHex: "6051be18c2f4f82cbf0efee5471b4bb9"),
        Vector(
            rounds: 4, password: Array("password\0".utf8), salt: Array("salt\0".utf8),
            expectedHex: "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050"),
        Vector(
            rounds: 4, password: Array("pass\0wor".utf8), salt: Array("sa\0l".utf8),
            expectedHex: "c2bffd9db38f6569efef4372f4de83c0"),
        Vector(
            rounds: 4, password: Array("pass\0word".utf8), salt: Array("sa\0lt".utf8),
            expectedHex: "4ba4ac3925c0e8d7f0cdb6bb1684a56f"),
        Vector(
            rounds: 8, password: Array("password".utf8), salt: Array("salt".utf8),
            expectedHex: "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec7"
                + "6227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d"),
        Vector(
            rounds: 42, password: Array("password".utf8), salt: Array("salt".utf8),
            expectedHex: "833cf0dcf56db65608e8f0dc0ce882bd"),
    ]

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { SSHPublicKey.hexByte($0) }.joined()
    }

    @Test func blowfish_allZeroKey_matchesSchneierVector() {
        var cipher = Blowfish(key: [UInt8](repeating: 0, count: 8))
        var left: UInt32 = 0
        var right: UInt32 = 0
        cipher.encrypt(&left, &right)
        #expect(left == 0x4EF9_9745)
        #expect(right == 0x6198_DD78)
    }

    @Test(arguments: vectors)
    func deriveKey_openBSDVector_matches(_ vector: Vector) throws {
        let key = try BcryptPBKDF.deriveKey(
            password: vector.password, salt: vector.salt, rounds: vector.rounds, keyLength: vector.expectedHex.count / 2
        )
        #expect(Self.hex(key) == vector.expectedHex)
    }

    @Test func deriveKey_zeroRounds_throws() {
        #expect(throws: SSHKeyError.self) {
            try BcryptPBKDF.deriveKey(password: [1], salt: [1], rounds: 0, keyLength: 32)
        }
    }

    @Test func deriveKey_emptyPassword_throws() {
        #expect(throws: SSHKeyError.self) {
            try BcryptPBKDF.deriveKey(password: [], salt: [1], rounds: 1, keyLength: 32)
        }
    }
}
