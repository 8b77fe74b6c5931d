import Fluent
import Foundation
import PipewrightCore
import SSHKeys
import Testing
import Vapor
import VaporTesting

@testable import App

/// A configured application on a fresh in-memory SQLite database, with three accounts — `admin` (admin),
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

/// Runs `body` with a fresh app. `customize` may replace services (SSH runner, clock).
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
