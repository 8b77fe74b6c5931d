import Bitbucket
import BitbucketFake
import Foundation
import Logging
import PipewrightCore
import Testing

@Suite struct BitbucketAuthenticationTests {
    @Test func currentUser_apiToken_sendsBasicEmailColonToken() async throws {
        try await withFakeBitbucket { server in
            let user = try await makeClient(server).currentUser()
            #expect(user.displayName == testEmail)
            #expect(user.uuid.hasPrefix("{") && user.uuid.hasSuffix("}"))
            #expect(user.nickname == "dev")
            let expected = "Basic " + Data("\(testEmail):\(testToken)".utf8).base64EncodedString()
            let requests = await server.requests()
            #expect(requests.count == 1)
            #expect(requests.first?.header("Authorization") == expected)
            #expect(requests.first?.path == "/2.0/user")
        }
    }

    @Test func currentUser_accessToken_sendsBearer() async throws {
        try await withFakeBitbucket { server in
            let client = makeClient(server, credentials: .accessToken(Secret(testAccessToken)))
            let user = try await client.currentUser()
            #expect(user.nickname == "access-token-bot")
            #expect(await server.requests().first?.header("Authorization") == "Bearer \(testAccessToken)")
        }
    }

    @Test func currentUser_wrongBasic_throwsUnauthorizedWithHintAndNoSecret() async throws {
        try await withFakeBitbucket { server in
            let wrongToken = "ATATT-wrong-token-999"
            let client = makeClient(server, credentials: .apiToken(email: testEmail, token: Secret(wrongToken)))
            let error = await expectBitbucketError { () async throws(BitbucketError) in try await client.currentUser() }
            guard case .unauthorized(let message)? = error else {
                Issue.record("expected unauthorized, got \(String(describing: error))")
                return
            }
            #expect(message.contains("Login failed"))
            #expect(message.contains("2026-06-09"))
            #expect(message.contains("Basic"))
            #expect(error?.code == "bitbucket_unauthorized")
            let basic = Data("\(testEmail):\(wrongToken)".utf8).base64EncodedString()
            for rendering in renderings(of: error ?? .notFound(message: "")) {
                #expect(!rendering.contains(wrongToken))
                #expect(!rendering.contains(basic))
                #expect(!rendering.contains("Authorization"))
            }
            // The fake answered like Bitbucket: text/plain + www-authenticate, and no retries on 401.
            #expect(await server.requests().count == 1)
        }
    }

    @Test func currentUser_wrongBearer_readsJSONMessage() async throws {
        try await withFakeBitbucket { server in
            let client = makeClient(server, credentials: .accessToken(Secret("not-a-valid-token")))
            let error = await expectBitbucketError { () async throws(BitbucketError) in try await client.currentUser() }
            guard case .unauthorized(let message)? = error else {
                Issue.record("expected unauthorized, got \(String(describing: error))")
                return
            }
            #expect(message.contains("Token is invalid, expired, or not supported for this endpoint."))
            #expect(!message.contains("not-a-valid-token"))
        }
    }

    @Test func repository_missingScope_throwsForbiddenWithRequiredScopes() async throws {
        try await withFakeBitbucket { server in
            await server.acceptedAccessToken("narrow-token", scopes: ["account"])
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            let client = makeClient(server, credentials: .accessToken(Secret("narrow-token")))
            _ = try await client.currentUser()
            let error = await expectBitbucketError { () async throws(BitbucketError) in
                try await client.repository(workspace: "acme", slug: "web")
            }
            #expect(
                error
                    == .forbidden(
                        message: "Your credentials lack one or more required privilege scopes.",
                        requiredScopes: ["repository"]))
            #expect(error?.details["required_scopes"] == "repository")
            #expect(error?.message.contains("repository") == true)
        }
    }

    @Test func credentials_descriptionNeverShowsTheToken() {
        let apiToken = BitbucketCredentials.apiToken(email: testEmail, token: Secret(testToken))
        let accessToken = BitbucketCredentials.accessToken(Secret(testAccessToken))
        for credentials in [apiToken, accessToken] {
            for rendering in [String(describing: credentials), String(reflecting: credentials), "\(credentials)"] {
                #expect(!rendering.contains(testToken))
                #expect(!rendering.contains(testAccessToken))
                #expect(rendering.contains("<redacted>"))
            }
            var dumped = ""
            dump(credentials, to: &dumped)
            #expect(!dumped.contains(testToken) && !dumped.contains(testAccessToken))
        }
    }

    @Test func logs_containMethodPathStatus_butNeverHeadersOrToken() async throws {
        try await withFakeBitbucket { server in
            let store = CapturingLogHandler.Store()
            var logger = Logger(label: "capture") { _ in CapturingLogHandler(store: store) }
            logger.logLevel = .trace
            await server.addRepository(workspace: "acme", slug: "web", files: ["README.md": "hi"])
            let client = makeClient(server, logger: logger)
            _ = try await client.repository(workspace: "acme", slug: "web")
            let wrong = makeClient(
                server, credentials: .apiToken(email: testEmail, token: Secret("wrong-token-777")), logger: logger)
            _ = await expectBitbucketError { () async throws(BitbucketError) in try await wrong.currentUser() }
            let lines = store.lines
            #expect(
                lines.contains { $0.contains("/2.0/repositories/acme/web") && $0.contains("200") && $0.contains("GET") }
            )
            #expect(lines.contains { $0.contains("401") })
            let basic = Data("\(testEmail):\(testToken)".utf8).base64EncodedString()
            for line in lines {
                #expect(!line.contains(testToken) && !line.contains(basic) && !line.contains("wrong-token-777"))
                #expect(!line.lowercased().contains("authorization"))
                #expect(!line.contains("README"))
            }
        }
    }
}
