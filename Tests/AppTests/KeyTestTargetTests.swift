import Fluent
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 12 item 11: `POST /api/ssh-keys/{id}/test` takes deploy's inline target shape, a `password`
/// included (accepted, never sent), and checks the host before anything else.
@Suite struct KeyTestTargetTests {
    @Test func test_acceptsDeploysTargetShapeWithPassword_andNeverSendsIt() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let helper = SSHDeploymentTests()
                let user = fixture.users[0]
                let keyID = try await helper.createKey(ctx)
                let target = helper.target(fixture, user, password: user.password.value)
                _ = try await helper.post(ctx, "api/ssh-keys/\(keyID)/deploy", ["servers": [target]])
                let passwordLogins = fixture.log().components(separatedBy: "Accepted password").count
                let test = try await helper.post(ctx, "api/ssh-keys/\(keyID)/test", ["servers": [target]])
                #expect(try helper.results(test).first?["ok"] as? Bool == true, "\(test)")
                #expect(fixture.log().components(separatedBy: "Accepted password").count == passwordLogins)
            }
        }
    }

    @Test func test_injectedHost_isInvalidTarget_whateverElseTheTargetHolds() async throws {
        try await withTestApp { ctx in
            let keyID = try await SSHDeploymentTests().createKey(ctx)
            for target in [
                ["host": "-oProxyCommand=id", "username": "deploy", "password": "secret"],
                ["host": "-oProxyCommand=id", "password": ""],
                ["host": "a;id", "server_id": 1],
            ] as [[String: Any]] {
                let json = try await SSHDeploymentTests().post(
                    ctx, "api/ssh-keys/\(keyID)/test", ["servers": [target]], status: .badRequest)
                #expect((json["error"] as? [String: Any])?["code"] as? String == "invalid_target", "\(target)")
            }
        }
    }
}
