import Fluent
import Foundation
import PipewrightCore
import PipewrightTesting
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// Issue 12 item 7: accepting a new host key ends the old pin instead of deleting it; the server lists the
/// history; the audit entry names both fingerprints; only active pins are checked.
@Suite struct HostKeyHistoryTests {
    @Test func accept_keepsTheOldPinWithWhenWhoWhy_andAuditsBothFingerprints() async throws {
        try await SSHDFixture.withFixture { fixture in
            try await withTestApp { ctx in
                let helper = SSHDeploymentTests()
                let user = fixture.users[0]
                let keyID = try await helper.createKey(ctx)
                let body: [String: Any] = ["servers": [helper.target(fixture, user, password: user.password.value)]]
                _ = try await helper.post(ctx, "api/ssh-keys/\(keyID)/deploy", body)
                let old = await fixture.hostKeyFingerprint
                try await fixture.regenerateHostKey()
                let new = await fixture.hostKeyFingerprint
                #expect(old != new)
                let serverID = try #require(try await Server.query(on: ctx.app.db).first()?.id)
                try await ctx.app.testing().test(
                    .POST, "api/servers/\(serverID)/host-keys/accept", headers: .json(ctx.adminAuth),
                    body: try jsonBody(["fingerprint_sha256": new])
                ) { res async throws in #expect(res.status == .ok, "\(res.body.string)") }

                try await ctx.app.testing().test(.GET, "api/servers/\(serverID)", headers: ctx.memberAuth) {
                    res async throws in
                    #expect(res.status == .ok)
                    let json = try res.json()
                    let active = try #require(json["host_keys"] as? [[String: Any]])
                    #expect(active.map { $0["fingerprint_sha256"] as? String } == [new])
                    let history = try #require(json["host_key_history"] as? [[String: Any]], "\(json)")
                    #expect(history.map { $0["fingerprint_sha256"] as? String } == [new, old])
                    // Active pin: every field present, the ended ones null.
                    let current = try #require(history.first)
                    for field in ["ended_at", "ended_by", "end_reason", "replaced_by"] {
                        #expect(current.keys.contains(field) && current[field] is NSNull, "\(field): \(current)")
                    }
                    #expect(current["approved_by"] as? String == "admin")
                    let ended = try #require(history.last)
                    #expect(ended["ended_at"] as? String != nil)
                    #expect(ended["ended_by"] as? String == "admin")
                    #expect(ended["end_reason"] as? String == "replaced")
                    #expect(ended["replaced_by"] as? String == new)
                    #expect(ended.keys.contains("approved_by") && ended["approved_by"] is NSNull)  // first contact
                }
                let stored = try await PinnedHostKey.query(on: ctx.app.db).sort(\.$id).all()
                #expect(stored.map(\.fingerprintSHA256) == [old, new])
                #expect(stored.first?.endedAt != nil && stored.last?.endedAt == nil)

                // The ended pin is no longer checked: the key test connects with the new host key.
                let test = try await helper.post(ctx, "api/ssh-keys/\(keyID)/test")
                #expect(try helper.results(test).first?["ok"] as? Bool == true, "\(test)")

                let entry = try #require(
                    try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "server.host_key_accept").first())
                #expect(entry.details["fingerprint_sha256"] == new)
                #expect(entry.details["previous_fingerprints"] == old)

                // Accepting again ends the pin just accepted, and keeps both earlier ones.
                try await ctx.app.testing().test(
                    .POST, "api/servers/\(serverID)/host-keys/accept", headers: .json(ctx.adminAuth),
                    body: try jsonBody(["fingerprint_sha256": new])
                ) { res async throws in
                    #expect(res.status == .ok)
                    let history = try #require(try res.json()["host_key_history"] as? [[String: Any]])
                    #expect(history.map { $0["fingerprint_sha256"] as? String } == [new, new, old])
                    #expect(history.filter { $0["ended_at"] is NSNull }.count == 1)
                }
            }
        }
    }
}
