import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// The dashboard over HTTP: sign-in, guards, CSRF, security headers, assets, and hostile values rendered
/// inert (docs/dashboard.md).
@Suite struct DashboardPageTests {
    static let xss = #"<img src=x onerror=alert(1)>"#

    func form(_ fields: [String: String]) -> ByteBuffer {
        var components = URLComponents()
        components.queryItems = fields.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        let body = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return ByteBuffer(string: body)
    }

    func formHeaders(_ session: CookieSession?) -> HTTPHeaders {
        var headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded"]
        if let session { headers.add(name: "Cookie", value: session.cookie) }
        return headers
    }

    func page(_ ctx: TestContext, _ path: String, _ session: CookieSession, status: HTTPStatus = .ok) async throws
        -> String
    {
        var body = ""
        try await ctx.app.testing().test(.GET, path, headers: ["Cookie": session.cookie]) { res async throws in
            #expect(res.status == status, "\(path): \(res.body.string.prefix(400))")
            body = res.body.string
        }
        return body
    }

    @Test func anonymousPages_redirectToLogin_withASafeNext() async throws {
        try await withTestApp { ctx in
            for path in ["/", "/keys", "/keys/1", "/executions", "/executions/7?around=3"] {
                try await ctx.app.testing().test(.GET, path) { res async throws in
                    #expect(res.status == .seeOther, "\(path)")
                    let location = try #require(res.headers.first(name: .location))
                    #expect(location.hasPrefix("/login?next="))
                    #expect(URLComponents(string: location)?.queryItems?.first?.value == path)
                }
            }
            #expect(SafeRedirect.target("//evil.example/x") == "/")
            #expect(SafeRedirect.target("https://evil.example/") == "/")
            #expect(SafeRedirect.target("/\\evil.example") == "/")
            #expect(SafeRedirect.target("/keys?q=a") == "/keys?q=a")
        }
    }

    @Test func signInForm_setsTheSessionCookie_andGoesToNext() async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(
                .POST, "/login", headers: formHeaders(nil),
                body: form(["username": "member", "password": "wrong-password", "next": "/keys"])
            ) { res async throws in
                #expect(res.status == .unauthorized)
                #expect(res.body.string.contains(#"value="member""#))
                #expect(!res.body.string.contains("wrong-password"))
                #expect(res.headers.first(name: .setCookie) == nil)
            }
            try await ctx.app.testing().test(
                .POST, "/login", headers: formHeaders(nil),
                body: form(["username": "member", "password": "member-password-1", "next": "//evil.example/"])
            ) { res async throws in
                #expect(res.status == .seeOther)
                #expect(res.headers.first(name: .location) == "/")
                #expect(res.headers.first(name: .setCookie)?.contains("pw_session=") == true)
            }
            var headers = formHeaders(nil)
            headers.add(name: "Sec-Fetch-Site", value: "cross-site")
            try await ctx.app.testing().test(
                .POST, "/login", headers: headers, body: form(["username": "member", "password": "member-password-1"])
            ) { res async throws in
                #expect(res.status == .forbidden)
                #expect(res.headers.first(name: .setCookie) == nil)
            }
        }
    }

    @Test func pages_sendTheDashboardPolicy_andFormsNeedTheCSRFToken() async throws {
        try await withTestApp { ctx in
            let session = try await cookieLogin(ctx)
            try await ctx.app.testing().test(.GET, "/keys", headers: ["Cookie": session.cookie]) { res async throws in
                #expect(res.status == .ok)
                #expect(res.headers.contentType?.subType == "html")
                let policy = try #require(res.headers.first(name: "Content-Security-Policy"))
                #expect(policy.contains("script-src 'self'"))
                #expect(policy.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline"))
                #expect(res.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(res.headers.first(name: "Referrer-Policy") != nil)
                // No inline script or style anywhere in the page.
                #expect(!res.body.string.contains("<script>"))
                #expect(!res.body.string.contains("style="))
                #expect(res.body.string.contains(#"name="csrf_token" value="\#(session.csrfToken)""#))
            }
            try await ctx.app.testing().test(
                .POST, "/keys/generate", headers: formHeaders(session), body: form(["name": "no-token"])
            ) { res async throws in
                #expect(res.status == .forbidden)
            }
            #expect(try await StoredKey.query(on: ctx.app.db).count() == 0)
            try await ctx.app.testing().test(
                .POST, "/keys/generate", headers: formHeaders(session),
                body: form(["name": Self.xss, "key_type": "ed25519", "csrf_token": session.csrfToken])
            ) { res async throws in
                #expect(res.status == .seeOther)
                #expect(res.headers.first(name: .location)?.hasPrefix("/keys/") == true)
            }
            let id = try #require(try await StoredKey.query(on: ctx.app.db).first()?.id)
            for path in ["/keys", "/keys/\(id)", "/"] {
                let html = try await page(ctx, path, session)
                #expect(!html.contains(Self.xss), "\(path)")
                #expect(!html.contains("<img"), "\(path)")
            }
            #expect(try await page(ctx, "/keys/\(id)", session).contains("&lt;img src=x onerror=alert(1)&gt;"))
        }
    }

    @Test func failedDeploy_neverRendersThePasswordAgain() async throws {
        try await withTestApp { ctx in
            let session = try await cookieLogin(ctx)
            try await ctx.app.testing().test(
                .POST, "/keys/generate", headers: formHeaders(session),
                body: form(["name": "deploy", "key_type": "ed25519", "csrf_token": session.csrfToken])
            ) { _ async throws in }
            let id = try #require(try await StoredKey.query(on: ctx.app.db).first()?.id)
            let password = "one-time-Secret-77"
            try await ctx.app.testing().test(
                .POST, "/keys/\(id)/deploy", headers: formHeaders(session),
                body: form([
                    "host": "bad host;rm", "port": "22", "username": "deploy", "password": password,
                    "csrf_token": session.csrfToken,
                ])
            ) { res async throws in
                #expect(res.status == .badRequest, "\(res.body.string.prefix(300))")
                #expect(!res.body.string.contains(password))
                #expect(res.body.string.contains(#"class="error""#))
                #expect(res.body.string.contains(#"value="deploy""#))  // the username is kept
            }
        }
    }

    @Test func assets_haveETags_andVersionedURLsAreImmutable() async throws {
        try await withTestApp { ctx in
            let assets = ctx.app.dashboardAssets
            let url = assets.url("dashboard.js")
            #expect(url.hasPrefix("/assets/dashboard.js?v="))
            var etag = ""
            try await ctx.app.testing().test(.GET, url) { res async throws in
                #expect(res.status == .ok)
                #expect(res.headers.contentType?.subType == "javascript")
                #expect(res.headers.first(name: .cacheControl)?.contains("immutable") == true)
                etag = try #require(res.headers.first(name: .eTag))
            }
            try await ctx.app.testing().test(.GET, "/assets/dashboard.js", headers: ["If-None-Match": etag]) {
                res async throws in
                #expect(res.status == .notModified)
            }
            try await ctx.app.testing().test(.GET, "/assets/dashboard.css") { res async throws in
                #expect(res.headers.first(name: .cacheControl) == "no-cache")
                #expect(res.body.string.contains(".f196{color:#ff0000}"))
            }
            try await ctx.app.testing().test(.GET, "/assets/..%2Fconfigure.swift") { res async throws in
                #expect(res.status == .notFound)
            }
        }
    }

    @Test func executionPage_rendersColours_escapesLines_andSearchesTheWholeLog() async throws {
        try await withTestApp { ctx in
            let (_, ids) = try await LogEndpointTests().seed(ctx, statuses: [.failed])
            let id = ids[0]
            var log = "\u{1B}[32mcompiling\u{1B}[0m\n" + Self.xss + "\n"
            for n in 3...500 { log += "line \(n)\n" }
            log += "ERROR: needle failed\n"
            try await LogEndpointTests().ingest(ctx, id, step: "Build", log)
            let session = try await cookieLogin(ctx)
            let html = try await page(ctx, "/executions/\(id)", session)
            #expect(html.contains("First error: line 501 in Build"))
            #expect(html.contains(#"id="L501""#))  // the window opens around the first error
            #expect(!html.contains(#"id="L2""#))  // …and is bounded
            #expect(html.contains("<svg class=\"chart\""))
            let top = try await page(ctx, "/executions/\(id)?step=Build&after=0", session)
            #expect(top.contains(#"<span class="f2">compiling</span>"#))
            #expect(top.contains("&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!top.contains(Self.xss))
            let found = try await page(ctx, "/executions/\(id)?q=needle", session)
            #expect(found.contains("1 match"))
            #expect(found.contains("<mark>needle</mark>"))
            try await ctx.app.testing().test(
                .GET, "/executions/\(id)/window?around=250", headers: ["Cookie": session.cookie]
            ) { res async throws in
                #expect(res.status == .ok)
                let json = try res.json()
                #expect(json["step"] as? String == "Build")
                #expect((json["html"] as? String)?.contains(#"id="L250""#) == true)
                #expect(json["has_before"] as? Bool == true)
                #expect(json["has_after"] as? Bool == true)
            }
            try await ctx.app.testing().test(
                .GET, "/executions/\(id)/search?q=line%205&page=1", headers: ["Cookie": session.cookie]
            ) { res async throws in
                let json = try res.json()
                #expect(json["total"] as? Int == 12)  // line 5, 50…59 and 500
                #expect((json["html"] as? String)?.contains("<mark>line 5</mark>") == true)
            }
            try await ctx.app.testing().test(
                .GET, "/executions/\(id)/search?q=(a&regex=true", headers: ["Cookie": session.cookie]
            ) { res async throws in
                #expect(res.status == .badRequest)
            }
        }
    }
}

/// docs/dashboard.md names every dashboard route (as "`METHOD /path`"), as docs/API.md does for the API.
@Suite struct DashboardDocsTests {
    @Test func everyDashboardRoute_isInTheDashboardDocs() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/dashboard.md"), encoding: .utf8)
        let documented = APIDocsTests.documentedEndpoints(in: text)
        try await withTestApp { ctx in
            let served = OpenAPITests.servedRoutes(ctx.app, dashboard: true)
            #expect(served.count > 20)
            let missing = served.subtracting(documented).sorted()
            #expect(missing.isEmpty, "dashboard routes missing from docs/dashboard.md: \(missing)")
        }
    }
}

extension DashboardPageTests {
    /// Every page of the navigation answers with a page for a signed-in user (and the lists show what the
    /// API created).
    @Test func everyNavigationPage_renders() async throws {
        try await withTestApp { ctx in
            let (pipelineID, ids) = try await LogEndpointTests().seed(ctx, statuses: [.success])
            // An admin: the navigation's every section, `/users` included.
            let session = try await cookieLogin(ctx, username: "admin", password: "admin-password-1")
            for path in DashboardPage.Section.navigation.map(\.path) + [
                "/pipelines/\(pipelineID)", "/executions/\(ids[0])", "/servers/1", "/audit?action=&actor=",
            ] {
                let html = try await page(ctx, path, session)
                #expect(html.contains("<main id=\"main\">"), "\(path)")
            }
            #expect(try await page(ctx, "/pipelines", session).contains(">web</a>"))
            #expect(try await page(ctx, "/connections", session).contains(">acme<"))
            #expect(try await page(ctx, "/servers", session).contains("deploy@203.0.113.10:22"))
            _ = try await page(ctx, "/audit?from_date=yesterday", session, status: .badRequest)
        }
    }

    @Test func accountToken_isShownOnce_andRevokes() async throws {
        try await withTestApp { ctx in
            let session = try await cookieLogin(ctx)
            var token = ""
            try await ctx.app.testing().test(
                .POST, "/account/tokens", headers: formHeaders(session),
                body: form(["name": "ci", "csrf_token": session.csrfToken])
            ) { res async throws in
                #expect(res.status == .created)
                token = try #require(
                    res.body.string.range(of: #"pw_[A-Za-z0-9_-]+"#, options: .regularExpression).map {
                        String(res.body.string[$0])
                    })
            }
            try await ctx.app.testing().test(.GET, "api/auth/me", headers: ["Authorization": "Bearer \(token)"]) {
                res async throws in
                #expect(res.status == .ok)
            }
            let html = try await page(ctx, "/account", session)
            #expect(!html.contains(token))
            let id = try #require(try await APIToken.query(on: ctx.app.db).filter(\.$name == "ci").first()?.id)
            try await ctx.app.testing().test(
                .POST, "/account/tokens/\(id)/revoke", headers: formHeaders(session),
                body: form(["csrf_token": session.csrfToken])
            ) { res async throws in
                #expect(res.status == .seeOther)
            }
            try await ctx.app.testing().test(.GET, "api/auth/me", headers: ["Authorization": "Bearer \(token)"]) {
                res async throws in
                #expect(res.status == .unauthorized)
            }
        }
    }
}

extension DashboardPageTests {
    /// Buttons and forms of actions a role may not take are left out (the server still refuses them: 403).
    @Test func viewer_seesNoActionForms_maintainerDoes() async throws {
        try await withTestApp { ctx in
            let (pipelineID, ids) = try await LogEndpointTests().seed(ctx, statuses: [.success])
            let keyID = try #require(try await StoredKey.query(on: ctx.app.db).first()?.id)
            let pages: [(String, String)] = [
                ("/keys", "Generate a key pair"), ("/keys/\(keyID)", "Deploy to a server"),
                ("/executions", "Trigger a pipeline"), ("/executions/\(ids[0])", "Run again"),
                ("/pipelines/\(pipelineID)", "Open pull request"), ("/connections", "Connect a Bitbucket workspace"),
            ]
            let viewer = try await cookieLogin(ctx, username: "viewer", password: "viewer-password-1")
            let maintainer = try await cookieLogin(ctx)
            for (path, action) in pages {
                #expect(!(try await page(ctx, path, viewer)).contains(action), "viewer, \(path)")
                #expect(try await page(ctx, path, maintainer).contains(action), "maintainer, \(path)")
            }
            try await ctx.app.testing().test(
                .POST, "/keys/generate", headers: formHeaders(viewer),
                body: form(["name": "v", "key_type": "ed25519", "csrf_token": viewer.csrfToken])
            ) { res async throws in
                #expect(res.status == .forbidden)
            }
        }
    }
}
