import Bitbucket
import Fluent
import Foundation
import Logging
import PipelineConfig
import PipewrightCore

/// Detection, generated configuration and pull requests for one pipeline (docs/API.md "Pipelines"),
/// through the pipeline's Bitbucket connection.
struct PipelineConfigService: Sendable {
    let db: any Database
    let clients: BitbucketClients
    let logger: Logger
    /// Provisions the repository when a pull request asks for it (`provision: true`).
    var provisioning: ProvisioningService? = nil

    /// Default source branch of the generated pull request.
    static let defaultBranch = "pipewright/add-pipeline"
    /// How deep the repository tree is listed for detection.
    static let listingDepth = 3

    /// The generated files, their validation and the repository variables the YAML reads.
    struct GeneratedConfig: Sendable {
        struct File: Sendable {
            var path: String
            var content: String
        }

        var files: [File]
        var validation: [ValidationResult]
        var repositoryVariables: [RequiredVariable]
    }

    /// The pull request that carries the generated files.
    struct PullRequestOutcome: Sendable {
        var pullRequest: BitbucketPullRequest
        var sourceBranch: String
        var destinationBranch: String
        var commit: String
        var files: [String]
        /// `false` when an open pull request of the same branches was updated instead.
        var created: Bool
        /// What was provisioned in the repository, when the request asked for it.
        var provisioning: ProvisioningRun?
    }

    // MARK: - Detect

    /// Reads the repository at the pipeline's branch, detects the stack (override applied) and stores it.
    func detect(_ pipeline: Pipeline) async throws -> DetectionReport {
        let client = try await client(for: pipeline)
        let head = try await branchHead(client, pipeline, branch: pipeline.branch)
        let entries = try await client.listDirectory(
            workspace: pipeline.workspace, slug: pipeline.repoSlug, commit: head, path: "", maxDepth: Self.listingDepth)
        let (workspace, slug) = (pipeline.workspace, pipeline.repoSlug)
        let snapshot = ClosureRepositorySnapshot(paths: entries.filter { $0.kind == .file }.map(\.path)) { path in
            guard let bytes = try await client.fileContents(workspace: workspace, slug: slug, commit: head, path: path)
            else { return nil }
            return String(decoding: bytes.prefix(512 * 1024), as: UTF8.self)
        }
        let report = try await StackDetector.detect(snapshot, override: try override(of: pipeline))
        guard let primary = report.primary else { throw PipelineSetupError.noStackDetected }
        pipeline.stackJSON = String(decoding: try JSONEncoder().encode(primary), as: UTF8.self)
        try await pipeline.save(on: db)
        return report
    }

    // MARK: - Config

    /// The generated files and their validation; detects first when no stack is stored.
    func config(_ pipeline: Pipeline, includeNginx: Bool) async throws -> GeneratedConfig {
        let stack = try await storedOrDetectedStack(pipeline)
        let settings = try await deploymentSettings(of: pipeline)
        let yaml = try PipelinesYAMLGenerator.generate(stack: stack, settings: settings)
        var files = [GeneratedConfig.File(path: "bitbucket-pipelines.yml", content: yaml)]
        var validation = [PipelinesYAMLValidator.validate(yaml)]
        if includeNginx {
            guard let port = pipeline.appPort else { throw PipelineSetupError.nginxNeedsAppPort }
            let serverName = pipeline.domain ?? "_"
            let nginx = try NginxConfigGenerator.generate(serverName: serverName, appPort: port)
            let path = NginxConfigGenerator.suggestedPath(serverName: serverName)
            files.append(.init(path: path, content: nginx))
            validation.append(NginxConfigValidator.validate(nginx, appPort: port, file: path))
        }
        return GeneratedConfig(
            files: files, validation: validation,
            repositoryVariables: PipelinesYAMLGenerator.requiredVariables(for: settings))
    }

    // MARK: - Pull request

    /// One commit with the generated files on the source branch, then a new or updated pull request.
    /// The destination branch is never written to. With `provision`, the repository is provisioned first
    /// (`ProvisioningService.apply`) and the description gains what was provisioned.
    func createPullRequest(_ pipeline: Pipeline, request: CreatePullRequestRequest) async throws -> PullRequestOutcome {
        let source = try FieldRules.branch(request.branch ?? Self.defaultBranch, field: "branch")
        let title =
            try request.title.map { try FieldRules.name($0, field: "title") } ?? "Add CI/CD pipeline (\(pipeline.name))"
        if let description = request.description, description.count > 50_000 {
            throw AppError.invalidField("description", reason: "must be at most 50000 characters")
        }
        let message = request.commitMessage ?? "Add bitbucket-pipelines.yml generated by Pipewright"
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, message.count <= 5000 else {
            throw AppError.invalidField("commit_message", reason: "must be 1-5000 characters")
        }
        let requestedDestination = try request.destinationBranch.map {
            try FieldRules.branch($0, field: "destination_branch")
        }
        let client = try await client(for: pipeline)
        let repository = try await client.repository(workspace: pipeline.workspace, slug: pipeline.repoSlug)
        let destination = requestedDestination ?? repository.mainBranch ?? pipeline.branch
        guard destination != source else {
            throw AppError.invalidField("branch", reason: "must differ from the destination branch")
        }
        let config = try await config(pipeline, includeNginx: request.includeNginxConfig ?? false)
        if let failed = config.validation.first(where: { !$0.ok }) {
            throw PipelineSetupError.invalidGeneratedFile(file: failed.file, messages: failed.messages)
        }
        // Provisioning before the commit: if Bitbucket's settings cannot even be read, nothing is committed.
        // Per-item write failures do not throw; they are listed in the description and the response.
        var provisioningRun: ProvisioningRun?
        if request.provision == true, let provisioning {
            provisioningRun = try await provisioning.apply(
                pipeline, options: ProvisioningOptions(replaceForeignKeyPair: request.replaceForeignKeyPair ?? false))
        }
        let destinationHead = try await branchHead(client, pipeline, branch: destination)
        let existingSource = try await client.branch(
            workspace: pipeline.workspace, slug: pipeline.repoSlug, name: source)
        let parent = existingSource?.target.hash ?? destinationHead
        let committed = try await client.createCommit(
            workspace: pipeline.workspace, slug: pipeline.repoSlug, branch: source, parents: [parent], message: message,
            author: nil, changes: config.files.map { .write(path: $0.path, contents: Array($0.content.utf8)) })
        let commit = committed.target.hash
        var description: String
        if let given = request.description {
            description = given
        } else {
            description = try await generatedDescription(pipeline, config: config)
        }
        if let provisioningRun { description += "\n\n" + ProvisioningSummary.markdown(provisioningRun) }
        let open = try await client.pullRequests(
            workspace: pipeline.workspace, slug: pipeline.repoSlug, state: .open, sourceBranch: source,
            destinationBranch: destination)
        let pullRequest: BitbucketPullRequest
        let created: Bool
        if let existing = open.first {
            pullRequest = try await client.updatePullRequest(
                workspace: pipeline.workspace, slug: pipeline.repoSlug, id: existing.id, title: title,
                description: description)
            created = false
        } else {
            pullRequest = try await client.createPullRequest(
                workspace: pipeline.workspace, slug: pipeline.repoSlug,
                draft: BitbucketPullRequestDraft(
                    title: title, description: description, sourceBranch: source, destinationBranch: destination,
                    closeSourceBranch: request.closeSourceBranch ?? true))
            created = true
        }
        logger.info(
            "pull request \(created ? "created" : "updated")",
            metadata: [
                "pipeline_id": "\(pipeline.id ?? 0)", "pull_request_id": "\(pullRequest.id)",
            ])
        return PullRequestOutcome(
            pullRequest: pullRequest, sourceBranch: source, destinationBranch: destination, commit: commit,
            files: config.files.map(\.path), created: created, provisioning: provisioningRun)
    }

    // MARK: - Helpers

    private func client(for pipeline: Pipeline) async throws -> any BitbucketAPI {
        guard let connection = try await Connection.find(pipeline.$connection.id, on: db) else {
            throw AppError.notFound("Connection")
        }
        return try clients.client(for: connection, logger: logger)
    }

    private func branchHead(_ client: any BitbucketAPI, _ pipeline: Pipeline, branch: String) async throws -> String {
        guard let found = try await client.branch(workspace: pipeline.workspace, slug: pipeline.repoSlug, name: branch)
        else {
            // A missing repository also answers 404 on its branches: tell the two apart.
            _ = try await client.repository(workspace: pipeline.workspace, slug: pipeline.repoSlug)
            throw PipelineSetupError.branchNotFound(branch)
        }
        return found.target.hash
    }

    /// The stack stored by the last detection (override applied then), detecting now if there is none.
    private func storedOrDetectedStack(_ pipeline: Pipeline) async throws -> DetectedStack {
        if let json = pipeline.stackJSON,
            let stored = try? JSONDecoder().decode(DetectedStack.self, from: Data(json.utf8))
        {
            return stored
        }
        _ = try await detect(pipeline)
        guard let json = pipeline.stackJSON else { throw PipelineSetupError.noStackDetected }
        return try JSONDecoder().decode(DetectedStack.self, from: Data(json.utf8))
    }

    private func override(of pipeline: Pipeline) throws -> StackOverride? {
        guard let json = pipeline.stackOverrideJSON else { return nil }
        let body = try JSONDecoder().decode(StackOverrideBody.self, from: Data(json.utf8))
        return StackOverride(
            language: body.language.flatMap(StackLanguage.init(rawValue:)), framework: body.framework,
            runtimeVersion: body.runtimeVersion, packageManager: body.packageManager, buildCommand: body.buildCommand,
            testCommand: body.testCommand, startCommand: body.startCommand)
    }

    private func deploymentSettings(of pipeline: Pipeline) async throws -> DeploymentSettings {
        let servers = try await Server.query(on: db).filter(\.$id ~~ pipeline.serverIDs).sort(\.$id).all()
        return Self.deploymentSettings(of: pipeline, servers: servers)
    }

    /// The generator's settings for `pipeline` with its `servers` in id order (server `i` of the YAML's
    /// `DEPLOY_HOST_i` is the i-th server by id).
    static func deploymentSettings(of pipeline: Pipeline, servers: [Server]) -> DeploymentSettings {
        DeploymentSettings(
            pipelineName: pipeline.name,
            servers: servers.map { DeployServer(host: $0.host, port: $0.port, username: $0.username) },
            deployPath: pipeline.deployPath, appPort: pipeline.appPort, domain: pipeline.domain,
            buildCommand: pipeline.buildCommand, startCommand: pipeline.startCommand, branch: pipeline.branch)
    }

    private func generatedDescription(_ pipeline: Pipeline, config: GeneratedConfig) async throws -> String {
        PullRequestDescription.render(
            stack: try await storedOrDetectedStack(pipeline),
            settings: try await deploymentSettings(of: pipeline),
            executions: [],
            validation: config.validation, variables: config.repositoryVariables)
    }

}
