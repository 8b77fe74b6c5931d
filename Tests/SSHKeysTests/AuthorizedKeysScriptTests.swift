import Foundation
import PipewrightCore
import Testing

@testable import SSHKeys

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the remote scripts locally under `dash` (POSIX sh) with a temporary `HOME`.
@Suite struct AuthorizedKeysScriptTests {
    static let shell = FileManager.default.isExecutableFile(atPath: "/bin/dash") ? "/bin/dash" : "/bin/sh"
    static let blobA = "AAAAC3NzaC1lZDI1NTE5AAAAIH+1I349HB4jo3/yqatD9Vp4RjvBYBhL6pAhqUiG+cIv"
    static let blobB = "AAAAC3NzaC1lZDI1NTE5AAAAIGg8ImHdLWWnY2hGoN3N0oC0xW6zDs9jWUPYpFEBPvJa"
    static let lineA = "ssh-ed25519 \(blobA) shared"
    static let lineB = "ssh-ed25519 \(blobB) shared"

    final class Home {
        let path = NSTemporaryDirectory() + "pwt-home-" + UUID().uuidString
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var authorizedKeysPath: String { "\(path)/.ssh/authorized_keys" }
        var authorizedKeys: String? {
            FileManager.default.contents(atPath: authorizedKeysPath).map { String(decoding: $0, as: UTF8.self) }
        }
        func write(_ text: String) throws {
            try FileManager.default.createDirectory(atPath: "\(path)/.ssh", withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: authorizedKeysPath))
        }
        func mode(_ relative: String) throws -> Int? {
            try FileManager.default.attributesOfItem(atPath: "\(path)/\(relative)")[.posixPermissions] as? Int
        }
    }

    func run(_ script: String, home: Home) async throws -> (ProcessResult, RemoteScriptOutput) {
        let result = try await SubprocessRunner().run(
            ProcessInvocation(
                executable: .path(Self.shell), arguments: ["-s"], environmentAdditions: ["HOME": home.path],
                standardInput: Array(script.utf8), timeout: .seconds(10)))
        return (result, RemoteScriptOutput(standardOutput: result.standardOutputText))
    }

    @Test func add_createsDirectoryAndFileWithPrivateModes() async throws {
        let home = try Home()
        let (result, output) = try await run(
            AuthorizedKeysScript.add(keyLine: Self.lineA, blobBase64: Self.blobA), home: home)
        #expect(result.termination == .exited(0), "\(result.standardErrorText)")
        #expect(output.status == "added")
        #expect(output.values["USER"] != nil)
        #expect(home.authorizedKeys == Self.lineA + "\n")
        #expect(try home.mode(".ssh") == 0o700)
        #expect(try home.mode(".ssh/authorized_keys") == 0o600)
    }

    @Test func edits_sweepTemporaryFilesOfShellsThatAreGone_andKeepLiveOnes() async throws {
        let home = try Home()
        try home.write("# keep\n")
        let stale = "\(home.path)/.ssh/.authorized_keys.pipewright.999999999"
        let live = "\(home.path)/.ssh/.authorized_keys.pipewright.\(getpid())"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data("half".utf8)))
        #expect(FileManager.default.createFile(atPath: live, contents: Data("busy".utf8)))
        let (_, added) = try await run(
            AuthorizedKeysScript.add(keyLine: Self.lineA, blobBase64: Self.blobA), home: home)
        #expect(added.status == "added")
        #expect(added.values["SWEPT"] == "1")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.createFile(atPath: stale, contents: Data("half".utf8)))
        let (_, removed) = try await run(AuthorizedKeysScript.remove(blobBase64: Self.blobA), home: home)
        #expect(removed.status == "removed")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(home.authorizedKeys == "# keep\n")
    }

    @Test func permissions_reportsStrictModesViolations_andFixOnlyRemovesWriteBits() async throws {
        let home = try Home()
        try home.write(Self.lineA + "\n")
        #expect(chmod(home.path, 0o775) == 0)
        #expect(chmod("\(home.path)/.ssh", 0o757) == 0)
        #expect(chmod(home.authorizedKeysPath, 0o640) == 0)
        let (result, output) = try await run(AuthorizedKeysScript.permissions(fix: false), home: home)
        #expect(result.termination == .exited(0), "\(result.standardErrorText)")
        let report = try #require(RemotePermissionsReport(output))
        #expect(report.entries.map(\.role) == ["home", "ssh_dir", "authorized_keys"])
        #expect(report.entries.map(\.octalMode) == ["0775", "0757", "0640"])
        #expect(report.violations.map(\.path) == [home.path, home.path + "/.ssh"])
        #expect(try home.mode("") == 0o775)  // inspection alone changes nothing

        let (_, fixedOutput) = try await run(AuthorizedKeysScript.permissions(fix: true), home: home)
        let fixed = try #require(RemotePermissionsReport(fixedOutput))
        #expect(fixed.violations.isEmpty)
        #expect(fixed.fixed.map(\.role) == ["home", "ssh_dir"])
        #expect(try home.mode("") == 0o755)
        #expect(try home.mode(".ssh") == 0o755)  // only write bits go; nothing is added
        #expect(try home.mode(".ssh/authorized_keys") == 0o640)
    }

    @Test func permissionsReport_parsesLsModes() {
        #expect(RemotePermissionsReport.mode("drwxrwxr-x") == 0o775)
        #expect(RemotePermissionsReport.mode("-rw-------") == 0o600)
        #expect(RemotePermissionsReport.mode("drwxr-sr-t") == 0o755)
        #expect(RemotePermissionsReport.mode("drwxr-Sr-T") == 0o744)
        #expect(RemotePermissionsReport.mode("bad") == nil)
    }

    @Test func add_isIdempotentAndIgnoresCommentedCopies() async throws {
        let home = try Home()
        try home.write("#\(Self.lineA)\n# \(Self.lineA)\n")
        let script = AuthorizedKeysScript.add(keyLine: Self.lineA, blobBase64: Self.blobA)
        #expect(try await run(script, home: home).1.status == "added")
        #expect(try await run(script, home: home).1.status == "already_present")
        #expect(home.authorizedKeys == "#\(Self.lineA)\n# \(Self.lineA)\n\(Self.lineA)\n")
    }

    @Test func add_treatsSameBlobWithOptionsOrOtherCommentAsPresent() async throws {
        let home = try Home()
        let existing = "no-pty,from=\"10.0.0.0/8\" ssh-ed25519 \(Self.blobA) other comment\r\n"
        try home.write(existing)
        let (_, output) = try await run(
            AuthorizedKeysScript.add(keyLine: Self.lineA, blobBase64: Self.blobA), home: home)
        #expect(output.status == "already_present")
        #expect(home.authorizedKeys == existing)
    }

    @Test func add_appendsNewlineWhenFileLacksOne() async throws {
        let home = try Home()
        try home.write("# header\n\(Self.lineB)")
        _ = try await run(AuthorizedKeysScript.add(keyLine: Self.lineA, blobBase64: Self.blobA), home: home)
        #expect(home.authorizedKeys == "# header\n\(Self.lineB)\n\(Self.lineA)\n")
    }

    @Test func add_writesHostileCommentVerbatim() async throws {
        let home = try Home()
        let line = "ssh-ed25519 \(Self.blobA) '; touch \(home.path)/pwned; echo ' $(id) `id` %s %n \\n \\ \"q\" é ✓"
        let (result, output) = try await run(
            AuthorizedKeysScript.add(keyLine: line, blobBase64: Self.blobA), home: home)
        #expect(output.status == "added", "\(result.standardErrorText)")
        #expect(home.authorizedKeys == line + "\n")
        #expect(!FileManager.default.fileExists(atPath: "\(home.path)/pwned"))
    }

    @Test func remove_dropsOnlyOurKeyLinesAndKeepsTheRestByteIdentical() async throws {
        let home = try Home()
        let before = """
            # comment mentioning \(Self.blobA)
            \(Self.lineB)
            \(Self.lineA)

            from="10.0.0.0/8",no-pty ssh-ed25519 \(Self.blobA) with options\r
            command="echo hi" \(Self.lineB)
            #\(Self.lineA)
            """
        try home.write(before)
        let script = AuthorizedKeysScript.remove(blobBase64: Self.blobA)
        let (result, output) = try await run(script, home: home)
        #expect(output.status == "removed", "\(result.standardErrorText)")
        #expect(
            home.authorizedKeys == """
                # comment mentioning \(Self.blobA)
                \(Self.lineB)

                command="echo hi" \(Self.lineB)
                #\(Self.lineA)

                """)
        #expect(try home.mode(".ssh/authorized_keys") == 0o600)
        #expect(try await run(script, home: home).1.status == "absent")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(home.path)/.ssh")
        #expect(leftovers == ["authorized_keys"])
    }

    @Test func remove_withoutFile_isAbsent() async throws {
        let home = try Home()
        let (_, output) = try await run(AuthorizedKeysScript.remove(blobBase64: Self.blobA), home: home)
        #expect(output.status == "absent")
        #expect(home.authorizedKeys == nil)
    }

    @Test func check_reportsPresence() async throws {
        let home = try Home()
        #expect(try await run(AuthorizedKeysScript.check(blobBase64: Self.blobA), home: home).1.keyPresent == false)
        try home.write("\(Self.lineB)\n\(Self.lineA)\n")
        #expect(try await run(AuthorizedKeysScript.check(blobBase64: Self.blobA), home: home).1.keyPresent == true)
        let (_, output) = try await run(AuthorizedKeysScript.check(blobBase64: nil), home: home)
        #expect(output.keyPresent == nil)
        #expect(output.values["USER"] != nil)
    }

    @Test func scriptInterpolatesOnlySafeAlphabets() {
        let line = "ssh-ed25519 \(Self.blobA) it's $(id)"
        let script = AuthorizedKeysScript.add(keyLine: line, blobBase64: Self.blobA)
        #expect(!script.contains("it's"))
        #expect(!script.contains("$(id)"))
        #expect(AuthorizedKeysScript.octalEscaped("A'") == "\\101\\047")
    }

    @Test(arguments: [
        "", "ssh-ed25519", "ssh-ed25519 not-base64!", "ssh-rsa \(blobA)", "ssh-ed25519 \(blobA) a\nb",
        "from=\"x\" ssh-ed25519 \(blobA)", "ssh-ed25519 \(blobA) nul\u{0}",
    ])
    func deployablePublicKey_rejects(line: String) {
        #expect(throws: SSHKeyError.self) { try DeployablePublicKey(line) }
    }

    @Test func deployablePublicKey_trimsAndKeepsComment() throws {
        let key = try DeployablePublicKey("  \(Self.lineA)  with\ttab \r\n")
        #expect(key.line == "\(Self.lineA)  with\ttab")
        #expect(key.blobBase64 == Self.blobA)
    }
}
