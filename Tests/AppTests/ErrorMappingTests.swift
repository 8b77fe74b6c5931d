import Bitbucket
import FluentPostgresDriver
import Foundation
import LogStore
import NIOPosix
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

/// PostgreSQL down or restarting is 503 `not_ready` with `Retry-After`, never a 500 (docs/scaling.md
/// "Configuration"): the errors a real failed connection and an exhausted pool give.
@Suite struct DatabaseUnreachableMappingTests {
    @Test func aRefusedPostgresConnection_andAPoolTimeout_areNotReady() async throws {
        // Port 1 on 127.0.0.1: nothing listens, the connect is refused at once.
        var refused: (any Error)?
        do {
            let configuration = try SQLPostgresConfiguration(url: "postgres://postgres@127.0.0.1:1/postgres")
                .coreConfiguration
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1,
                logger: Logger(label: "test")
            ).get()
            try? await connection.close()
        } catch {
            refused = error
        }
        let error = try #require(refused)
        #expect(DatabaseReachability.isUnreachable(error), "\(String(reflecting: error))")
        for failure in [error, ConnectionPoolTimeoutError.connectionRequestTimeout] as [any Error] {
            let rendered = APIErrorMiddleware.render(failure)
            #expect(rendered.status == .serviceUnavailable)
            #expect(rendered.code == "not_ready")
            #expect(rendered.headers["Retry-After"] == ["5"])
        }
        // Other database errors keep their mapping (a constraint is a 409, anything else a 500).
        #expect(!DatabaseReachability.isUnreachable(CancellationError()))
    }
}
