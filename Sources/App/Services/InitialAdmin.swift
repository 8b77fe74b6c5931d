import Fluent
import Foundation
import PipewrightCore
import Vapor

/// First start: with no users, create `admin` with a random password, print it once and write it to
/// `<data dir>/initial-admin-password` (0600) (README "The two commands").
enum InitialAdmin {
    static func createIfNeeded(app: Application) async throws {
        guard try await User.query(on: app.db).count() == 0 else { return }
        let password = PasswordPolicy.generate()
        try PasswordPolicy.check(password, username: "admin")
        let hash = try await app.password.async.hash(password)
        try await User(username: "admin", passwordHash: hash, role: .admin).create(on: app.db)
        let path = app.services.configuration.dataDirectory + "/initial-admin-password"
        FileManager.default.createFile(
            atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        print("Created user 'admin' with password: \(password)")
        print("(also written to \(path), mode 0600; delete it after the first login)")
    }
}
