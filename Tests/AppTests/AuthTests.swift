import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite struct AuthTests {
    @Test func health_andReady_report200() async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(.GET, "health") { res async throws in
                #expect(res.status == .ok)
            }
            try await ctx.app.testing().test(.GET, "ready") { res async throws in
                #expect(res.status == .ok)
                let body = try res.json()
                #expect(body["ready"] as? Bool == true)
                #expect(body["master_key"] as? Bool == true)
            }
        }
    }

    @Test func api_withoutCredentials_is401WithErrorEnvelope() async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(.GET, "api/ssh-keys") { res async throws in
                #expect(res.status == .unauthorized)
                #expect(res.errorCode == "unauthenticated")
            }
            try await ctx.app.testing().test(.GET, "api/ssh-keys", headers: ["Authorization": "Bearer pw_forged"]) {
                res async throws in
                #expect(res.status == .unauthorized)
            }
        }
    }

    @Test func login_setsHttpOnlyCookie_andCookieWritesNeedCSRF() async throws {
        try await withTestApp { ctx in
            var cookie = ""
            var csrf = ""
            try await ctx.app.testing().test(
                .POST, "api/auth/login", headers: .json([:]),
                body: try jsonBody(["username": "member", "password": "member-password-1"])
            ) { res async throws in
                #expect(res.status == .ok)
                let setCookie = res.headers.first(name: .setCookie) ?? ""
                #expect(setCookie.contains("HttpOnly"))
                #expect(setCookie.lowercased().contains("samesite=lax"))
                cookie = String(setCookie.split(separator: ";")[0])
                csrf = try #require(try res.json()["csrf_token"] as? String)
                #expect(!(try res.json().description.contains("password_hash")))
            }
            let body = try jsonBody(["name": "k", "key_type": "ed25519"])
            try await ctx.app.testing().test(.POST, "api/ssh-keys", headers: .json(["Cookie": cookie]), body: body) {
                res async throws in
                #expect(res.status == .forbidden)
                #expect(res.errorCode == "csrf_token_invalid")
            }
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(["Cookie": cookie, "X-CSRF-Token": csrf]), body: body
            ) { res async throws in
                #expect(res.status == .created)
            }
            try await ctx.app.testing().test(.GET, "api/auth/me", headers: ["Cookie": cookie]) { res async throws in
                #expect(res.status == .ok)
                #expect(try res.json()["csrf_token"] as? String == csrf)
            }
        }
    }

    @Test func login_wrongPassword_is401() async throws {
        try await withTestApp { ctx in
            for (user, password) in [("member", "nope"), ("ghost", "member-password-1")] {
                try await ctx.app.testing().test(
                    .POST, "api/auth/login", headers: .json([:]),
                    body: try jsonBody(["username": user, "password": password])
                ) { res async throws in
                    #expect(res.status == .unauthorized)
                    #expect(res.errorCode == "invalid_credentials")
                    #expect(res.headers.first(name: .setCookie) == nil)
                }
            }
        }
    }

    @Test func tokens_createdOnce_storedHashed_revocable() async throws {
        try await withTestApp { ctx in
            var token = ""
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/tokens", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "ci", "expires_in_days": 30])
            ) { res async throws in
                #expect(res.status == .created)
                let body = try res.json()
                token = try #require(body["token"] as? String)
                id = try #require(body["id"] as? Int)
                #expect(token.hasPrefix("pw_"))
            }
            let stored = try #require(try await APIToken.find(id, on: ctx.app.db))
            #expect(stored.tokenHash != token && stored.tokenHash == TokenHasher.hash(token))
            try await ctx.app.testing().test(.GET, "api/tokens", headers: ["Authorization": "Bearer \(token)"]) {
                res async throws in
                #expect(res.status == .ok)
                #expect(!res.body.string.contains(token))
            }
            try await ctx.app.testing().test(.DELETE, "api/tokens/\(id)", headers: ctx.memberAuth) { res async throws in
                #expect(res.status == .noContent)
            }
            try await ctx.app.testing().test(.GET, "api/tokens", headers: ["Authorization": "Bearer \(token)"]) {
                res async throws in
                #expect(res.status == .unauthorized)
            }
        }
    }

    @Test(arguments: [
        "page=0", "page=-1", "page=abc", "per_page=0", "per_page=x", "page=9223372036854775807",
        "page=99999999999999999999",
    ])
    func list_badPagination_is400(query: String) async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(.GET, "api/ssh-keys?\(query)", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .badRequest)
                #expect(res.errorCode == "invalid_field")
            }
        }
    }

    @Test func decodingErrors_nameSnakeCaseFields_andEmptyBodyIs400() async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth), body: ByteBuffer(string: #"{"name": "x"}"#)
            ) { res async throws in
                let error = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error
                #expect(error.details["path"] == "key_type")
                #expect(error.message.contains("'key_type'"))
            }
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth), body: ByteBuffer(string: "[]")
            ) { res async throws in
                #expect(res.status == .badRequest)
                #expect(res.body.string.contains("expected object"))
            }
            try await ctx.app.testing().test(.POST, "api/ssh-keys", headers: ctx.memberAuth) { res async throws in
                #expect(res.status == .badRequest)
                #expect(res.errorCode == "invalid_body")
            }
        }
    }

    @Test func malformedJSON_is400_neverA500() async throws {
        try await withTestApp { ctx in
            let bodies = ["{", "[]", #"{"name": 5, "key_type": "ed25519"}"#, #"{"name": "x"}"#, "\u{0}", "null"]
            for raw in bodies {
                try await ctx.app.testing().test(
                    .POST, "api/ssh-keys", headers: .json(ctx.memberAuth), body: ByteBuffer(string: raw)
                ) { res async throws in
                    #expect(res.status == .badRequest, "body \(raw.debugDescription)")
                    #expect(res.errorCode == "invalid_body")
                }
            }
        }
    }
}
