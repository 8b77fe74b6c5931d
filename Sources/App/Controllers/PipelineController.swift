import Fluent
import Foundation
import PipelineConfig
import PipewrightCore
import SSHKeys
import Vapor

/// `/api/pipelines`: deployment definitions, stack detection, generated config and pull requests (SPEC §7).
struct PipelineController: RouteCollection {
    let services: AppServices

    func boot(routes: any RoutesBuilder) throws {
        let pipelines = routes.grouped("pipelines")
        pipelines.post(use: create)
        pipelines.get(use: index)
        pipelines.get(":pipelineID", use: show)
        pipelines.put(":pipelineID", use: update)
        pipelines.delete(":pipelineID", use: delete)
        pipelines.post(":pipelineID", "detect", use: detect)
        pipelines.get(":pipelineID", "config", use: config)
        pipelines.post(":pipelineID", "create-pr", use: createPullRequest)
    }

    @Sendable func create(req: Request) async throws -> Response {
        let user = try req.requireUser()
        let body = try req.content.decode(CreatePipelineRequest.self)
        let connection = try await Self.connection(body.connectionId, for: user, on: req.db)
        let pipeline = Pipeline()
        pipeline.$owner.id = connection.$owner.id
        pipeline.$connection.id = try connection.requireID()
        pipeline.name = try Validation.name(body.name, field: "name")
        pipeline.repoSlug = try Validation.slug(body.repoSlug, field: "repo_slug")
        pipeline.workspace = try Validation.slug(body.workspace ?? connection.workspace, field: "workspace")
        pipeline.branch = try Validation.branch(body.branch ?? "main", field: "branch")
        try await Self.apply(body.deploy, to: pipeline, ownerID: connection.$owner.id, on: req.db)
        pipeline.stackOverrideJSON = try Self.encodeOverride(body.stackOverride)
        let secret = TokenHasher.randomToken()
        let masterKey = services.masterKey
        try await req.db.transaction { tx in
            try await pipeline.create(on: tx)
            pipeline.sealedWebhookSecret = try SealedSecret.seal(
                Array(secret.utf8), with: masterKey,
                associatedData: Pipeline.webhookAssociatedData(id: try pipeline.requireID())
            ).base64
            try await pipeline.save(on: tx)
        }
        var payload = try response(for: pipeline)
        payload.webhookSecret = secret
        let response = Response(status: .created)
        try response.content.encode(payload)
        return response
    }

    @Sendable func index(req: Request) async throws -> PageResponse<PipelineResponse> {
        let user = try req.requireUser()
        let page = try PageQuery.parse(req)
        let query = Pipeline.query(on: req.db)
        if !user.isAdmin { query.filter(\.$owner.$id == user.id) }
        let total = try await query.count()
        let items = try await query.sort(\.$id).range(page.offset..<(page.offset + page.perPage)).all()
        return PageResponse(items: try items.map(response(for:)), request: page, total: total)
    }

    @Sendable func show(req: Request) async throws -> PipelineResponse {
        try response(for: try await Self.find(req))
    }

    @Sendable func update(req: Request) async throws -> PipelineResponse {
        let pipeline = try await Self.find(req)
        let body = try req.content.decode(UpdatePipelineRequest.self)
        if let name = body.name { pipeline.name = try Validation.name(name, field: "name") }
        if let connectionID = body.connectionId {
            let connection = try await Self.connection(connectionID, for: try req.requireUser(), on: req.db)
            guard connection.$owner.id == pipeline.$owner.id else {
                throw AppError.unprocessable("connection_id", reason: "must belong to the pipeline's owner")
            }
            pipeline.$connection.id = connectionID
            pipeline.stackJSON = nil
        }
        if let slug = body.repoSlug { pipeline.repoSlug = try Validation.slug(slug, field: "repo_slug") }
        if let workspace = body.workspace { pipeline.workspace = try Validation.slug(workspace, field: "workspace") }
        if let branch = body.branch { pipeline.branch = try Validation.branch(branch, field: "branch") }
        if let deploy = body.deploy { try await Self.apply(deploy, to: pipeline, ownerID: pipeline.$owner.id, on: req.db) }
        if let override = body.stackOverride { pipeline.stackOverrideJSON = try Self.encodeOverride(override) }
        if body.repoSlug != nil || body.workspace != nil || body.branch != nil || body.stackOverride != nil {
            pipeline.stackJSON = nil  // detect again with the new repository or override
        }
        try await pipeline.save(on: req.db)
        return try response(for: pipeline)
    }

    @Sendable func delete(req: Request) async throws -> HTTPStatus {
        let pipeline = try await Self.find(req)
        try await pipeline.delete(on: req.db)
        return .noContent
    }

    @Sendable func detect(req: Request) async throws -> DetectResponse {
        let pipeline = try await Self.find(req)
        return try await PipelineWorkshop(services: services, db: req.db, logger: req.logger).detect(pipeline)
    }

    @Sendable func config(req: Request) async throws -> ConfigResponse {
        let pipeline = try await Self.find(req)
        let includeNginx = try Validation.flag(req, "include_nginx_config")
        return try await PipelineWorkshop(services: services, db: req.db, logger: req.logger)
            .config(pipeline, includeNginx: includeNginx || pipeline.domain != nil)
    }

    @Sendable func createPullRequest(req: Request) async throws -> Response {
        let resource = AuditResource(type: "pipeline", id: req.parameters.get("pipelineID").flatMap { Int($0) })
        return try await AuditLog.audited(req, .pullRequestCreate, resource: resource) { note in
            try await createPullRequestAudited(req: req, note: note)
        }
    }

    private func createPullRequestAudited(req: Request, note: AuditNote) async throws -> Response {
        let pipeline = try await Self.find(req)
        let body = (req.body.data?.readableBytes ?? 0) > 0
            ? try req.content.decode(CreatePullRequestRequest.self) : CreatePullRequestRequest()
        let result = try await PipelineWorkshop(services: services, db: req.db, logger: req.logger)
            .createPullRequest(pipeline, request: body)
        note.details["pull_request_id"] = String(result.pullRequest.id)
        note.details["source_branch"] = result.pullRequest.sourceBranch
        note.details["created"] = String(result.created)
        let response = Response(status: result.created ? .created : .ok)
        try response.content.encode(result)
        return response
    }

    // MARK: - Helpers

    func response(for pipeline: Pipeline) throws -> PipelineResponse {
        let id = try pipeline.requireID()
        return PipelineResponse(
            id: id, name: pipeline.name, connectionId: pipeline.$connection.id, workspace: pipeline.workspace,
            repoSlug: pipeline.repoSlug, branch: pipeline.branch,
            stack: pipeline.stackJSON.flatMap { try? JSONDecoder().decode(DetectedStack.self, from: Data($0.utf8)) }
                .map(StackBody.init),
            stackOverride: pipeline.stackOverrideJSON.flatMap {
                try? JSONDecoder().decode(StackOverrideBody.self, from: Data($0.utf8))
            },
            deploy: DeployTargetBody(
                serverIds: pipeline.serverIDs, sshKeyId: pipeline.$sshKey.id, deployPath: pipeline.deployPath,
                appPort: pipeline.appPort, domain: pipeline.domain, buildCommand: pipeline.buildCommand,
                startCommand: pipeline.startCommand),
            webhookUrl: "\(services.configuration.publicURL)/api/webhooks/bitbucket/\(id)", webhookSecret: nil,
            createdAt: pipeline.createdAt, updatedAt: pipeline.updatedAt)
    }

    static func find(_ req: Request) async throws -> Pipeline {
        let user = try req.requireUser()
        let id = try Validation.pathID(req, "pipelineID")
        guard let pipeline = try await Pipeline.find(id, on: req.db), user.owns(pipeline.$owner.id) else {
            throw AppError.notFound("Pipeline")
        }
        return pipeline
    }

    static func connection(_ id: Int, for user: AuthenticatedUser, on db: any Database) async throws -> Connection {
        guard let connection = try await Connection.find(id, on: db), user.owns(connection.$owner.id) else {
            throw AppError.unprocessable("connection_id", reason: "no connection \(id) of yours")
        }
        return connection
    }

    /// Validates the deploy target against the owner's servers and keys and copies it onto `pipeline`.
    static func apply(_ deploy: DeployTargetBody, to pipeline: Pipeline, ownerID: Int, on db: any Database) async throws {
        guard !deploy.serverIds.isEmpty, deploy.serverIds.count <= 50 else {
            throw AppError.invalidField("deploy.server_ids", reason: "must list 1-50 servers")
        }
        let unique = Array(Set(deploy.serverIds)).sorted()
        let servers = try await Server.query(on: db).filter(\.$id ~~ unique).filter(\.$owner.$id == ownerID).all()
        guard servers.count == unique.count else {
            throw AppError.unprocessable("deploy.server_ids", reason: "every server must exist and belong to the pipeline's owner")
        }
        guard let key = try await StoredKey.find(deploy.sshKeyId, on: db), key.$owner.id == ownerID else {
            throw AppError.unprocessable("deploy.ssh_key_id", reason: "no such SSH key of the pipeline's owner")
        }
        guard key.status == .active else {
            throw AppError.unprocessable("deploy.ssh_key_id", reason: "the SSH key is retired")
        }
        let path = deploy.deployPath.trimmingCharacters(in: .whitespaces)
        let pathCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/~")
        guard path.hasPrefix("/") || path.hasPrefix("~/"), path.count <= 255,
            path.unicodeScalars.allSatisfy(pathCharacters.contains), !path.split(separator: "/").contains("..")
        else {
            throw AppError.invalidField("deploy.deploy_path", reason: "must be an absolute path of letters, digits, . _ - /")
        }
        if let port = deploy.appPort, !(1...65535).contains(port) {
            throw AppError.invalidField("deploy.app_port", reason: "must be 1-65535")
        }
        if let domain = deploy.domain {
            let hostname = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
            guard !domain.isEmpty, domain.count <= 253, domain.unicodeScalars.allSatisfy(hostname.contains),
                !domain.hasPrefix("-"), !domain.hasPrefix(".")
            else { throw AppError.invalidField("deploy.domain", reason: "must be a host name") }
            guard deploy.appPort != nil else {
                throw AppError.invalidField("deploy.app_port", reason: "is required when a domain is set (nginx proxies to it)")
            }
        }
        for (field, command) in [("deploy.build_command", deploy.buildCommand), ("deploy.start_command", deploy.startCommand)] {
            guard let command else { continue }
            guard command.count <= 500 else { throw AppError.invalidField(field, reason: "must be at most 500 characters") }
            try Validation.noControlCharacters(command, field: field)
        }
        pipeline.serverIDs = deploy.serverIds
        pipeline.$sshKey.id = deploy.sshKeyId
        pipeline.deployPath = path
        pipeline.appPort = deploy.appPort
        pipeline.domain = deploy.domain?.lowercased()
        pipeline.buildCommand = deploy.buildCommand
        pipeline.startCommand = deploy.startCommand
    }

    static func encodeOverride(_ override: StackOverrideBody?) throws -> String? {
        guard let override else { return nil }
        for (field, value) in [("language", override.language), ("framework", override.framework),
                               ("runtime_version", override.runtimeVersion), ("package_manager", override.packageManager),
                               ("build_command", override.buildCommand), ("test_command", override.testCommand),
                               ("start_command", override.startCommand)] {
            guard let value else { continue }
            guard value.count <= 500 else { throw AppError.invalidField("stack_override.\(field)", reason: "too long") }
            try Validation.noControlCharacters(value, field: "stack_override.\(field)")
        }
        if let language = override.language, StackLanguage(rawValue: language) == nil {
            throw AppError.invalidField(
                "stack_override.language",
                reason: "must be one of \(StackLanguage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return String(decoding: try JSONEncoder().encode(override), as: UTF8.self)
    }
}
