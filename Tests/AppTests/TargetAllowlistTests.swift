import Fluent
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// A resolver with a fixed, changeable table (names that do not exist in DNS), to prove that OpenSSH
/// connects to the checked address and that a changed answer is checked again.
final class TableResolver: HostResolving, @unchecked Sendable {
    private let lock = NSLock()
    private var table: [String: [String]]
    init(_ table: [String: [String]]) { self.table = table }
    func set(_ host: String, _ addresses: [String]) { lock.withLock { table[host] = addresses } }
    func resolve(_ host: String) async throws(HostResolutionError) -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        guard let addresses = lock.withLock({ table[host] }) else { throw HostResolutionError(reason: "unknown") }
        return addresses.compactMap { IPAddress($0) }
    }
}

/// `PIPEWRIGHT_SSH_ALLOWED_TARGETS` through the API, against real sshd instances.
@Suite struct TargetAllowlistTests {
    func allow(_ text: String) -> (inout PipewrightConfiguration) -> Void {
        { $0.sshAllowedTargets = try! SSHTargetAllowlist(parsing: text) }
    }

    func createKey(_ ctx: TestContext) async throws -> Int {
        var id = 0
        try await ctx.app.testing().test(
            .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
            body: try jsonBody(["name": "k", "key_type": "ed25519"])
        ) { res async throws in id = try #require(try res.json()["id"] as? Int) }
        return id
    }

    func post(_ ctx: TestContext, _ path: String, _ body: [String: Any]) async throws -> (HTTPStatus, [String: Any]) {
        var result: (HTTPStatus, [String: Any]) = (.ok, [:])
        try await ctx.app.testing().test(.POST, path, headers: .json(ctx.memberAuth), body: try jsonBody(body)) {
            res async throws in
            result = (res.status, try res.json())
        }
        return result
    }

    func auditEntries(_ ctx: TestContext) async throws -> [AuditEntry] {
        try await AuditEntry.query(on: ctx.app.db).sort(\.$id).all()
    }

    @Test func deployTo127_0_0_2_whenOnly127_0_0_1Allowed_is403_andSSHDSeesNothing() async throws {
        try await SSHDFixture.withFixture(listenAddress: "127.0.0.2") { fixture in
            try await withTestApp(configure: allow("127.0.0.1/32")) { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                let logBefore = fixture.log()
                #expect(logBefore.contains("Server listening on 127.0.0.2"))
                let target: [String: Any] = [
                    "host": "127.0.0.2", "port": fixture.port, "username": user.name, "password": user.password.value,
                ]
                for action in ["deploy", "undeploy", "test"] {
                    var servers = target
                    if action == "test" { servers["password"] = nil }
                    let (status, json) = try await post(ctx, "api/ssh-keys/\(id)/\(action)", ["servers": [servers]])
                    #expect(status == .forbidden, "\(action)")
                    let error = try #require(json["error"] as? [String: Any])
                    #expect(error["code"] as? String == "target_not_allowed")
                    #expect(
                        (error["details"] as? [String: String])?["target"] == "\(user.name)@127.0.0.2:\(fixture.port)")
                }
                // Give a stray connection time to show up in the log, then check there was none.
                try await Task.sleep(for: .milliseconds(300))
                #expect(!fixture.log().contains("Connection from"), "sshd log: \(fixture.log())")
                #expect(fixture.log() == logBefore)
                #expect(try await KeyDeployment.query(on: ctx.app.db).count() == 0)
                // A refused target is not kept as a server either.
                #expect(try await Server.query(on: ctx.app.db).count() == 0)
                // Each refusal is audited once, as denied, with the target and never the password.
                let denied = try await auditEntries(ctx).filter { $0.outcome == .denied }
                #expect(denied.map(\.action) == ["ssh_key.deploy", "ssh_key.undeploy", "ssh_key.test"])
                #expect(denied.allSatisfy { $0.details["target"] == "\(user.name)@127.0.0.2:\(fixture.port)" })
                #expect(denied.allSatisfy { !$0.detailsJSON.contains(user.password.value) })
            }
        }
    }

    @Test func allowedTarget_stillDeploys() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp(configure: allow("127.0.0.1/32")) { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                let (status, json) = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    [
                        "servers": [
                            [
                                "host": "127.0.0.1", "port": fixture.port, "username": user.name,
                                "password": user.password.value,
                            ]
                        ]
                    ])
                #expect(status == .ok)
                #expect((json["results"] as? [[String: Any]])?.first?["status"] as? String == "deployed")
                let (testStatus, test) = try await post(ctx, "api/ssh-keys/\(id)/test", [:])
                #expect(testStatus == .ok)
                #expect((test["results"] as? [[String: Any]])?.first?["ok"] as? Bool == true)
            }
        }
    }

    /// A host-name entry: OpenSSH connects to the address that was checked (the name exists only in the
    /// test's resolver, so a second lookup by ssh would fail), the pin is kept under the name, and when
    /// the name later resolves to a metadata address, rotate and test are refused before connecting.
    @Test func hostNameEntry_connectsToCheckedAddress_andRebindingIsRefused() async throws {
        let resolver = TableResolver(["deploy.pipewright.test": ["127.0.0.1"]])
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp(configure: allow("deploy.pipewright.test"), services: { $0.hostResolver = resolver })
            { ctx in
                let user = fixture.users[0]
                let id = try await createKey(ctx)
                let (status, json) = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    [
                        "servers": [
                            [
                                "host": "deploy.pipewright.test", "port": fixture.port, "username": user.name,
                                "password": user.password.value,
                            ]
                        ]
                    ])
                #expect(status == .ok)
                #expect((json["results"] as? [[String: Any]])?.first?["status"] as? String == "deployed", "\(json)")
                let pins = try await PinnedHostKey.query(on: ctx.app.db).all()
                #expect(pins.map(\.host) == ["deploy.pipewright.test"])
                #expect(pins.map(\.fingerprintSHA256) == [await fixture.hostKeyFingerprint])
                // The pin is used on the next contact (StrictHostKeyChecking=yes under the alias).
                let (_, test) = try await post(ctx, "api/ssh-keys/\(id)/test", [:])
                #expect((test["results"] as? [[String: Any]])?.first?["ok"] as? Bool == true, "\(test)")
                // Rebinding: the same name now answers with the metadata address.
                resolver.set("deploy.pipewright.test", ["169.254.169.254"])
                let connectionsBefore = fixture.log().components(separatedBy: "Connection from").count
                for action in ["test", "rotate"] {
                    let (status, json) = try await post(ctx, "api/ssh-keys/\(id)/\(action)", [:])
                    #expect(status == .forbidden, "\(action)")
                    #expect((json["error"] as? [String: Any])?["code"] as? String == "target_not_allowed")
                }
                #expect(fixture.log().components(separatedBy: "Connection from").count == connectionsBefore)
                #expect(try await StoredKey.query(on: ctx.app.db).count() == 1)
            }
        }
    }

    @Test func defaultPolicy_refusesMetadataAddress_withoutRunningSSH() async throws {
        try await withTestApp { ctx in
            let id = try await createKey(ctx)
            for host in ["169.254.169.254", "[fe80::1]", "0.0.0.0", "::"] {
                let (status, json) = try await post(
                    ctx, "api/ssh-keys/\(id)/deploy",
                    [
                        "servers": [["host": host, "username": "root", "password": "pw-secret"]]
                    ])
                #expect(status == .forbidden, "\(host)")
                #expect((json["error"] as? [String: Any])?["code"] as? String == "target_not_allowed")
            }
        }
    }

    @Test func unresolvableHost_isPerServerDNSFailure() async throws {
        try await withTestApp { ctx in
            let id = try await createKey(ctx)
            let (status, json) = try await post(
                ctx, "api/ssh-keys/\(id)/deploy",
                [
                    "servers": [["host": "nosuch.invalid", "username": "root", "password": "pw-secret"]]
                ])
            #expect(status == .ok)
            let result = try #require((json["results"] as? [[String: Any]])?.first)
            #expect((result["error"] as? [String: Any])?["code"] as? String == "dns_failure")
        }
    }

    @Test func badAllowlistVariable_namesTheVariable() {
        #expect(
            throws: ConfigurationError.invalid(
                variable: "PIPEWRIGHT_SSH_ALLOWED_TARGETS", reason: "entry '10.0.0.0/33': not a valid CIDR block"
            )
        ) {
            try PipewrightConfiguration.fromEnvironment(["PIPEWRIGHT_SSH_ALLOWED_TARGETS": "10.0.0.0/33"])
        }
    }
}
