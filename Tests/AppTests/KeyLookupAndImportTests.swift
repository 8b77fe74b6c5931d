import Foundation
import PipewrightCore
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 12 items 5 and 6: fingerprint lookup in every common spelling; junk around an imported key.
@Suite struct KeyLookupAndImportTests {
    /// Every spelling of the key's SHA-256 and MD5 fingerprints finds exactly that key; a near miss finds
    /// nothing; name search still works.
    @Test func list_q_acceptsEverySpellingOfAFingerprint_andMatchesExactly() async throws {
        let key = try KeyGenerator.generate(type: .ed25519)
        let pem = try key.openSSHPrivateKeyPEM(comment: "lookup@test", passphrase: nil).value
        try await withTestApp { ctx in
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/import", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "lookup", "private_key": pem])
            ) { res async throws in
                #expect(res.status == .created)
                id = try #require(try res.json()["id"] as? Int)
            }
            // A second key that must never match.
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "other", "key_type": "ed25519"])
            ) { res async throws in #expect(res.status == .created) }

            let sha = key.publicKey.fingerprintSHA256  // SHA256:<43>
            let shaBody = String(sha.dropFirst("SHA256:".count))
            let md5 = key.publicKey.fingerprintMD5  // MD5:aa:bb:…
            let md5Body = String(md5.dropFirst("MD5:".count))
            let spellings = [
                sha, shaBody, shaBody + "=", "SHA256:" + shaBody + "=", "sha256:" + shaBody, " \(sha) ",
                md5, md5Body, md5Body.uppercased(), "MD5:" + md5Body.uppercased(), "md5:" + md5Body,
                md5Body.replacingOccurrences(of: ":", with: ""),
                md5Body.replacingOccurrences(of: ":", with: "").uppercased(),
                "MD5:" + md5Body.replacingOccurrences(of: ":", with: ""),
            ]
            for spelling in spellings {
                let ids = try await Self.search(spelling, ctx)
                #expect(ids == [id], "q=\(spelling.debugDescription) found \(ids)")
            }
            // Exact: a prefix of a fingerprint, or the wrong case of a base64 digest, finds nothing.
            for miss in [String(sha.prefix(20)), "SHA256:" + shaBody.uppercased(), String(md5Body.prefix(20))]
            where miss != sha {
                #expect(try await Self.search(miss, ctx).isEmpty, "q=\(miss.debugDescription)")
            }
            #expect(try await Self.search("looku", ctx) == [id])
        }
    }

    /// A valid key with anything but whitespace before or after it is refused with 400 naming the text;
    /// nothing is stored.
    @Test func import_keyWithJunkAroundIt_is400NamingTheJunk_andStoresNothing() async throws {
        let key = try KeyGenerator.generate(type: .ed25519)
        let pem = try key.openSSHPrivateKeyPEM(comment: "junk@test", passphrase: nil).value
        try await withTestApp { ctx in
            for (text, junk) in [
                (pem + "<html>404</html>", "<html>404</html>"), (pem + "\n\nx", "x"),
                ("Not Found\n" + pem, "Not Found"), ("<!doctype html>" + pem + "\n", "<!doctype html>"),
            ] {
                try await ctx.app.testing().test(
                    .POST, "api/ssh-keys/import", headers: .json(ctx.memberAuth),
                    body: try jsonBody(["name": "junk", "private_key": text])
                ) { res async throws in
                    #expect(res.status == .badRequest)
                    #expect(res.errorCode == "invalid_private_key")
                    let envelope = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body))
                    #expect(envelope.error.details["reason"]?.contains(junk) == true, "\(envelope.error)")
                }
            }
            #expect(try await Self.search("", ctx).isEmpty)
            // Whitespace alone is still fine.
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/import", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "ok", "private_key": " \n\t" + pem + "\r\n \n"])
            ) { res async throws in #expect(res.status == .created) }
        }
    }

    /// The ids `GET /api/ssh-keys?q=` returns for the member.
    static func search(_ q: String, _ ctx: TestContext) async throws -> [Int] {
        var ids: [Int] = []
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        try await ctx.app.testing().test(.GET, "api/ssh-keys?q=\(encoded)", headers: ctx.memberAuth) {
            res async throws in
            #expect(res.status == .ok, "\(res.body.string)")
            let items = try #require(try res.json()["items"] as? [[String: Any]])
            ids = items.compactMap { $0["id"] as? Int }
        }
        return ids
    }
}
