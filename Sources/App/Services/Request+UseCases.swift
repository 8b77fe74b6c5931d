import Fluent
import SSHKeys
import Vapor

/// The one place where use-case services get their collaborators for a request: the request's database
/// and logger, and the application's configured services. Controllers (API and dashboard) call these.
extension Request {
    var keyVault: KeyVault { KeyVault(vault: services.vault) }

    var keyDeployments: KeyDeploymentService {
        let services = self.services
        return KeyDeploymentService(
            db: db, keys: keyVault,
            editor: SSHKeyDeployer(
                runner: services.ssh, connectTimeout: services.configuration.sshConnectTimeout,
                commandTimeout: services.configuration.sshCommandTimeout),
            hostKeyPolicy: services.configuration.hostKeyPolicy, concurrency: services.configuration.sshConcurrency,
            targetGuard: SSHTargetGuard(services: services), locks: services.locks, now: services.now, logger: logger,
            keyPairCarrier: repositoryProvisioning)
    }

    /// Provisioning, with key deployments for `generate_rsa_key`.
    var provisioning: ProvisioningService {
        var service = repositoryProvisioning
        let deployments = keyDeployments
        service.deployKey = { keyID, serverIDs, actor in
            try await deployments.deploy(
                keyID: keyID,
                to: serverIDs.map { TargetRequest(serverId: $0, host: nil, port: nil, username: nil, password: nil) },
                parallel: true, actor: actor)
        }
        return service
    }

    /// Provisioning without key deployments (what key rotation uses to carry a key into repositories).
    private var repositoryProvisioning: ProvisioningService {
        ProvisioningService(
            db: db, clients: services.bitbucketClients, keys: keyVault, locks: services.locks, now: services.now,
            logger: logger)
    }

    var keyCatalog: KeyCatalog {
        KeyCatalog(
            db: db, keys: keyVault, deployments: keyDeployments, locks: services.locks,
            allowsExport: services.configuration.allowsPrivateKeyExport, logger: logger)
    }

    var serverCatalog: ServerCatalog {
        ServerCatalog(
            db: db, targetGuard: SSHTargetGuard(services: services), hostKeyScanner: services.hostKeyScanner,
            now: services.now, logger: logger)
    }

    var connectionService: ConnectionService {
        ConnectionService(
            db: db, vault: services.vault, clients: services.bitbucketClients, now: services.now, logger: logger)
    }

    var pipelineCatalog: PipelineCatalog {
        PipelineCatalog(
            db: db, vault: services.vault, logStore: services.logStore, publicURL: services.configuration.publicURL)
    }

    var pipelineConfig: PipelineConfigService {
        PipelineConfigService(db: db, clients: services.bitbucketClients, logger: logger, provisioning: provisioning)
    }

    var executionLauncher: ExecutionLauncher {
        ExecutionLauncher(
            db: db, vault: services.vault, clients: services.bitbucketClients, queues: services.queues,
            supervisor: application.executionSupervisor, now: services.now, logger: logger)
    }

    var logQueries: LogQueries {
        let bridge = application.clusterEvents
        return LogQueries(
            db: db, store: services.logStore, events: application.executionEvents,
            announce: { bridge.announce($0) }, regexBudget: services.configuration.regexBudget)
    }
}

extension Request {
    var sessionService: SessionService {
        SessionService(
            db: db, passwords: password.async, rateLimiter: services.rateLimiter,
            rateLimits: services.configuration.rateLimits, dummyPasswordHash: services.dummyPasswordHash,
            connections: application.realtimeConnections, now: services.now, logger: logger)
    }

    var userService: UserService {
        UserService(
            db: db, passwords: password.async, connections: application.realtimeConnections,
            queues: services.queues, now: services.now, logger: logger)
    }

    var tokenService: TokenService {
        TokenService(db: db, connections: application.realtimeConnections, now: services.now)
    }
}

extension Application {
    /// `UserService` for the CLI (`pipewright user …`), on the application's database.
    var userService: UserService {
        UserService(
            db: db, passwords: password.async, connections: realtimeConnections, queues: services.queues,
            now: services.now, logger: logger)
    }
}
