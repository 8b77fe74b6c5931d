import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

@Suite struct SSHKeyCRUDTests {
    @Test func create_ed25519_returnsSpecShape_withoutPrivateKey() async throws {
        try await withTestApp { ctx in
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "Production Server", "key_type": "ed25519"])
            ) { res async throws in
                #expect(res.status == .created)
                let body = try res.json()
                #expect(body["key_type"] as? String == "ed25519")
                #expect(body["key_size"] as? Int == 256)
                #expect((body["public_key"] as? String)?.hasPrefix("ssh-ed25519 AAAA") == true)
                #expect((body["fingerprint_sha256"] as? String)?.hasPrefix("SHA256:") == true)
                #expect((body["fingerprint_md5"] as? String)?.hasPrefix("MD5:") == true)
                #expect(body["status"] as? String == "active")
                #expect(body["deployments"] as? [Any] != nil)
                #expect(!res.body.string.contains("PRIVATE KEY"))
                #expect(body["private_key"] == nil)
            }
        }
    }

    /// The key's state is checked before any target is resolved: a retired key's deploy to a new inline
    /// target is refused with 409 and leaves no server row behind.
    @Test func deploy_retiredKey_is409_andCreatesNoServerRow() async throws {
        try await withTestApp { ctx in
            var keyID = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "old", "key_type": "ed25519"])
            ) { res async throws in
                keyID = try #require(try res.json()["id"] as? Int)
            }
            let record = try #require(try await StoredKey.find(keyID, on: ctx.app.db))
            record.status = .retired
            try await record.save(on: ctx.app.db)
            let target: [String: Any] = ["host": "203.0.113.7", "port": 2222, "username": "deploy", "password": "pw-1"]
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/\(keyID)/deploy", headers: .json(ctx.memberAuth),
                body: try jsonBody(["servers": [target]])
            ) { res async throws in
                #expect(res.status == .conflict)
                #expect(res.errorCode == "key_retired")
            }
            #expect(try await Server.query(on: ctx.app.db).count() == 0)
        }
    }

    /// Undeploying from a server where the key is not recorded, without a password, cannot lock anyone out:
    /// the answer is `no_credentials` (Pipewright knows no way in), and the failure is audited with its code.
    @Test func undeploy_unrecordedInlineTarget_isNoCredentials_andAuditedWithTheCode() async throws {
        try await withTestApp { ctx in
            var keyID = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "k", "key_type": "ed25519"])
            ) { res async throws in
                keyID = try #require(try res.json()["id"] as? Int)
            }
            let target: [String: Any] = ["host": "203.0.113.8", "username": "deploy"]
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/\(keyID)/undeploy", headers: .json(ctx.memberAuth),
                body: try jsonBody(["servers": [target]])
            ) { res async throws in
                #expect(res.status == .ok)
                let results = try #require(try res.json()["results"] as? [[String: Any]])
                #expect((results.first?["error"] as? [String: Any])?["code"] as? String == "no_credentials")
            }
            let entry = try #require(
                try await AuditEntry.query(on: ctx.app.db).filter(\.$action == "ssh_key.undeploy").first())
            #expect(entry.outcome == .failure)
            #expect(entry.details["error"] == "no_credentials")
        }
    }

    @Test func create_rejectsBadTypeAndSize() async throws {
        try await withTestApp { ctx in
            let cases: [([String: Any], String)] = [
                (["name": "a", "key_type": "dsa"], "key_type"),
                (["name": "a", "key_type": "rsa", "key_size": 1024], "key_size"),
                (["name": "", "key_type": "ed25519"], "name"),
                (["name": "a", "key_type": "ed25519", "comment": "two\nlines"], "comment"),
            ]
            for (body, field) in cases {
                try await ctx.app.testing().test(
                    .POST, "api/ssh-keys", headers: .json(ctx.memberAuth), body: try jsonBody(body)
                ) { res async throws in
                    #expect(res.status == .badRequest)
                    let error = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body))
                    #expect(error.error.details["field"] == field)
                }
            }
        }
    }

    @Test func privateKey_isSealedAtRest_andExportRoundTrips() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-sqlite-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/db.sqlite"
        // SQLite on purpose: the test reads the database file's bytes for plaintext.
        try await withTestApp(configure: { configuration in
            configuration.database = .sqlite(path: file)
            configuration.dataDirectory = directory
        }) { ctx in
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "sealed", "key_type": "ed25519", "passphrase": "correct horse"])
            ) { res async throws in
                #expect(res.status == .created)
                id = try #require(try res.json()["id"] as? Int)
            }
            var exported = ""
            // Export is for admins (docs/API.md "Users and roles").
            try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)/private", headers: ctx.adminAuth) {
                res async throws in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .cacheControl) == "no-store")
                exported = try #require(try res.json()["private_key"] as? String)
            }
            #expect(exported.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----"))
            // The export is passphrase-protected: wrong passphrase fails, right one opens it.
            #expect(throws: SSHKeyError.wrongPassphrase) { try PrivateKeyImporter.parse(exported, passphrase: nil) }
            let opened = try PrivateKeyImporter.parse(exported, passphrase: .init("correct horse"))
            let record = try #require(try await StoredKey.find(id, on: ctx.app.db))
            #expect(opened.key.publicKey.fingerprintSHA256 == record.fingerprintSHA256)
            // Neither the PEM body, the unencrypted key nor the passphrase are in the database file.
            let vault = KeyVault(vault: ctx.app.services.vault)
            let plain = try vault.privateKeyPEM(of: record).value
            let body = plain.split(separator: "\n").dropFirst().dropLast().joined()
            let database = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(database.range(of: Data(String(body.prefix(40)).utf8)) == nil)
            #expect(database.range(of: Data("correct horse".utf8)) == nil)
            #expect(database.range(of: Data("PRIVATE KEY".utf8)) == nil)
        }
    }

    @Test func export_disabledByKeyOrConfiguration_is403() async throws {
        try await withTestApp { ctx in
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "locked", "key_type": "ed25519", "exportable": false])
            ) { res async throws in id = try #require(try res.json()["id"] as? Int) }
            try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)/private", headers: ctx.adminAuth) {
                res async throws in
                #expect(res.status == .forbidden)
                #expect(res.errorCode == "export_disabled")
            }
        }
        try await withTestApp(configure: { $0.allowsPrivateKeyExport = false }) { ctx in
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "x", "key_type": "ed25519"])
            ) { res async throws in id = try #require(try res.json()["id"] as? Int) }
            try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)/private", headers: ctx.adminAuth) {
                res async throws in
                #expect(res.errorCode == "export_disabled")
            }
        }
    }

    /// Keys belong to the team (issue 13 item 1): the admin's key is listed and shown to the maintainer
    /// and the viewer; the viewer changes nothing (403), the maintainer exports nothing (403), and an
    /// unknown id stays a 404.
    @Test func anotherUsersKey_isTheTeams_changesFollowTheRole() async throws {
        try await withTestApp { ctx in
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.adminAuth),
                body: try jsonBody(["name": "admin's", "key_type": "ed25519"])
            ) { res async throws in id = try #require(try res.json()["id"] as? Int) }
            for auth in [ctx.memberAuth, ctx.viewerAuth] {
                try await ctx.app.testing().test(.GET, "api/ssh-keys", headers: auth) { res async throws in
                    #expect((try res.json()["items"] as? [Any])?.count == 1)
                }
                try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)", headers: auth) { res async throws in
                    #expect(res.status == .ok)
                    #expect(!res.body.string.contains("PRIVATE KEY"))
                }
            }
            for (method, path) in [(HTTPMethod.GET, "/private"), (.DELETE, ""), (.POST, "/rotate")] {
                try await ctx.app.testing().test(method, "api/ssh-keys/\(id)\(path)", headers: ctx.viewerAuth) {
                    res async throws in
                    #expect(res.status == .forbidden && res.errorCode == "forbidden", "\(method) \(path)")
                }
                try await ctx.app.testing().test(method, "api/ssh-keys/999999\(path)", headers: ctx.viewerAuth) {
                    res async throws in
                    #expect(res.status == .notFound, "\(method) \(path)")
                }
            }
            try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)/private", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .forbidden && res.errorCode == "forbidden")
            }
            try await ctx.app.testing().test(.DELETE, "api/ssh-keys/\(id)", headers: ctx.memberAuth) {
                res async throws in
                #expect(res.status == .noContent)
            }
        }
    }

    @Test func import_duplicate_is409_andUpdateChangesMetadataOnly() async throws {
        let key = try KeyGenerator.generate(type: .ed25519)
        let pem = try key.openSSHPrivateKeyPEM(comment: "imported@test", passphrase: nil).value
        try await withTestApp { ctx in
            var id = 0
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/import", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "imp", "private_key": pem.replacingOccurrences(of: "\n", with: "\r\n")])
            ) { res async throws in
                #expect(res.status == .created)
                let body = try res.json()
                id = try #require(body["id"] as? Int)
                #expect(body["comment"] as? String == "imported@test")
                #expect(body["fingerprint_sha256"] as? String == key.publicKey.fingerprintSHA256)
            }
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys/import", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "again", "private_key": pem])
            ) { res async throws in
                #expect(res.status == .conflict)
                #expect(res.errorCode == "duplicate_key")
            }
            try await ctx.app.testing().test(
                .PUT, "api/ssh-keys/\(id)", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "renamed", "comment": "new comment"])
            ) { res async throws in
                #expect(res.status == .ok)
                let body = try res.json()
                #expect(body["name"] as? String == "renamed")
                #expect((body["public_key"] as? String)?.hasSuffix(" new comment") == true)
                #expect(body["fingerprint_sha256"] as? String == key.publicKey.fingerprintSHA256)
            }
        }
    }

    @Test func ids_areNeverReused_afterDelete() async throws {
        try await withTestApp { ctx in
            var ids: [Int] = []
            for _ in 0..<2 {
                try await ctx.app.testing().test(
                    .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                    body: try jsonBody(["name": "k", "key_type": "ed25519"])
                ) { res async throws in ids.append(try #require(try res.json()["id"] as? Int)) }
                try await ctx.app.testing().test(.DELETE, "api/ssh-keys/\(ids.last ?? 0)", headers: ctx.memberAuth) {
                    res async throws in
                    #expect(res.status == .noContent)
                }
            }
            #expect(ids[1] > ids[0])
        }
    }

    @Test func comments_rejectBidiOverridesAndSeparators() async throws {
        try await withTestApp { ctx in
            for comment in ["evil\u{202E}txt", "a\u{2028}b", "zero\u{200B}width"] {
                try await ctx.app.testing().test(
                    .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                    body: try jsonBody(["name": "k", "key_type": "ed25519", "comment": comment])
                ) { res async throws in
                    #expect(res.status == .badRequest)
                }
            }
        }
    }

    @Test func import_errors_haveSpecCodes() async throws {
        let key = try KeyGenerator.generate(type: .ed25519)
        try await withTestApp { ctx in
            let cases: [(String, String)] = [
                (key.publicKey.authorizedKeysLine, "not_a_private_key"),
                (
                    "-----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQ==\n-----END DSA PRIVATE KEY-----\n",
                    "unsupported_key_type"
                ),
                ("hello world", "invalid_private_key"),
            ]
            for (text, code) in cases {
                try await ctx.app.testing().test(
                    .POST, "api/ssh-keys/import", headers: .json(ctx.memberAuth),
                    body: try jsonBody(["name": "x", "private_key": text])
                ) { res async throws in
                    #expect(res.status == .badRequest)
                    #expect(res.errorCode == code)
                }
            }
        }
    }

    @Test func masterKey_mismatchOnRestart_refusesToStart_andChangesNothing() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-mk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/db.sqlite"
        let original = MasterKey.generate()
        var sealedBefore = ""
        // SQLite on purpose: the same database file is reopened with another key, then the original.
        try await withTestApp(
            masterKey: original,
            configure: {
                $0.database = .sqlite(path: file); $0.dataDirectory = directory
            }
        ) { ctx in
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "k", "key_type": "ed25519"])
            ) { res async throws in #expect(res.status == .created) }
            sealedBefore = try #require(try await StoredKey.query(on: ctx.app.db).first()?.sealedPrivateKey)
        }
        let app = try await Application.make(.testing)
        var configuration = PipewrightConfiguration.testing(dataDirectory: directory, masterKey: MasterKey.generate())
        configuration.database = .sqlite(path: file)
        await #expect {
            try await configure(app, configuration: configuration)
        } throws: { error in
            guard case ConfigurationError.invalid(let variable, let reason) = error else { return false }
            return variable == "PIPEWRIGHT_MASTER_KEY" && reason.contains("does not open")
        }
        try await app.asyncShutdown()
        try await withTestApp(
            masterKey: original,
            configure: {
                $0.database = .sqlite(path: file); $0.dataDirectory = directory
            }
        ) { ctx in
            let after = try await StoredKey.query(on: ctx.app.db).first()?.sealedPrivateKey
            #expect(after == sealedBefore)
            let report = try await SecretInventory.verify(with: original, on: ctx.app.db)
            #expect(report.failures.isEmpty && report.checked >= 2)
        }
    }

    @Test func masterKeyRotate_withKeyFile_replacesFileAtomically() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyFile = directory + "/master.key"
        // SQLite on purpose: the service restarts on the same database file.
        try await withTestApp(configure: keyFileAndSQLite(in: directory)) { ctx in
            let before = try String(contentsOfFile: keyFile, encoding: .utf8)
            let result = try await MasterKeyRotation.rotate(app: ctx.app, newKeyFile: nil)
            let after = try String(contentsOfFile: keyFile, encoding: .utf8)
            #expect(before != after)
            #expect(result.path == keyFile)
            #expect(try MasterKey(base64: after.trimmingCharacters(in: .whitespacesAndNewlines)).id == result.newKey.id)
            #expect(!FileManager.default.fileExists(atPath: keyFile + ".new"))
            let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        // The service starts again from the rotated file.
        try await withTestApp(configure: keyFileAndSQLite(in: directory)) { _ in }
    }

    @Test func masterKeyRotate_neverOverwritesAKeyFileItDidNotWrite() async throws {
        let directory = try CLIProcess.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyFile = directory + "/master.key"
        // SQLite on purpose: the key file and the database live in one directory of the test's own.
        try await withTestApp(configure: keyFileAndSQLite(in: directory)) { ctx in
            let current = try String(contentsOfFile: keyFile, encoding: .utf8)
            try await ctx.app.testing().test(
                .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                body: try jsonBody(["name": "kept", "key_type": "ed25519"])
            ) { res async throws in #expect(res.status == .created) }

            // --new-key-file naming a file that exists (another installation's key, say): refused, untouched.
            let other = directory + "/other.key"
            try "another installation's key\n".write(toFile: other, atomically: true, encoding: .utf8)
            await #expect(throws: KeyFileExistsError.self) {
                _ = try await MasterKeyRotation.rotate(app: ctx.app, newKeyFile: other)
            }
            #expect(try String(contentsOfFile: other, encoding: .utf8) == "another installation's key\n")
            #expect(!FileManager.default.fileExists(atPath: other + ".new"))

            // A `master.key.new` left by a rotation whose rename failed holds the only key that opens the
            // data then: neither the command nor the endpoint replaces it.
            let staged = keyFile + ".new"
            try "the key a failed rotation sealed with\n".write(toFile: staged, atomically: true, encoding: .utf8)
            await #expect(throws: KeyFileExistsError.self) {
                _ = try await MasterKeyRotation.rotate(app: ctx.app, newKeyFile: nil)
            }
            try await ctx.app.testing().test(.POST, "api/admin/master-key/rotate", headers: .json(ctx.adminAuth)) {
                res async throws in
                #expect(res.status == .conflict)
                let error = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: res.body)).error
                #expect(error.code == "key_file_exists")
                #expect(error.message.contains(staged))
            }
            #expect(try String(contentsOfFile: staged, encoding: .utf8) == "the key a failed rotation sealed with\n")
            #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == current)
            let report = try await SecretInventory.verify(with: ctx.app.services.masterKey, on: ctx.app.db)
            #expect(report.failures.isEmpty && report.checked >= 1)

            // Moved away, the rotation goes through.
            try FileManager.default.removeItem(atPath: staged)
            let result = try await MasterKeyRotation.rotate(app: ctx.app, newKeyFile: nil)
            #expect(result.path == keyFile && result.count >= 1)
        }
    }

    @Test func masterKeyRotate_resealsEverything_oldKeyNoLongerOpens() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-rot-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/db.sqlite"
        let original = MasterKey.generate()
        var newKey: MasterKey?
        // SQLite on purpose: the database file is reopened with the new key and with the old one.
        try await withTestApp(masterKey: original, configure: { $0.database = .sqlite(path: file) }) { ctx in
            for name in ["a", "b"] {
                try await ctx.app.testing().test(
                    .POST, "api/ssh-keys", headers: .json(ctx.memberAuth),
                    body: try jsonBody(["name": name, "key_type": "ed25519", "passphrase": "pp-\(name)"])
                ) { res async throws in #expect(res.status == .created) }
            }
            let result = try await MasterKeyRotation.rotate(app: ctx.app, newKeyFile: directory + "/new.key")
            #expect(result.count == 5)  // 2 private keys, 2 passphrases, 1 check value
            let written = try String(contentsOfFile: directory + "/new.key", encoding: .utf8)
            #expect(
                try MasterKey(base64: written.trimmingCharacters(in: .whitespacesAndNewlines)).id == result.newKey.id)
            #expect(!FileManager.default.fileExists(atPath: directory + "/new.key.new"))
            #expect(try await SecretInventory.verify(with: result.newKey, on: ctx.app.db).failures.isEmpty)
            #expect(try await SecretInventory.verify(with: original, on: ctx.app.db).failures.count == 5)
            newKey = result.newKey
        }
        // A restart with the new key opens everything; with the old one it refuses to start.
        try await withTestApp(masterKey: try #require(newKey), configure: { $0.database = .sqlite(path: file) }) {
            ctx in
            let id = try #require(try await StoredKey.query(on: ctx.app.db).first()?.id)
            try await ctx.app.testing().test(.GET, "api/ssh-keys/\(id)/private", headers: ctx.adminAuth) {
                res async throws in
                #expect(res.status == .ok)
            }
        }
        await #expect(throws: ConfigurationError.self) {
            try await withTestApp(masterKey: original, configure: { $0.database = .sqlite(path: file) }) { _ in }
        }
    }

    /// A test application whose master key is `<directory>/master.key` and whose SQLite database is
    /// `<directory>/db.sqlite` (both survive a restart of the application).
    private func keyFileAndSQLite(in directory: String) -> (inout PipewrightConfiguration) -> Void {
        { configuration in
            configuration.masterKey = .file(path: directory + "/master.key")
            configuration.database = .sqlite(path: directory + "/db.sqlite")
        }
    }
}
