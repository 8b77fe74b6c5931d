import AsyncHTTPClient
import Fluent
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import App

/// The dashboard's pipeline form (`/pipelines/new`, `/pipelines/{id}/edit`), stack detection on the
/// pipeline page, and the admins' `/users` page: the same rules and audit entries as the JSON API.
@Suite struct DashboardFormPagesTests {
    let pages = DashboardPageTests()

    /// A form body with repeated fields (`server_ids[]`), percent-encoded.
    func body(_ fields: [(String, String)]) -> ByteBuffer {
        var components = URLComponents()
        components.queryItems = fields.map { URLQueryItem(name: $0.0, value: $0.1) }
        return ByteBuffer(string: (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B"))
    }

    func post(
        _ ctx: TestContext, _ path: String, _ session: CookieSession, _ fields: [(String, String)],
        status: HTTPStatus
    ) async throws -> (String, HTTPHeaders) {
        var result = ("", HTTPHeaders())
        try await ctx.app.testing().test(
            .POST, path, headers: pages.formHeaders(session), body: body(fields + [("csrf_token", session.csrfToken)])
        ) { res async throws in
            #expect(res.status == status, "\(path): \(res.body.string.prefix(600))")
            result = (res.body.string, res.headers)
        }
        return result
    }

    @Test func pipelineForm_creates_showsTheSecretOnce_refusesBadInput_andEdits() async throws {
        try await withTestApp { ctx in
            let (seeded, _) = try await LogEndpointTests().seed(ctx, statuses: [])
            let stored = try #require(try await Pipeline.find(seeded, on: ctx.app.db))
            let (connectionID, keyID, serverID) = (stored.$connection.id, stored.$sshKey.id, stored.serverIDs[0])
            let session = try await cookieLogin(ctx)
            let form = try await pages.page(ctx, "/pipelines/new", session)
            #expect(form.contains(#"<option value="\#(connectionID)""#))
            #expect(form.contains(#"name="server_ids[]" value="\#(serverID)""#))
            #expect(form.contains("deploy@203.0.113.10:22"))
            let fields: [(String, String)] = [
                ("name", "api"), ("connection_id", String(connectionID)), ("repo_slug", "api"),
                ("workspace", ""), ("branch", "main"), ("server_ids[]", String(serverID)),
                ("ssh_key_id", String(keyID)), ("deploy_path", "/srv/api"), ("app_port", "3000"),
                ("domain", "api.example.com"), ("build_command", ""), ("start_command", "npm start"),
            ]

            // Refused: a port that is not a number; the values come back escaped, nothing is created.
            let hostile = #"<img src=x onerror=alert(1)>"#
            var bad = fields.map { $0.0 == "app_port" ? ("app_port", "eighty") : $0 }
            bad[0] = ("name", hostile)
            let (refused, _) = try await post(ctx, "/pipelines", session, bad, status: .badRequest)
            #expect(refused.contains("app_port"))
            #expect(!refused.contains(hostile))
            #expect(refused.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(try await Pipeline.query(on: ctx.app.db).count() == 1)

            // Created: the page shows the webhook secret this once, and the audit has the creation.
            let (created, headers) = try await post(ctx, "/pipelines", session, fields, status: .created)
            #expect(headers.first(name: .cacheControl) == "no-store")
            let pipeline = try #require(try await Pipeline.query(on: ctx.app.db).filter(\.$name == "api").first())
            let id = try pipeline.requireID()
            #expect(pipeline.workspace == "acme")
            #expect(pipeline.serverIDs == [serverID] && pipeline.appPort == 3000 && pipeline.buildCommand == nil)
            let secret = try #require(
                created.range(of: #"id="webhook-secret">([^<]+)<"#, options: .regularExpression).map {
                    String(created[$0].dropFirst(#"id="webhook-secret">"#.count).dropLast())
                })
            #expect(secret.count >= 32)
            #expect(!(try await pages.page(ctx, "/pipelines/\(id)", session)).contains(secret))
            let actions = try await AuditEntry.query(on: ctx.app.db).all().map(\.action)
            #expect(actions.filter { $0 == "pipeline.create" }.count == 3)  // the seed's, the refused one, this one

            // Edited: branch changed, domain cleared; the repository cannot change (read-only fields).
            let edit = try await pages.page(ctx, "/pipelines/\(id)/edit", session)
            #expect(edit.contains(#"name="repo_slug" required value="api" readonly"#))
            #expect(edit.contains(#"value="\#(serverID)" checked"#))
            let changed = fields.map { field -> (String, String) in
                switch field.0 {
                case "branch": ("branch", "release/2")
                case "domain": ("domain", "")
                default: field
                }
            }
            let (_, redirect) = try await post(ctx, "/pipelines/\(id)/edit", session, changed, status: .seeOther)
            #expect(redirect.first(name: .location) == "/pipelines/\(id)")
            let saved = try #require(try await Pipeline.find(id, on: ctx.app.db))
            #expect(saved.branch == "release/2" && saved.domain == nil && saved.startCommand == "npm start")
            let updates = try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "pipeline.update").all()
            #expect(updates.count == 1 && updates.first?.outcome == .success)

            // A viewer gets neither the button nor the form.
            let viewer = try await cookieLogin(ctx, username: "viewer", password: "viewer-password-1")
            #expect(!(try await pages.page(ctx, "/pipelines", viewer)).contains("/pipelines/new"))
            #expect(try await pages.page(ctx, "/pipelines", session).contains("/pipelines/new"))
            _ = try await pages.page(ctx, "/pipelines/new", viewer, status: .forbidden)
            _ = try await post(ctx, "/pipelines/\(id)/edit", viewer, changed, status: .forbidden)
        }
    }

    @Test func detectButton_showsTheStackWithItsEvidence() async throws {
        try await BitbucketFlowTests().withPipeline { ctx, _, id in
            let session = try await cookieLogin(ctx)
            let html = try await post(ctx, "/pipelines/\(id)/detect", session, [], status: .ok).0
            #expect(html.contains("Detected stack"))
            #expect(html.contains("<dt>Language</dt><dd><code>node</code></dd>"))
            #expect(html.contains("<dt>Framework</dt><dd><code>next</code></dd>"))
            #expect(html.contains("<code>package.json</code>"))
            let viewer = try await cookieLogin(ctx, username: "viewer", password: "viewer-password-1")
            _ = try await post(ctx, "/pipelines/\(id)/detect", viewer, [], status: .forbidden)
        }
    }

    @Test func usersPage_createsResetsDisablesAndDeletes_underTheAPIsRules() async throws {
        try await withTestApp { ctx in
            let admin = try await cookieLogin(ctx, username: "admin", password: "admin-password-1")
            let list = try await pages.page(ctx, "/users", admin)
            #expect(list.contains(">member<") && list.contains(">viewer<") && list.contains("(you)"))
            #expect(list.contains(#"<a href="/users""#))
            let member = try await cookieLogin(ctx)
            #expect(!(try await pages.page(ctx, "/", member)).contains(#"href="/users""#))
            _ = try await pages.page(ctx, "/users", member, status: .forbidden)

            // Add: the generated password is shown once and signs in.
            let (added, headers) = try await post(
                ctx, "/users", admin, [("username", "carol"), ("role", "viewer")], status: .ok)
            #expect(headers.first(name: .cacheControl) == "no-store")
            let password = try #require(
                added.range(of: #"id="issued-password">([^<]+)<"#, options: .regularExpression).map {
                    String(added[$0].dropFirst(#"id="issued-password">"#.count).dropLast())
                })
            let carol = try #require(try await User.query(on: ctx.app.db).filter(\.$username == "carol").first())
            #expect(carol.role == .viewer && carol.mustChangePassword)
            _ = try await cookieLogin(ctx, username: "carol", password: password)
            #expect(!(try await pages.page(ctx, "/users", admin)).contains(password))

            // A refused change shows the API's message with its status.
            let adminID = try #require(try await User.query(on: ctx.app.db).filter(\.$username == "admin").first()?.id)
            let refused = try await post(ctx, "/users/\(adminID)/disable", admin, [], status: .conflict).0
            #expect(refused.contains("your own account"))
            _ = try await post(ctx, "/users", admin, [("username", "carol"), ("role", "viewer")], status: .conflict)

            // Role, disable, reset, delete.
            let memberID = ctx.memberID
            _ = try await post(ctx, "/users/\(memberID)/role", admin, [("role", "viewer")], status: .seeOther)
            #expect(try await User.find(memberID, on: ctx.app.db)?.role == .viewer)
            _ = try await post(ctx, "/users/\(memberID)/disable", admin, [], status: .seeOther)
            try await ctx.app.testing().test(.GET, "api/auth/me", headers: ctx.memberAuth) { res async throws in
                #expect(res.status == .unauthorized)
            }
            _ = try await post(ctx, "/users/\(memberID)/enable", admin, [], status: .seeOther)
            let reset = try await post(ctx, "/users/\(memberID)/password-reset", admin, [], status: .ok).0
            #expect(reset.contains("One-time password for member"))
            _ = try await post(ctx, "/users/\(memberID)/delete", admin, [], status: .seeOther)
            #expect(try await User.find(memberID, on: ctx.app.db)?.deletedAt != nil)
            let audited = Set(try await AuditEntry.query(on: ctx.app.db).all().map(\.action))
            #expect(
                audited.isSuperset(of: ["user.create", "user.update", "user.password_reset", "user.delete"]))
        }
    }

    /// A form whose body reaches the server in several pieces (a pasted RSA key, a long start command) keeps
    /// its CSRF token: the session middleware reads the whole body, not the first piece (a fresh user's trial
    /// found 3 of 4 such imports refused with 403 `csrf_token_invalid`).
    @Test func formArrivingInPieces_keepsItsCSRFToken() async throws {
        try await withTestApp { ctx in
            let session = try await cookieLogin(ctx)
            try await withRunningServer(ctx.app) { port in
                try await withHTTPClient { client in
                    // The token comes last, in the last of 40 pieces of 4 KiB.
                    let text =
                        "name=streamed+key&key_type=ed25519&padding=" + String(repeating: "x", count: 160_000)
                        + "&csrf_token=" + session.csrfToken
                    let bytes = Array(text.utf8)
                    let pieces = stride(from: 0, to: bytes.count, by: 4096).map {
                        ByteBuffer(bytes: bytes[$0..<min($0 + 4096, bytes.count)])
                    }
                    let stream = AsyncStream<ByteBuffer> { continuation in
                        Task {
                            for piece in pieces {
                                continuation.yield(piece)
                                try? await Task.sleep(for: .milliseconds(2))
                            }
                            continuation.finish()
                        }
                    }
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/keys/generate")
                    request.method = .POST
                    request.headers.add(name: "Cookie", value: session.cookie)
                    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                    request.body = .stream(stream, length: .unknown)
                    let response = try await client.execute(request, timeout: .seconds(30))
                    let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    // The client follows the 303 to the new key's page.
                    #expect(response.status == .ok, "\(body.prefix(400))")
                    #expect(body.contains("<title>streamed key · Pipewright</title>"), "\(body.prefix(400))")
                }
            }
            #expect(try await StoredKey.query(on: ctx.app.db).filter(\.$name == "streamed key").count() == 1)
        }
    }

    /// A mistyped dashboard URL gets the dashboard's HTML error page (the API keeps its JSON); a viewer is
    /// refused the private-key export's confirmation page as well as the export.
    @Test func unknownPage_isHTMLForABrowser_andExportConfirmationNeedsTheRole() async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(.GET, "/no-such-page", headers: ["Accept": "text/html,*/*"]) {
                res async throws in
                #expect(res.status == .notFound)
                #expect(res.headers.contentType?.subType == "html")
                #expect(res.body.string.contains("404 Not Found"))
            }
            try await ctx.app.testing().test(.GET, "/api/no-such-thing", headers: ["Accept": "text/html,*/*"]) {
                res async throws in
                #expect(res.status == .notFound && res.errorCode == "not_found")
            }
            let (_, _) = try await LogEndpointTests().seed(ctx, statuses: [])
            let keyID = try #require(try await StoredKey.query(on: ctx.app.db).first()?.id)
            let viewer = try await cookieLogin(ctx, username: "viewer", password: "viewer-password-1")
            _ = try await pages.page(ctx, "/keys/\(keyID)/export", viewer, status: .forbidden)
            let admin = try await cookieLogin(ctx, username: "admin", password: "admin-password-1")
            #expect(try await pages.page(ctx, "/keys/\(keyID)/export", admin).contains("Download"))
        }
    }
}
