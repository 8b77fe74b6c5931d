import Bitbucket
import Fluent
import Foundation
import PipelineConfig
import PipewrightCore
import Vapor

/// The `deploy` object of a pipeline (docs/API.md "Pipelines").
struct DeployTargetBody: Content {
    var serverIds: [Int]
    var sshKeyId: Int
    var deployPath: String
    var appPort: Int?
    var domain: String?
    var buildCommand: String?
    var startCommand: String?
}

/// A user override of detection (any field replaces the detected one).
struct StackOverrideBody: Content {
    var language: String?
    var framework: String?
    var runtimeVersion: String?
    var packageManager: String?
    var buildCommand: String?
    var testCommand: String?
    var startCommand: String?
}

/// `POST /api/pipelines` body.
struct CreatePipelineRequest: Content {
    var name: String
    var connectionId: Int
    var repoSlug: String
    /// Defaults to the connection's workspace.
    var workspace: String?
    /// Defaults to `main`.
    var branch: String?
    var deploy: DeployTargetBody
    var stackOverride: StackOverrideBody?
}

/// `PUT /api/pipelines/{id}` body: any field given replaces the stored one.
struct UpdatePipelineRequest: Content {
    var name: String?
    var connectionId: Int?
    var repoSlug: String?
    var workspace: String?
    var branch: String?
    var deploy: DeployTargetBody?
    var stackOverride: StackOverrideBody?
}

/// `POST /api/pipelines/{id}/webhook-secret/rotate` response: the new secret, shown this once.
struct WebhookSecretResponse: Content {
    var webhookUrl: String
    var webhookSecret: String
}

/// A pipeline as shown to clients (docs/API.md "Pipelines"). `webhook_secret` only in the creation response.
struct PipelineResponse: Content {
    var id: Int
    var name: String
    var connectionId: Int
    var workspace: String
    var repoSlug: String
    var branch: String
    var stack: StackBody?
    var stackOverride: StackOverrideBody?
    var deploy: DeployTargetBody
    var webhookUrl: String
    var webhookSecret: String?
    /// `in_sync`, `drifted` or `never` (docs/provisioning.md "Drift").
    var provisioningStatus: String
    var createdAt: Date?
    var updatedAt: Date?
}

/// A detected stack (`POST /api/pipelines/{id}/detect`, docs/API.md "Pipelines").
struct StackBody: Content, Equatable {
    struct Evidence: Content, Equatable {
        var file: String
        var reason: String
    }

    var language: String
    var framework: String?
    var runtimeVersion: String?
    var packageManager: String?
    var buildCommand: String
    var testCommand: String?
    var startCommand: String?
    var directory: String?
    var evidence: [Evidence]
}

extension StackBody {
    init(_ stack: DetectedStack) {
        self.init(
            language: stack.language.rawValue, framework: stack.framework, runtimeVersion: stack.runtimeVersion,
            packageManager: stack.packageManager, buildCommand: stack.buildCommand, testCommand: stack.testCommand,
            startCommand: stack.startCommand, directory: stack.directory,
            evidence: stack.evidence.map { Evidence(file: $0.file, reason: $0.reason) })
    }
}

extension ConfigResponse.Validation {
    init(_ result: PipelineConfig.ValidationResult) {
        self.init(file: result.file, ok: result.ok, messages: result.messages)
    }
}

/// `POST /api/pipelines/{id}/detect` response.
struct DetectResponse: Content {
    var stack: StackBody
    var candidates: [StackBody]
    var isMonorepo: Bool
    var stacks: [StackBody]
}

/// `GET /api/pipelines/{id}/config` response.
struct ConfigResponse: Content {
    struct File: Content {
        var path: String
        var content: String
    }

    struct Validation: Content {
        var file: String
        var ok: Bool
        var messages: [String]
    }

    struct Variable: Content {
        var name: String
        var value: String?
        var secured: Bool
        var description: String
    }

    var files: [File]
    var validation: [Validation]
    var repositoryVariables: [Variable]
}

/// `POST /api/pipelines/{id}/create-pr` body.
struct CreatePullRequestRequest: Content {
    var title: String?
    var description: String?
    var branch: String?
    var commitMessage: String?
    var includeNginxConfig: Bool?
    var destinationBranch: String?
    var closeSourceBranch: Bool?
    /// Also provision the repository (docs/API.md "Provisioning"); the description states what was provisioned.
    var provision: Bool?
    /// With `provision`: overwrite a key pair Pipewright did not write.
    var replaceForeignKeyPair: Bool?
}

/// `POST /api/pipelines/{id}/create-pr` response.
struct CreatePullRequestResponse: Content {
    struct PullRequest: Content {
        var id: Int
        var url: String
        var title: String
        var sourceBranch: String
        var destinationBranch: String
    }

    var pullRequest: PullRequest
    var commit: String?
    var files: [String]
    var created: Bool
    /// What was provisioned, when the request had `provision: true` (else `null`).
    var provisioning: ProvisionResponse?

    enum CodingKeys: String, CodingKey { case pullRequest, commit, files, created, provisioning }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pullRequest, forKey: .pullRequest)
        try container.encode(commit, forKey: .commit)
        try container.encode(files, forKey: .files)
        try container.encode(created, forKey: .created)
        try container.encode(provisioning, forKey: .provisioning)
    }
}

extension PipelineResponse {
    /// The pipeline as clients see it (`webhook_secret` is set only by the creation response).
    init(_ pipeline: Pipeline, webhookURL: String, provisioningStatus: ProvisioningStatus = .never) throws {
        self.init(
            id: try pipeline.requireID(), name: pipeline.name, connectionId: pipeline.$connection.id,
            workspace: pipeline.workspace, repoSlug: pipeline.repoSlug, branch: pipeline.branch,
            stack: pipeline.stackJSON.flatMap { try? JSONDecoder().decode(DetectedStack.self, from: Data($0.utf8)) }
                .map(StackBody.init),
            stackOverride: pipeline.stackOverrideJSON.flatMap {
                try? JSONDecoder().decode(StackOverrideBody.self, from: Data($0.utf8))
            },
            deploy: DeployTargetBody(
                serverIds: pipeline.serverIDs, sshKeyId: pipeline.$sshKey.id, deployPath: pipeline.deployPath,
                appPort: pipeline.appPort, domain: pipeline.domain, buildCommand: pipeline.buildCommand,
                startCommand: pipeline.startCommand),
            webhookUrl: webhookURL, webhookSecret: nil, provisioningStatus: provisioningStatus.rawValue,
            createdAt: pipeline.createdAt, updatedAt: pipeline.updatedAt)
    }
}

extension DetectResponse {
    init(_ report: DetectionReport) throws {
        guard let primary = report.primary else { throw PipelineSetupError.noStackDetected }
        self.init(
            stack: StackBody(primary), candidates: report.candidates.map(StackBody.init), isMonorepo: report.isMonorepo,
            stacks: report.stacks.map(StackBody.init))
    }
}

extension ConfigResponse {
    init(_ config: PipelineConfigService.GeneratedConfig) {
        self.init(
            files: config.files.map { File(path: $0.path, content: $0.content) },
            validation: config.validation.map(Validation.init),
            repositoryVariables: config.repositoryVariables.map {
                Variable(name: $0.name, value: $0.value, secured: $0.secured, description: $0.description)
            })
    }
}

extension CreatePullRequestResponse {
    init(_ outcome: PipelineConfigService.PullRequestOutcome) {
        self.init(
            pullRequest: .init(
                id: outcome.pullRequest.id, url: outcome.pullRequest.htmlURL ?? "", title: outcome.pullRequest.title,
                sourceBranch: outcome.sourceBranch, destinationBranch: outcome.destinationBranch),
            commit: outcome.commit, files: outcome.files, created: outcome.created,
            provisioning: outcome.provisioning.map(ProvisionResponse.init))
    }
}
