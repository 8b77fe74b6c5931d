import Fluent
import Foundation
import LogStore
import PipelineConfig
import PipewrightCore

/// Pipelines: a repository, its branch and where it deploys (docs/API.md "Pipelines"). Every reference
/// (connection, servers, key) must exist (they all belong to the team); changes need
/// `Permission.changePipelines`.
struct PipelineCatalog: Sendable {
    let db: any Database
    let vault: SecretVault
    /// Where executions' logs are stored (deleted with a confirmed pipeline deletion).
    let logStore: LogStore
    /// `PIPEWRIGHT_PUBLIC_URL`, the base of webhook URLs.
    let publicURL: String

    /// A new pipeline, with its webhook secret (shown once).
    struct Creation: Sendable {
        var pipeline: Pipeline
        /// - Important: returned only in the creation response; stored sealed.
        var webhookSecret: Secret<String>
    }

    /// Changes to a pipeline: any field given replaces the stored one. The repository (`repo_slug`,
    /// `workspace`) cannot change: a value other than the stored one is refused.
    struct Changes: Sendable {
        var name: String?
        var connectionID: Int?
        var repoSlug: String?
        var workspace: String?
        var branch: String?
        var deploy: DeployTargetBody?
        var stackOverride: StackOverrideBody?
    }

    /// The webhook URL Bitbucket should call for `pipeline`.
    func webhookURL(of pipeline: Pipeline) throws -> String {
        "\(publicURL)/api/webhooks/bitbucket/\(try pipeline.requireID())"
    }

    func create(
        name: String, connectionID: Int, repoSlug: String, workspace: String?, branch: String?,
        deploy: DeployTargetBody, stackOverride: StackOverrideBody?, by user: AuthenticatedUser
    ) async throws -> Creation {
        try user.require(.changePipelines)
        let connection = try await connection(connectionID, for: user)
        let pipeline = Pipeline()
        pipeline.$owner.id = user.id
        pipeline.$connection.id = try connection.requireID()
        pipeline.name = try FieldRules.name(name, field: "name")
        pipeline.repoSlug = try FieldRules.slug(repoSlug, field: "repo_slug")
        pipeline.workspace = try FieldRules.slug(workspace ?? connection.workspace, field: "workspace")
        pipeline.branch = try FieldRules.branch(branch ?? "main", field: "branch")
        try await apply(deploy, to: pipeline)
        pipeline.stackOverrideJSON = try Self.encodeOverride(stackOverride)
        let secret = TokenHasher.randomToken()
        let vault = self.vault
        try await db.transaction { tx in
            try await pipeline.create(on: tx)
            pipeline.sealedWebhookSecret = try vault.seal(secret, for: .webhookSecret, row: try pipeline.requireID())
            try await pipeline.save(on: tx)
        }
        return Creation(pipeline: pipeline, webhookSecret: Secret(secret))
    }

    func list(page: PipewrightCore.PageRequest, for user: AuthenticatedUser) async throws -> (
        items: [Pipeline], total: Int
    ) {
        try await Pipeline.page(visibleTo: user, page, on: db)
    }

    func show(pipelineID: Int, for user: AuthenticatedUser) async throws -> Pipeline {
        try await Pipeline.find(pipelineID, visibleTo: user, on: db)
    }

    /// The pipeline, for an action that needs `permission` (detect, pull request).
    ///
    /// - Throws: `AppError.notFound`, then `AppError.forbidden` when the role lacks `permission`.
    func pipeline(_ pipelineID: Int, for permission: Permission, by user: AuthenticatedUser) async throws -> Pipeline {
        try await Pipeline.find(pipelineID, for: permission, by: user, on: db)
    }

    /// Applies `changes` with the rules of `create`, field by field; a new branch, connection or override
    /// forgets the detected stack. Nothing is saved unless every field passes.
    ///
    /// - Throws: `AppError.notFound`, `AppError.forbidden` (role), `AppError.invalidField` (a field, or a
    ///   `repo_slug`/`workspace` other than the stored one), `AppError.unprocessable` (a reference).
    func update(pipelineID: Int, _ changes: Changes, by user: AuthenticatedUser) async throws -> Pipeline {
        let pipeline = try await Pipeline.find(pipelineID, for: .changePipelines, by: user, on: db)
        if let slug = changes.repoSlug, try FieldRules.slug(slug, field: "repo_slug") != pipeline.repoSlug {
            throw AppError.invalidField(
                "repo_slug", reason: "the repository of a pipeline cannot change; create a new pipeline")
        }
        if let workspace = changes.workspace, try FieldRules.slug(workspace, field: "workspace") != pipeline.workspace {
            throw AppError.invalidField(
                "workspace", reason: "the repository of a pipeline cannot change; create a new pipeline")
        }
        if let name = changes.name { pipeline.name = try FieldRules.name(name, field: "name") }
        if let connectionID = changes.connectionID, connectionID != pipeline.$connection.id {
            _ = try await connection(connectionID, for: user)
            pipeline.$connection.id = connectionID
            pipeline.stackJSON = nil
        }
        if let branch = changes.branch { pipeline.branch = try FieldRules.branch(branch, field: "branch") }
        if let deploy = changes.deploy { try await apply(deploy, to: pipeline) }
        if let override = changes.stackOverride { pipeline.stackOverrideJSON = try Self.encodeOverride(override) }
        if changes.branch != nil || changes.stackOverride != nil {
            pipeline.stackJSON = nil  // detect again with the new branch or override
        }
        try await pipeline.save(on: db)
        return pipeline
    }

    /// What a deletion erased.
    struct Deletion: Sendable {
        var name: String
        var executions: Int
        var logs: Int
    }

    /// Deletes the pipeline. When it has executions, `confirm` must be the pipeline's name: the executions,
    /// their trigger attempts and their stored logs go with it.
    ///
    /// - Throws: `AppError.notFound`, `AppError.forbidden` (role), `ConflictError.pipelineHasHistory` (409
    ///   `confirmation_required`, nothing deleted).
    func delete(pipelineID: Int, confirm: String?, by user: AuthenticatedUser) async throws -> Deletion {
        let pipeline = try await Pipeline.find(pipelineID, for: .changePipelines, by: user, on: db)
        let executionIDs = try await Execution.query(on: db).filter(\.$pipeline.$id == pipelineID).all()
            .compactMap(\.id)
        let store = logStore
        let logged = executionIDs.filter { store.hasLog(execution: $0) }
        if !executionIDs.isEmpty, confirm != pipeline.name {
            throw ConflictError.pipelineHasHistory(
                name: pipeline.name, executions: executionIDs.count, logs: logged.count)
        }
        try await pipeline.delete(on: db)  // executions and attempts cascade
        try await runBlocking {
            for id in logged { try store.delete(execution: id) }
        }
        return Deletion(name: pipeline.name, executions: executionIDs.count, logs: logged.count)
    }

    /// Replaces the webhook secret; the old one stops working at once.
    ///
    /// - Returns: the pipeline and the new secret (shown once).
    /// - Throws: `AppError.notFound`, `AppError.forbidden` (role).
    func rotateWebhookSecret(pipelineID: Int, by user: AuthenticatedUser) async throws -> Creation {
        let pipeline = try await Pipeline.find(pipelineID, for: .changePipelines, by: user, on: db)
        let secret = TokenHasher.randomToken()
        pipeline.sealedWebhookSecret = try vault.seal(secret, for: .webhookSecret, row: pipelineID)
        try await pipeline.save(on: db)
        return Creation(pipeline: pipeline, webhookSecret: Secret(secret))
    }

    // MARK: - Rules

    private func connection(_ id: Int, for user: AuthenticatedUser) async throws -> Connection {
        guard let connection = try await Connection.find(id, on: db) else {
            throw AppError.unprocessable("connection_id", reason: "no connection \(id)")
        }
        return connection
    }

    /// Validates the deploy target against the team's servers and keys and copies it onto `pipeline`.
    private func apply(_ deploy: DeployTargetBody, to pipeline: Pipeline) async throws {
        guard !deploy.serverIds.isEmpty, deploy.serverIds.count <= 50 else {
            throw AppError.invalidField("deploy.server_ids", reason: "must list 1-50 servers")
        }
        let unique = Array(Set(deploy.serverIds)).sorted()
        let servers = try await Server.query(on: db).filter(\.$id ~~ unique).all()
        guard servers.count == unique.count else {
            throw AppError.unprocessable("deploy.server_ids", reason: "every server must exist")
        }
        guard let key = try await StoredKey.find(deploy.sshKeyId, on: db) else {
            throw AppError.unprocessable("deploy.ssh_key_id", reason: "no such SSH key")
        }
        guard key.status == .active else {
            throw AppError.unprocessable("deploy.ssh_key_id", reason: "the SSH key is retired")
        }
        // One rule per field (issue 12 item 10): the generators' own rules, checked here once so a stored
        // pipeline never fails config generation or the pull request later.
        let path = deploy.deployPath.trimmingCharacters(in: .whitespaces)
        try Self.deployField { () throws(PipelineConfigError) in try DeploymentFieldRules.checkDeployPath(path) }
        if let port = deploy.appPort {
            try Self.deployField { () throws(PipelineConfigError) in try DeploymentFieldRules.checkAppPort(port) }
        }
        if let domain = deploy.domain {
            try Self.deployField { () throws(PipelineConfigError) in try DeploymentFieldRules.checkDomain(domain) }
            guard deploy.appPort != nil else {
                throw AppError.invalidField(
                    "deploy.app_port", reason: "is required when a domain is set (nginx proxies to it)")
            }
        }
        for (field, command) in [("build_command", deploy.buildCommand), ("start_command", deploy.startCommand)] {
            guard let command else { continue }
            try FieldRules.noControlCharacters(command, field: "deploy.\(field)")
            try Self.deployField { () throws(PipelineConfigError) in
                try DeploymentFieldRules.checkCommand(command, field: field)
            }
        }
        pipeline.serverIDs = deploy.serverIds
        pipeline.$sshKey.id = deploy.sshKeyId
        pipeline.deployPath = path
        pipeline.appPort = deploy.appPort
        pipeline.domain = deploy.domain?.lowercased()
        pipeline.buildCommand = deploy.buildCommand
        pipeline.startCommand = deploy.startCommand
    }

    /// Runs one of `DeploymentFieldRules` and reports its refusal as `invalid_field` naming `deploy.<field>`.
    private static func deployField(_ check: () throws(PipelineConfigError) -> Void) throws {
        do {
            try check()
        } catch {
            guard case .invalidInput(let field, let reason) = error else { throw error }
            throw AppError.invalidField("deploy.\(field)", reason: reason)
        }
    }

    static func encodeOverride(_ override: StackOverrideBody?) throws -> String? {
        guard let override else { return nil }
        let fields = [
            ("language", override.language), ("framework", override.framework),
            ("runtime_version", override.runtimeVersion), ("package_manager", override.packageManager),
            ("build_command", override.buildCommand), ("test_command", override.testCommand),
            ("start_command", override.startCommand),
        ]
        for (field, value) in fields {
            guard let value else { continue }
            guard value.count <= 500 else { throw AppError.invalidField("stack_override.\(field)", reason: "too long") }
            try FieldRules.noControlCharacters(value, field: "stack_override.\(field)")
        }
        if let language = override.language, StackLanguage(rawValue: language) == nil {
            throw AppError.invalidField(
                "stack_override.language",
                reason: "must be one of \(StackLanguage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return String(decoding: try JSONEncoder().encode(override), as: UTF8.self)
    }
}
