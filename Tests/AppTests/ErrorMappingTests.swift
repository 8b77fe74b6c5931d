import Bitbucket
import Foundation
import LogStore
import PipelineConfig
import PipewrightCore
import Realtime
import SSHKeys
import Testing
import Vapor

@testable import App

/// Every domain module's error reaches clients through one explicit HTTP mapping, with the domain's
/// code: nothing falls through to a generic status.
@Suite struct ErrorMappingTests {
    @Test func everyDomainError_hasAnExplicitMapping_keepingItsCode() {
        let cases: [(any PipewrightError, HTTPResponseStatus)] = [
            (SSHKeyError.authFailed, .badGateway),
            (SSHKeyError.invalidTarget(field: "host", reason: "x"), .badRequest),
            (SecretError.sealedSecretCorrupt, .serviceUnavailable),
            (SecretError.invalidMasterKey(reason: "x"), .serviceUnavailable),
            (LogStoreError.invalidRegex(reason: "x"), .badRequest),
            (LogStoreError.executionNotFound(execution: 1), .notFound),
            (PipelineConfigError.noStackDetected, .unprocessableEntity),
            (PipelineConfigError.invalidOverride(field: "language", reason: "x"), .unprocessableEntity),
            (RealtimeError.invalidRequest(field: "execution_id", reason: "x"), .badRequest),
            (RealtimeError.notFound("Execution"), .notFound),
            (ProcessError.launchFailed(executable: "ssh", reason: "x"), .serviceUnavailable),
        ]
        for (error, status) in cases {
            let rendered = APIErrorMiddleware.render(error)
            #expect(rendered.status == status, "\(error.code)")
            #expect(rendered.code == error.code)
        }
        // Bitbucket's errors get the API's own codes (a 401 upstream is the client's 502).
        let upstream = APIErrorMiddleware.render(BitbucketError.unauthorized(message: "no"))
        #expect(upstream.status == .badGateway)
        #expect(upstream.code == "bitbucket_auth_failed")
    }

    @Test func conflicts_keepTheirWireCodes() {
        let codes = [
            ConflictError.duplicateKey(existingID: 3, fingerprintSHA256: "SHA256:x"), .duplicateUser("a"),
            .duplicateServer(target: "a@b:22", existingID: 1), .keyRetired(alreadyRotated: false),
            .keyInUse(servers: 2),
            .serverInUse(deployments: 1), .hostKeyNotPresented(presented: []), .connectionInUse(pipelines: 1),
            .executionFinished, .executionTriggering,
        ].map { APIErrorMiddleware.render($0) }
        #expect(codes.allSatisfy { $0.status == .conflict })
        #expect(
            codes.map(\.code) == [
                "duplicate_key", "duplicate_user", "duplicate_server", "key_retired", "key_in_use", "server_in_use",
                "host_key_not_presented", "connection_in_use", "execution_finished", "execution_triggering",
            ])
    }

    @Test func unreadableConnectionToken_hasItsOwnCode() {
        let rendered = APIErrorMiddleware.render(ConnectionError.tokenUnreadable(connectionID: 4))
        #expect(rendered.status == .serviceUnavailable)
        #expect(rendered.code == "connection_token_unreadable")
        #expect(rendered.details["connection_id"] == "4")
    }
}
