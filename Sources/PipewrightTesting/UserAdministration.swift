import Foundation
import PipewrightCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Serialises `useradd`/`chpasswd`/`userdel` within the test process: they lock `/etc/passwd`
/// and `/etc/shadow` and fail (exit 10, "cannot lock") when run concurrently. Failures caused by
/// other processes holding the lock are retried.
actor UserAdministration {
    /// The process-wide instance.
    static let shared = UserAdministration()

    /// Creates `pwt_<10 hex>` with a home directory, `/bin/sh` and a random 24-character password.
    func createUser() async throws -> SSHDFixtureUser {
        let name = "pwt_" + String((0..<10).map { _ in "0123456789abcdef".randomElement() ?? "0" })
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        let password = String((0..<24).map { _ in alphabet.randomElement() ?? "x" })
        try await retrying { try await SSHDFixture.runTool("/usr/sbin/useradd", ["-m", "-s", "/bin/sh", name]) }
        do {
            try await retrying {
                try await SSHDFixture.runTool("/usr/sbin/chpasswd", [], input: "\(name):\(password)\n")
            }
            guard let entry = getpwnam(name) else {
                throw SSHDFixtureError.commandFailed(command: "getpwnam \(name)", output: "user not found")
            }
            return SSHDFixtureUser(
                name: name, password: Secret(password), home: String(cString: entry.pointee.pw_dir),
                uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        } catch {
            await deleteUser(name)
            throw error
        }
    }

    /// Deletes the account and its home (`userdel -r -f`); failures are ignored (best effort).
    func deleteUser(_ name: String) async {
        _ = try? await retrying { try await SSHDFixture.runTool("/usr/sbin/userdel", ["-r", "-f", name]) }
    }

    private func retrying(_ body: () async throws -> ProcessResult) async throws {
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                _ = try await body()
                return
            } catch let error as SSHDFixtureError {
                lastError = error
                guard case .commandFailed(_, let output) = error, output.contains("lock") else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        if let lastError { throw lastError }
    }
}
