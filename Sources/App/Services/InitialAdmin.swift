import Fluent
import Foundation
import PipewrightCore
import Vapor

/// First start: with no users, create `admin` with a random password and write it to
/// `<data dir>/initial-admin-password` (0600); `serve` prints it once in its banner (README "The two
/// commands").
enum InitialAdmin {
    /// File name of the one-time password inside the data directory.
    static let fileName = "initial-admin-password"

    /// Creates `admin` when there are no users.
    ///
    /// - Returns: the one-time password and the file it was written to, or `nil` when users exist.
    static func createIfNeeded(app: Application) async throws -> (password: String, path: String)? {
        guard try await User.query(on: app.db).count() == 0 else { return nil }
        let password = PasswordPolicy.generate()
        try PasswordPolicy.check(password, username: "admin")
        let hash = try await app.password.async.hash(password)
        do {
            try await User(username: "admin", passwordHash: hash, role: .admin).create(on: app.db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Another instance starting on the same PostgreSQL database created it first: its banner and its
            // data directory have the password.
            return nil
        }
        let path = app.services.configuration.dataDirectory + "/" + fileName
        FileManager.default.createFile(
            atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return (password, path)
    }
}
