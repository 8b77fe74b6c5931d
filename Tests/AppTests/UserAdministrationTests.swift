import Fluent
import Foundation
import Realtime
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 13 item 1: users, roles, disabling, deleting, password resets and changes, the password policy.
@Suite struct UserAdministrationTests {
    /// Sends a JSON request and returns the status, error code and JSON body (empty when none).
    @discardableResult
    func call(
        _ ctx: TestContext, _ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil,
        headers: HTTPHeaders
    ) async throws -> (status: HTTPStatus, code: String, json: [String: Any]) {
        var result: (HTTPStatus, String, [String: Any]) = (.ok, "", [:])
        var headers = headers
        if body != nil { headers.contentType = .json }
        try await ctx.app.testing().test(method, path, headers: headers, body: try body.map(jsonBody)) {
            res async throws in
            let json =
                (try? JSONSerialization.jsonObject(with: Data(buffer: res.body)) as? [String: Any]) ?? [:]
            result = (res.status, res.errorCode, json)
        }
        return result
    }

    func bearer(_ token: String) -> HTTPHeaders { ["Authorization": "Bearer \(token)"] }

    func login(_ ctx: TestContext, _ username: String, _ password: String) async throws -> (HTTPStatus, String) {
        var result: (HTTPStatus, String) = (.ok, "")
        try await ctx.app.testing().test(
            .POST, "api/auth/login", headers: .json([:]),
            body: try jsonBody(["username": username, "password": password])
        ) { res async throws in result = (res.status, res.errorCode) }
        return result
    }

    @Test func admin_createsListsShowsUsers_andOthersAreForbidden() async throws {
        try await withTestApp { ctx in
            let created = try await call(
                ctx, .POST, "api/users", ["username": "dana", "role": "viewer", "password": "dana's long passphrase"],
                headers: ctx.adminAuth)
            #expect(created.status == .created)
            let user = try #require(created.json["user"] as? [String: Any])
            #expect(user["role"] as? String == "viewer" && user["disabled"] as? Bool == false)
            #expect(user["must_change_password"] as? Bool == false)
            #expect(created.json.keys.contains("initial_password") && created.json["initial_password"] is NSNull)
            let id = try #require(user["id"] as? Int)
            let list = try await call(ctx, .GET, "api/users", headers: ctx.adminAuth)
            let names = (list.json["items"] as? [[String: Any]])?.compactMap { $0["username"] as? String }
            #expect(names == ["admin", "member", "viewer", "dana"])
            #expect(try await call(ctx, .GET, "api/users/\(id)", headers: ctx.adminAuth).status == .ok)
            #expect(try await call(ctx, .GET, "api/users/999", headers: ctx.adminAuth).status == .notFound)
            for auth in [ctx.memberAuth, ctx.viewerAuth] {
                #expect(try await call(ctx, .GET, "api/users", headers: auth).code == "forbidden")
                #expect(try await call(ctx, .GET, "api/users/\(id)", headers: auth).code == "forbidden")
                #expect(
                    try await call(ctx, .PATCH, "api/users/\(id)", ["role": "admin"], headers: auth).code == "forbidden"
                )
                #expect(
                    try await call(ctx, .POST, "api/users/\(id)/password-reset", headers: auth).code == "forbidden")
                #expect(try await call(ctx, .DELETE, "api/users/\(id)", headers: auth).code == "forbidden")
            }
            #expect(try await login(ctx, "dana", "dana's long passphrase").0 == .ok)
            // Same name again, and a bad role: 409 and 400.
            let again = try await call(
                ctx, .POST, "api/users", ["username": "dana", "role": "viewer"], headers: ctx.adminAuth)
            #expect(again.code == "duplicate_user")
            let badRole = try await call(
                ctx, .POST, "api/users", ["username": "erin", "role": "member"], headers: ctx.adminAuth)
            #expect(badRole.status == .badRequest)
        }
    }

    @Test func passwordPolicy_isAppliedOnCreateAndChange() async throws {
        #expect(PasswordPolicy.commonPasswords.count == 10_000)
        try await withTestApp { ctx in
            let refused: [(String, String)] = [
                ("short-pw", "at least 12"), ("1qaz2wsx3edc", "common"), ("Password1234", "common"),
                ("ErinTheGreat", "username"), ("erinthegreatERINTHEGREAT", "username"),
                ("ErinTheGreat2026", "username"),
            ]
            for (password, why) in refused {
                let response = try await call(
                    ctx, .POST, "api/users", ["username": "ErinTheGreat", "role": "viewer", "password": password],
                    headers: ctx.adminAuth)
                #expect(response.status == .badRequest && response.code == "invalid_field", "\(password)")
                let reason = ((response.json["error"] as? [String: Any])?["details"] as? [String: String])?["reason"]
                #expect(reason?.contains(why) == true, "\(password): \(reason ?? "")")
                let change = try await call(
                    ctx, .POST, "api/auth/password",
                    [
                        "current_password": "member-password-1",
                        "new_password": password.lowercased().hasPrefix("erinthegreat")
                            ? String(repeating: "member", count: 3) : password,
                    ],
                    headers: ctx.memberAuth)
                #expect(change.code == "invalid_field", "\(password)")
            }
            // Without a password: one is generated, passes the policy, and must be changed at first sign-in.
            let created = try await call(
                ctx, .POST, "api/users", ["username": "erin", "role": "maintainer"], headers: ctx.adminAuth)
            let initial = try #require(created.json["initial_password"] as? String)
            #expect(throws: Never.self) { try PasswordPolicy.check(initial, username: "erin") }
            #expect((created.json["user"] as? [String: Any])?["must_change_password"] as? Bool == true)
        }
    }

    @Test func disabledUser_cannotSignIn_andSessionsAndTokensStopWorking() async throws {
        try await withTestApp { ctx in
            let session = try await cookieLogin(ctx)
            let sessionHeaders = HTTPHeaders(session.headers.map { ($0.key, $0.value) })
            #expect(try await call(ctx, .GET, "api/auth/me", headers: sessionHeaders).status == .ok)
            let disabled = try await call(
                ctx, .PATCH, "api/users/\(ctx.memberID)", ["disabled": true], headers: ctx.adminAuth)
            #expect(disabled.status == .ok && disabled.json["disabled"] as? Bool == true)
            #expect(try await call(ctx, .GET, "api/auth/me", headers: sessionHeaders).status == .unauthorized)
            #expect(try await call(ctx, .GET, "api/ssh-keys", headers: ctx.memberAuth).status == .unauthorized)
            #expect(try await login(ctx, "member", "member-password-1") == (.forbidden, "account_disabled"))
            #expect(try await login(ctx, "member", "wrong-password-1") == (.unauthorized, "invalid_credentials"))
            // Enabled again: the token works again, the ended session does not come back.
            _ = try await call(ctx, .PATCH, "api/users/\(ctx.memberID)", ["disabled": false], headers: ctx.adminAuth)
            #expect(try await call(ctx, .GET, "api/ssh-keys", headers: ctx.memberAuth).status == .ok)
            #expect(try await call(ctx, .GET, "api/auth/me", headers: sessionHeaders).status == .unauthorized)
        }
    }

    /// A live stream of a user who gets disabled is refused (and closed) at its next request, as for a
    /// revoked token.
    @Test func disabledUser_liveSessionIsRefusedAtItsNextRequest() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await LogEndpointTests().seed(ctx, statuses: [.success])
            let token = try #require(
                try await APIToken.query(on: ctx.app.db).filter(\.$user.$id == ctx.memberID).first())
            let user = AuthenticatedUser(
                id: ctx.memberID, username: "member", role: .maintainer, method: .bearerToken(id: try token.requireID())
            )
            let closed = AckBox()
            let acks = AckBox()
            let session = RealtimeSession(application: ctx.app, user: user, close: { closed.append("closed") }) { _ in }
            let argument = JSONValue.object(["execution_id": .int(ids[0])])
            await session.handle(event: "get_execution_status", argument: argument) { acks.append($0) }
            #expect(acks.all.last?.contains("\"ok\":true") == true, "\(acks.all)")
            _ = try await call(ctx, .PATCH, "api/users/\(ctx.memberID)", ["disabled": true], headers: ctx.adminAuth)
            await session.handle(event: "get_execution_status", argument: argument) { acks.append($0) }
            #expect(acks.all.last?.contains("\"code\":\"unauthenticated\"") == true, "\(acks.all)")
            #expect(closed.all == ["closed"])
        }
    }

    @Test func lastActiveAdmin_cannotBeDisabledDeletedOrDemoted() async throws {
        try await withTestApp { ctx in
            let adminID = try #require(
                try await User.query(on: ctx.app.db).filter(\.$username == "admin").first()?.requireID())
            // Another admin, then that admin tries to remove the first: allowed once, refused for the last one.
            let second = try await call(
                ctx, .POST, "api/users", ["username": "root2", "role": "admin", "password": "second admin password"],
                headers: ctx.adminAuth)
            let secondID = try #require((second.json["user"] as? [String: Any])?["id"] as? Int)
            let secondToken = try await TokenIssuer.issue(
                for: secondID, name: "t", expiresInDays: nil, now: Date(), on: ctx.app.db
            ).token
            // Yourself: refused whatever the count.
            for (method, path, body) in [
                (HTTPMethod.PATCH, "api/users/\(adminID)", ["disabled": true] as [String: Any]?),
                (.PATCH, "api/users/\(adminID)", ["role": "viewer"]), (.DELETE, "api/users/\(adminID)", nil),
                (.POST, "api/users/\(adminID)/password-reset", nil),
            ] {
                #expect(try await call(ctx, method, path, body, headers: ctx.adminAuth).code == "own_account")
            }
            // The second admin disables the first: fine (one active admin left) …
            #expect(
                try await call(ctx, .PATCH, "api/users/\(adminID)", ["disabled": true], headers: bearer(secondToken))
                    .status == .ok)
            // … and demoting the second through the CLI's service (no own-account rule) is the last admin: 409.
            await #expect(throws: ConflictError.lastAdmin) {
                _ = try await ctx.app.userService.update(
                    userID: secondID, role: .viewer, disabled: nil, by: .console(osUser: "test"))
            }
            await #expect(throws: ConflictError.lastAdmin) {
                try await ctx.app.userService.delete(userID: secondID, by: .console(osUser: "test"))
            }
            // Re-enabling the first makes the second removable.
            _ = try await ctx.app.userService.update(
                userID: adminID, role: nil, disabled: false, by: .console(osUser: "test"))
            #expect(
                try await call(ctx, .DELETE, "api/users/\(secondID)", headers: ctx.adminAuth).status == .noContent)
        }
    }

    /// Two admins demoting each other at once: exactly one succeeds, one admin remains.
    @Test func concurrentDemotions_leaveOneActiveAdmin() async throws {
        try await withTestApp { ctx in
            let adminID = try #require(
                try await User.query(on: ctx.app.db).filter(\.$username == "admin").first()?.requireID())
            let second = try await call(
                ctx, .POST, "api/users", ["username": "root2", "role": "admin", "password": "second admin password"],
                headers: ctx.adminAuth)
            let secondID = try #require((second.json["user"] as? [String: Any])?["id"] as? Int)
            let secondToken = try await TokenIssuer.issue(
                for: secondID, name: "t", expiresInDays: nil, now: Date(), on: ctx.app.db
            ).token
            async let first = call(ctx, .PATCH, "api/users/\(secondID)", ["role": "viewer"], headers: ctx.adminAuth)
            async let other = call(
                ctx, .PATCH, "api/users/\(adminID)", ["role": "viewer"], headers: bearer(secondToken))
            let results = try await [first, other]
            let statuses = results.map(\.status)
            #expect(statuses.filter { $0 == .ok }.count <= 1, "\(results.map(\.code))")
            let admins = try await User.query(on: ctx.app.db).filter(\.$role == .admin).filter(\.$isDisabled == false)
                .count()
            #expect(admins == 1)
        }
    }

    @Test func passwordReset_forcesAChange_andOnlyThenDoesEverythingElseWork() async throws {
        try await withTestApp { ctx in
            let oldSession = try await cookieLogin(ctx)
            let reset = try await call(
                ctx, .POST, "api/users/\(ctx.memberID)/password-reset", headers: ctx.adminAuth)
            #expect(reset.status == .ok && reset.json["sessions_ended"] as? Int == 1)
            let oneTime = try #require(reset.json["one_time_password"] as? String)
            let oldHeaders = HTTPHeaders(oldSession.headers.map { ($0.key, $0.value) })
            #expect(try await call(ctx, .GET, "api/auth/me", headers: oldHeaders).status == .unauthorized)
            #expect(try await login(ctx, "member", "member-password-1").0 == .unauthorized)
            let session = try await cookieLogin(ctx, password: oneTime)
            let headers = HTTPHeaders(session.headers.map { ($0.key, $0.value) })
            let me = try await call(ctx, .GET, "api/auth/me", headers: headers)
            #expect((me.json["user"] as? [String: Any])?["must_change_password"] as? Bool == true)
            // Until the change: everything else is 403 password_change_required, tokens included.
            #expect(try await call(ctx, .GET, "api/ssh-keys", headers: headers).code == "password_change_required")
            #expect(
                try await call(ctx, .GET, "api/pipelines", headers: ctx.memberAuth).code == "password_change_required")
            let changed = try await call(
                ctx, .POST, "api/auth/password",
                ["current_password": oneTime, "new_password": "member's new passphrase"], headers: headers)
            #expect(changed.status == .ok)
            #expect(try await call(ctx, .GET, "api/ssh-keys", headers: headers).status == .ok)
            #expect(try await call(ctx, .GET, "api/ssh-keys", headers: ctx.memberAuth).status == .ok)
            #expect(try await login(ctx, "member", "member's new passphrase").0 == .ok)
        }
    }

    @Test func ownPasswordChange_needsTheCurrentPassword_endsOtherSessions_andOptionallyTokens() async throws {
        try await withTestApp { ctx in
            let other = try await cookieLogin(ctx)
            let current = try await cookieLogin(ctx)
            let currentHeaders = HTTPHeaders(current.headers.map { ($0.key, $0.value) })
            let otherHeaders = HTTPHeaders(other.headers.map { ($0.key, $0.value) })
            let wrong = try await call(
                ctx, .POST, "api/auth/password",
                ["current_password": "not-it-at-all", "new_password": "member's new passphrase"],
                headers: currentHeaders)
            #expect(wrong.code == "invalid_field")
            let changed = try await call(
                ctx, .POST, "api/auth/password",
                ["current_password": "member-password-1", "new_password": "member's new passphrase"],
                headers: currentHeaders)
            #expect(changed.json["sessions_ended"] as? Int == 1 && changed.json["tokens_revoked"] as? Int == 0)
            #expect(try await call(ctx, .GET, "api/auth/me", headers: currentHeaders).status == .ok)
            #expect(try await call(ctx, .GET, "api/auth/me", headers: otherHeaders).status == .unauthorized)
            #expect(try await call(ctx, .GET, "api/auth/me", headers: ctx.memberAuth).status == .ok)
            // With revoke_tokens the member's API tokens go too.
            let again = try await call(
                ctx, .POST, "api/auth/password",
                [
                    "current_password": "member's new passphrase", "new_password": "member's third passphrase",
                    "revoke_tokens": true,
                ], headers: currentHeaders)
            #expect(again.json["tokens_revoked"] as? Int == 1)
            #expect(try await call(ctx, .GET, "api/auth/me", headers: ctx.memberAuth).status == .unauthorized)
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "auth.password_change").all()
            #expect(entries.map(\.outcome) == [.failure, .success, .success])
            #expect(entries.allSatisfy { !$0.detailsJSON.contains("passphrase") })
        }
    }

    @Test func deletedUser_cannotSignIn_andTheirAuditEntriesStay() async throws {
        try await withTestApp { ctx in
            _ = try await cookieLogin(ctx)
            let before = try await AuditEntry.query(on: ctx.app.db).filter(\.$actorID == ctx.memberID).count()
            #expect(before > 0)
            #expect(
                try await call(ctx, .DELETE, "api/users/\(ctx.memberID)", headers: ctx.adminAuth).status == .noContent)
            #expect(try await call(ctx, .GET, "api/users/\(ctx.memberID)", headers: ctx.adminAuth).status == .notFound)
            #expect(try await login(ctx, "member", "member-password-1").0 == .unauthorized)
            #expect(try await call(ctx, .GET, "api/ssh-keys", headers: ctx.memberAuth).status == .unauthorized)
            let audit = try await call(ctx, .GET, "api/audit?actor=member", headers: ctx.adminAuth)
            #expect((audit.json["pagination"] as? [String: Any])?["total"] as? Int == before + 0)
            let deletion = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "user.delete").all()
            #expect(deletion.count == 1 && deletion.first?.resourceID == ctx.memberID)
            // The name stays taken.
            let again = try await call(
                ctx, .POST, "api/users", ["username": "member", "role": "viewer"], headers: ctx.adminAuth)
            #expect(again.code == "duplicate_user")
        }
    }

    @Test func everyUserChange_isAudited_withoutPasswords() async throws {
        try await withTestApp { ctx in
            let created = try await call(
                ctx, .POST, "api/users", ["username": "fay", "role": "viewer"], headers: ctx.adminAuth)
            let id = try #require((created.json["user"] as? [String: Any])?["id"] as? Int)
            let initial = try #require(created.json["initial_password"] as? String)
            _ = try await call(ctx, .PATCH, "api/users/\(id)", ["role": "maintainer"], headers: ctx.adminAuth)
            let reset = try await call(ctx, .POST, "api/users/\(id)/password-reset", headers: ctx.adminAuth)
            let oneTime = try #require(reset.json["one_time_password"] as? String)
            _ = try await call(ctx, .DELETE, "api/users/\(id)", headers: ctx.adminAuth)
            _ = try await call(ctx, .GET, "api/users", headers: ctx.viewerAuth)  // refused: not a change
            let entries = try await AuditEntry.query(on: ctx.app.db).filter(\.$resourceType == "user")
                .filter(\.$action != "auth.login").sort(\.$id).all()
            #expect(entries.map(\.action) == ["user.create", "user.update", "user.password_reset", "user.delete"])
            #expect(entries.allSatisfy { $0.actorUsername == "admin" && $0.resourceID == id })
            #expect(entries[1].details["role"] == "maintainer")
            for entry in entries {
                #expect(!entry.detailsJSON.contains(initial) && !entry.detailsJSON.contains(oneTime))
            }
        }
    }
}
