import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import PipewrightCore
import SSHKeys
import Synchronization
import Testing
import Vapor
import VaporTesting

@testable import App

/// A configured application on a fresh database (in-memory SQLite, or a database of its own on the test
/// PostgreSQL cluster when `PIPEWRIGHT_TEST_DATABASE=postgres`; see `withTestApp`), with three accounts — `admin` (admin),
/// `member` (a maintainer: creates, deploys, triggers) and `viewer` (reads only) — and a bearer token for
/// each. Always shut down.
struct TestContext {
    let app: Application
    let adminToken: String
    let memberToken: String
    let memberID: Int
    let viewerToken: String
    let viewerID: Int
    let dataDirectory: String

    var adminAuth: HTTPHeaders { ["Authorization": "Bearer \(adminToken)"] }
    /// The maintainer's token.
    var memberAuth: HTTPHeaders { ["Authorization": "Bearer \(memberToken)"] }
    var viewerAuth: HTTPHeaders { ["Authorization": "Bearer \(viewerToken)"] }
}

/// The database `withTestApp` gives a test that does not choose one: `PIPEWRIGHT_TEST_DATABASE=postgres`
/// selects PostgreSQL (scripts/test runs the App suites once more that way), anything else in-memory SQLite.
enum TestDatabase {
    static var isPostgres: Bool { ProcessInfo.processInfo.environment["PIPEWRIGHT_TEST_DATABASE"] == "postgres" }

    /// A new database for one test application: a copy (`CREATE DATABASE … TEMPLATE`) of a database this test
    /// process migrated once (`Migrations.all(sqlite: false)`, no rows), so each application skips the
    /// migrations; drop it with `TestPostgres.dropDatabase`.
    static func createMigratedPostgresDatabase() async throws -> (name: String, url: String) {
        let template = try await migratedTemplate()
        let admin = try TestPostgres.adminURL()
        let name = "pw_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        // The template's last connection may still be closing right after it was migrated.
        var attempt = 0
        while true {
            do {
                try TestPostgres.psql(admin, "CREATE DATABASE \(name) TEMPLATE \(template)")
                break
            } catch  where attempt < 20 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let base = admin.hasSuffix("/postgres") ? String(admin.dropLast("/postgres".count)) : admin
        return (String(name), "\(base)/\(name)")
    }

    /// The migrated template's name, made on first use and dropped when the process exits.
    private static func migratedTemplate() async throws -> String {
        let task = template.withLock { existing in
            if let existing { return existing }
            let created = Task { () async throws -> String in
                let database = try TestPostgres.createDatabase()
                postgresTemplateToDrop.withLock { $0 = database.name }
                atexit { dropPostgresTemplate() }
                let app = try await Application.make(.testing)
                do {
                    app.databases.use(try .postgres(url: database.url), as: .psql)
                    app.migrations.add(Migrations.all(sqlite: false))
                    try await app.autoMigrate()
                    try await app.asyncShutdown()
                } catch {
                    try? await app.asyncShutdown()
                    throw error
                }
                return database.name
            }
            existing = created
            return created
        }
        return try await task.value
    }

    private static let template = Mutex<Task<String, any Error>?>(nil)
}

/// The migrated template of this process (`TestDatabase.createMigratedPostgresDatabase`), dropped at exit.
private let postgresTemplateToDrop = Mutex<String?>(nil)

private func dropPostgresTemplate() {
    if let name = postgresTemplateToDrop.withLock({ $0 }) { try? TestPostgres.dropDatabase(name) }
}

/// Runs `body` with a fresh app. `customize` may replace services (SSH runner, clock).
///
/// The database is in-memory SQLite, or with `PIPEWRIGHT_TEST_DATABASE=postgres` a new database on the test
/// cluster (`TestDatabase.createMigratedPostgresDatabase()`), dropped after shutdown, also when `body` throws. A test that sets
/// `configuration.database` itself (a SQLite file it reopens, a PostgreSQL database it owns) keeps that database.
@discardableResult
func withTestApp<T>(
    masterKey: MasterKey = MasterKey.generate(),
    configure customizeConfiguration: (inout PipewrightConfiguration) -> Void = { _ in },
    services customizeServices: (inout AppServices) -> Void = { _ in },
    _ body: (TestContext) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-test-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var configuration = PipewrightConfiguration.testing(dataDirectory: directory, masterKey: masterKey)
    customizeConfiguration(&configuration)
    var postgresDatabase: String?
    if configuration.database == .sqliteInMemory, TestDatabase.isPostgres {
        let created = try await TestDatabase.createMigratedPostgresDatabase()
        postgresDatabase = created.name
        configuration.database = .postgres(url: created.url)
    }
    defer { if let postgresDatabase { try? TestPostgres.dropDatabase(postgresDatabase) } }
    let app = try await Application.make(.testing)
    do {
        try await configure(app, configuration: configuration) { services in
            services.passwordHashCost = 4
            customizeServices(&services)
        }
        let admin = try await existingOrNewUser("admin", role: .admin, app: app)
        let member = try await existingOrNewUser("member", role: .maintainer, app: app)
        let viewer = try await existingOrNewUser("viewer", role: .viewer, app: app)
        let adminToken = try await TokenIssuer.issue(
            for: try admin.requireID(), name: "test", expiresInDays: nil, now: Date(), on: app.db)
        let memberToken = try await TokenIssuer.issue(
            for: try member.requireID(), name: "test", expiresInDays: nil, now: Date(), on: app.db)
        let viewerToken = try await TokenIssuer.issue(
            for: try viewer.requireID(), name: "test", expiresInDays: nil, now: Date(), on: app.db)
        let context = TestContext(
            app: app, adminToken: adminToken.token, memberToken: memberToken.token, memberID: try member.requireID(),
            viewerToken: viewerToken.token, viewerID: try viewer.requireID(), dataDirectory: directory)
        let result = try await body(context)
        try await app.asyncShutdown()
        return result
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
}

/// Points `app` (not configured by `configure`, e.g. a migration test) at a fresh database of the current pass:
/// in-memory SQLite, or with `PIPEWRIGHT_TEST_DATABASE=postgres` a new database on the test cluster.
///
/// - Returns: whether it is SQLite (for `Migrations.all(sqlite:)`), and the PostgreSQL database to drop with
///   `TestPostgres.dropDatabase` after the app has shut down (`nil` for SQLite).
func useFreshTestDatabase(_ app: Application) throws -> (isSQLite: Bool, postgresDatabase: String?) {
    guard TestDatabase.isPostgres else {
        app.databases.use(.sqlite(.memory), as: .sqlite)
        return (true, nil)
    }
    let created = try TestPostgres.createDatabase()
    app.databases.use(try .postgres(url: created.url), as: .psql)
    return (false, created.name)
}

/// The user (kept when the test reopens a database file), password `<name>-password-1`.
func existingOrNewUser(_ name: String, role: User.Role, app: Application) async throws -> User {
    if let user = try await User.query(on: app.db).filter(\.$username == name).first() { return user }
    return try await createUser(username: name, password: "\(name)-password-1", role: role, app: app)
}

/// Decoded error body (docs/API.md "Errors").
struct ErrorBody: Decodable {
    struct Inner: Decodable {
        var code: String
        var message: String
        var details: [String: String]
    }

    var error: Inner
}

extension TestingHTTPResponse {
    /// The error code of an error response (`""` when the body is not an error envelope).
    var errorCode: String {
        (try? JSONDecoder().decode(ErrorBody.self, from: Data(buffer: body)))?.error.code ?? ""
    }

    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
    }
}

extension HTTPHeaders {
    /// `self` plus a JSON content type.
    static func json(_ auth: HTTPHeaders) -> HTTPHeaders {
        var headers = auth
        headers.contentType = .json
        return headers
    }
}

/// Encodes a JSON object body.
func jsonBody(_ object: [String: Any]) throws -> ByteBuffer {
    ByteBuffer(data: try JSONSerialization.data(withJSONObject: object))
}
