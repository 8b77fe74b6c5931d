import Fluent
import Foundation
import PipewrightCore
import Vapor

/// The whole route table in one file, so the API reads at a glance, grouped by authentication level.
func routes(_ app: Application) throws {
    let services = app.services

    // MARK: - Public
    do {
        app.get("health") { _ in HealthResponse(status: "ok") }
        app.get("ready") { req async throws -> Response in
            // `req.services`: the key in force now (online rotation replaces it).
            let check = await ReadinessCheck.run(on: req.db, masterKey: req.services.masterKey)
            let response = Response(status: check.ready ? .ok : .serviceUnavailable)
            try response.content.encode(check)
            return response
        }
        try app.register(collection: MetricsController(token: services.configuration.metricsToken))
        PipewrightMetrics.declareFamilies()
        try app.register(collection: OpenAPIController())
    }

    // MARK: - Socket.IO (authenticates at CONNECT: token in the auth payload, header or cookie)
    let realtime = RealtimeController(services: services)
    realtime.bootSocketIO(routes: app)

    // MARK: - Bitbucket webhooks (HMAC-signed, no user)
    do {
        try app.grouped("api").cancellable().register(collection: WebhookController())
    }

    // MARK: - Dashboard (server-rendered pages on the same session; docs/dashboard.md)
    do {
        app.dashboardAssets = try DashboardAssets.load()
        let assets = app.dashboardAssets
        let dashboard = DashboardRoutes(root: app)
        dashboard.get("assets", ":name") { req in try assets.response(for: req) }
        // Browsers ask every page's origin for /favicon.ico; a 404 there is an error in each page's console.
        dashboard.get("favicon.ico") { _ in
            Response(status: .noContent, headers: ["Cache-Control": "public, max-age=86400"])
        }
        let anonymous = dashboard.grouped(DashboardSessionMiddleware(now: services.now, requiresUser: false))
        try anonymous.register(collection: SessionPagesController())
        let pages = dashboard.grouped(DashboardSessionMiddleware(now: services.now, requiresUser: true))
        try pages.register(collection: KeyPagesController())
        try pages.register(collection: ExecutionPagesController())
        try pages.register(collection: OverviewPageController())
        try pages.register(collection: PipelinePagesController())
        try pages.register(collection: TeamPagesController())
        try pages.register(collection: UserPagesController())
    }

    let api = app.grouped("api").grouped(AuthenticationMiddleware(now: services.now))

    // MARK: - Sign-in (no user yet)
    do {
        try api.cancellable().register(collection: AuthController())
    }

    // MARK: - Signed in (session cookie + CSRF, or bearer token)
    do {
        let signedIn = api.grouped(RequireUserMiddleware()).cancellable()
        try signedIn.register(collection: TokenController())
        try signedIn.register(collection: UserController())
        try signedIn.register(collection: SSHKeyController())
        try signedIn.register(collection: ServerController())
        try signedIn.register(collection: ConnectionController())
        try signedIn.register(collection: PipelineController())
        try signedIn.register(collection: ExecutionController())
        try signedIn.register(collection: LogController())
        try signedIn.register(collection: AuditController())
        try signedIn.register(collection: MasterKeyController())
        realtime.bootSignedIn(routes: signedIn)
    }
}
