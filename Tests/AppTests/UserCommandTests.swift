import Fluent
import FluentSQLiteDriver
import Foundation
import Testing
import Vapor

@testable import App

/// Issue 13 items 1 and 6: `pipewright user …` and `token create` through the built binary — thin over
/// `UserService`, the password policy applied (the common-password list found from another working
/// directory), and every change audited as `cli:<OS user>`.
@Suite struct UserCommandTests {
    func run(_ arguments: [String], _ dataDirectory: String, stdin: String? = nil) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try runProgram(
            try ServeProcess.binaryPath(), arguments, stdin: stdin,
            environment: ServeProcess.environment(dataDirectory: dataDirectory, [:]),
            directory: FileManager.default.temporaryDirectory.path)
    }

    @Test func userSubcommands_changeUsers_applyThePolicy_andAreAudited() async throws {
        let directory = ServeProcess.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Run from the temporary directory, not the package: the resource bundle is still found.
        let common = try run(
            ["user", "create", "dana", "--role", "viewer", "--password-stdin"], directory, stdin: "1qaz2wsx3edc\n")
        #expect(common.status != 0)
        #expect((common.stdout + common.stderr).contains("most common passwords"), "\(common)")
        let created = try run(
            ["user", "create", "dana", "--role", "viewer", "--password-stdin"], directory,
            stdin: "dana's long passphrase\n")
        #expect(created.status == 0, "\(created)")
        #expect(created.stdout.contains("viewer") && !created.stdout.contains("Password:"))
        let generated = try run(["user", "create", "erin"], directory)
        #expect(generated.status == 0 && generated.stdout.contains("Password: "), "\(generated)")
        #expect(try run(["user", "create", "fay", "--role", "member"], directory).status != 0)

        #expect(try run(["user", "set-role", "dana", "maintainer"], directory).status == 0)
        #expect(try run(["user", "disable", "dana"], directory).status == 0)
        let listed = try run(["user", "list"], directory)
        let dana = try #require(listed.stdout.split(separator: "\n").first { $0.contains("\tdana\t") })
        #expect(dana.contains("maintainer") && dana.contains("disabled"), "\(listed.stdout)")
        #expect(listed.stdout.contains("\terin\tmaintainer\t(must change password)"), "\(listed.stdout)")
        #expect(try run(["user", "enable", "dana"], directory).status == 0)
        let reset = try run(["user", "reset-password", "dana"], directory)
        #expect(reset.status == 0 && reset.stdout.contains("One-time password for 'dana': "), "\(reset)")
        let token = try run(["token", "create", "dana", "--name", "ci"], directory)
        #expect(token.status == 0 && token.stdout.contains("pw_"))
        #expect(try run(["user", "delete", "erin"], directory).status == 0)
        #expect(try run(["user", "delete", "nobody"], directory).status != 0)

        // The audit log, read from the data directory's database.
        let app = try await Application.make(.testing)
        do {
            app.databases.use(.sqlite(.file(directory + "/pipewright.sqlite")), as: .sqlite)
            let entries = try await AuditEntry.query(on: app.db).sort(\.$id).all()
            #expect(
                entries.map(\.action) == [
                    "user.create", "user.create", "user.create", "user.update", "user.update", "user.update",
                    "user.password_reset", "token.create", "user.delete",
                ])
            #expect(
                entries.map(\.outcome) == [
                    .failure, .success, .success, .success, .success, .success, .success,
                    .success, .success,
                ])
            #expect(entries.allSatisfy { $0.actorID == nil && $0.actorUsername?.hasPrefix("cli:") == true })
            #expect(entries.allSatisfy { $0.ip == "cli" })
            #expect(entries[3].details["role"] == "maintainer" && entries[4].details["disabled"] == "true")
            let secrets = ["dana's long passphrase", "1qaz2wsx3edc"]
            #expect(entries.allSatisfy { entry in !secrets.contains { entry.detailsJSON.contains($0) } })
            let dana = try #require(try await User.query(on: app.db).filter(\.$username == "dana").first())
            #expect(dana.role == .maintainer && !dana.isDisabled && dana.mustChangePassword)
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
