import PipewrightCore

/// Repository configuration for Pipelines: enablement, variables, the SSH key pair, known hosts and
/// deployment environments. Reads are retried (GET); `PUT`s are retried (idempotent); `POST`s are not.
extension LiveBitbucketClient {
    // MARK: - pipelines_config

    /// `GET …/pipelines_config`; `nil` on 404. See ``BitbucketAPI/pipelinesConfiguration(workspace:slug:)``.
    public func pipelinesConfiguration(workspace: String, slug: String) async throws(BitbucketError)
        -> BitbucketPipelinesConfiguration?
    {
        do throws(BitbucketError) {
            let response = try await perform(
                method: "GET", url: url(repositoryPath(workspace, slug, "pipelines_config")))
            return try decode(BitbucketPipelinesConfiguration.self, from: response)
        } catch .notFound {
            return nil
        }
    }

    /// `PUT …/pipelines_config` with `{"type": "repository_pipelines_configuration", "enabled": true}`. See
    /// ``BitbucketAPI/enablePipelines(workspace:slug:)``.
    public func enablePipelines(workspace: String, slug: String) async throws(BitbucketError)
        -> BitbucketPipelinesConfiguration
    {
        struct Body: Encodable {
            var type = "repository_pipelines_configuration"
            var enabled = true
        }
        let response = try await perform(
            method: "PUT", url: url(repositoryPath(workspace, slug, "pipelines_config")), body: try encode(Body()),
            contentType: "application/json")
        return try decode(BitbucketPipelinesConfiguration.self, from: response)
    }

    // MARK: - Variables

    /// `GET …/pipelines_config/variables/`, all pages. See ``BitbucketAPI/repositoryVariables(workspace:slug:)``.
    public func repositoryVariables(workspace: String, slug: String) async throws(BitbucketError)
        -> [BitbucketVariable]
    {
        try await collectPages(
            repositoryPath(workspace, slug, "pipelines_config", "variables"), trailingSlash: true, query: [],
            pagelen: 100, key: { (variable: BitbucketVariable) in variable.uuid })
    }

    /// `POST …/pipelines_config/variables/` (not retried). See
    /// ``BitbucketAPI/createRepositoryVariable(workspace:slug:variable:)``.
    public func createRepositoryVariable(workspace: String, slug: String, variable: BitbucketPipelineVariable)
        async throws(BitbucketError) -> BitbucketVariable
    {
        let response = try await perform(
            method: "POST",
            url: url(repositoryPath(workspace, slug, "pipelines_config", "variables"), trailingSlash: true),
            body: try encode(variable), contentType: "application/json", idempotent: false)
        return try decode(BitbucketVariable.self, from: response)
    }

    /// `PUT …/pipelines_config/variables/{variable_uuid}`. See
    /// ``BitbucketAPI/updateRepositoryVariable(workspace:slug:uuid:variable:)``.
    public func updateRepositoryVariable(
        workspace: String, slug: String, uuid: String, variable: BitbucketPipelineVariable
    ) async throws(BitbucketError) -> BitbucketVariable {
        let response = try await perform(
            method: "PUT", url: url(repositoryPath(workspace, slug, "pipelines_config", "variables", uuid)),
            body: try encode(variable), contentType: "application/json")
        return try decode(BitbucketVariable.self, from: response)
    }

    // MARK: - SSH key pair

    /// `GET …/pipelines_config/ssh/key_pair`; `nil` on 404. See ``BitbucketAPI/sshKeyPair(workspace:slug:)``.
    public func sshKeyPair(workspace: String, slug: String) async throws(BitbucketError) -> BitbucketSSHKeyPair? {
        do throws(BitbucketError) {
            let response = try await perform(
                method: "GET", url: url(repositoryPath(workspace, slug, "pipelines_config", "ssh", "key_pair")))
            return try decode(BitbucketSSHKeyPair.self, from: response)
        } catch .notFound {
            return nil
        }
    }

    /// `PUT …/pipelines_config/ssh/key_pair` with `{"private_key", "public_key"}`. See
    /// ``BitbucketAPI/replaceSSHKeyPair(workspace:slug:privateKey:publicKey:)``.
    public func replaceSSHKeyPair(workspace: String, slug: String, privateKey: Secret<String>, publicKey: String)
        async throws(BitbucketError) -> BitbucketSSHKeyPair
    {
        struct Body: Encodable {
            var type = "pipeline_ssh_key_pair"
            var privateKey: String
            var publicKey: String

            enum CodingKeys: String, CodingKey {
                case type
                case privateKey = "private_key"
                case publicKey = "public_key"
            }
        }
        let response = try await perform(
            method: "PUT", url: url(repositoryPath(workspace, slug, "pipelines_config", "ssh", "key_pair")),
            body: try encode(Body(privateKey: privateKey.value, publicKey: publicKey)), contentType: "application/json")
        return try decode(BitbucketSSHKeyPair.self, from: response)
    }

    // MARK: - Known hosts

    /// `GET …/pipelines_config/ssh/known_hosts/`, all pages. See ``BitbucketAPI/knownHosts(workspace:slug:)``.
    public func knownHosts(workspace: String, slug: String) async throws(BitbucketError) -> [BitbucketKnownHost] {
        try await collectPages(
            repositoryPath(workspace, slug, "pipelines_config", "ssh", "known_hosts"), trailingSlash: true, query: [],
            pagelen: 100, key: { (host: BitbucketKnownHost) in host.uuid })
    }

    /// `POST …/pipelines_config/ssh/known_hosts/` (not retried). See
    /// ``BitbucketAPI/createKnownHost(workspace:slug:hostname:publicKey:)``.
    public func createKnownHost(
        workspace: String, slug: String, hostname: String, publicKey: BitbucketKnownHost.PublicKey
    ) async throws(BitbucketError) -> BitbucketKnownHost {
        let response = try await perform(
            method: "POST",
            url: url(repositoryPath(workspace, slug, "pipelines_config", "ssh", "known_hosts"), trailingSlash: true),
            body: try encode(KnownHostBody(hostname: hostname, publicKey: publicKey)), contentType: "application/json",
            idempotent: false)
        return try decode(BitbucketKnownHost.self, from: response)
    }

    /// `PUT …/pipelines_config/ssh/known_hosts/{known_host_uuid}`. See
    /// ``BitbucketAPI/updateKnownHost(workspace:slug:uuid:hostname:publicKey:)``.
    public func updateKnownHost(
        workspace: String, slug: String, uuid: String, hostname: String, publicKey: BitbucketKnownHost.PublicKey
    ) async throws(BitbucketError) -> BitbucketKnownHost {
        let response = try await perform(
            method: "PUT", url: url(repositoryPath(workspace, slug, "pipelines_config", "ssh", "known_hosts", uuid)),
            body: try encode(KnownHostBody(hostname: hostname, publicKey: publicKey)), contentType: "application/json")
        return try decode(BitbucketKnownHost.self, from: response)
    }

    /// `{"type": "pipeline_known_host", "hostname", "public_key": {"key_type", "key"}}`.
    struct KnownHostBody: Encodable {
        var type = "pipeline_known_host"
        var hostname: String
        var publicKey: BitbucketKnownHost.PublicKey

        enum CodingKeys: String, CodingKey {
            case type, hostname
            case publicKey = "public_key"
        }
    }

    // MARK: - Deployment environments

    /// `GET …/environments/`, all pages. See ``BitbucketAPI/environments(workspace:slug:)``.
    public func environments(workspace: String, slug: String) async throws(BitbucketError) -> [BitbucketEnvironment] {
        try await collectPages(
            repositoryPath(workspace, slug, "environments"), trailingSlash: true, query: [], pagelen: 100,
            key: { (environment: BitbucketEnvironment) in environment.uuid })
    }

    /// `POST …/environments/` (not retried). See ``BitbucketAPI/createEnvironment(workspace:slug:name:kind:)``.
    public func createEnvironment(workspace: String, slug: String, name: String, kind: BitbucketEnvironment.Kind)
        async throws(BitbucketError) -> BitbucketEnvironment
    {
        struct Body: Encodable {
            struct EnvironmentType: Encodable {
                var type = "deployment_environment_type"
                var name: String
                var rank: Int
            }
            var type = "deployment_environment"
            var name: String
            var environmentType: EnvironmentType

            enum CodingKeys: String, CodingKey {
                case type, name
                case environmentType = "environment_type"
            }
        }
        let response = try await perform(
            method: "POST", url: url(repositoryPath(workspace, slug, "environments"), trailingSlash: true),
            body: try encode(Body(name: name, environmentType: .init(name: kind.rawValue, rank: kind.rank))),
            contentType: "application/json", idempotent: false)
        return try decode(BitbucketEnvironment.self, from: response)
    }

    /// `GET …/deployments_config/environments/{environment_uuid}/variables`, all pages. See
    /// ``BitbucketAPI/deploymentVariables(workspace:slug:environmentUUID:)``.
    public func deploymentVariables(workspace: String, slug: String, environmentUUID: String)
        async throws(BitbucketError) -> [BitbucketVariable]
    {
        try await collectPages(
            repositoryPath(workspace, slug, "deployments_config", "environments", environmentUUID, "variables"),
            query: [], pagelen: 100, key: { (variable: BitbucketVariable) in variable.uuid })
    }

    /// `POST …/deployments_config/environments/{environment_uuid}/variables` (not retried). See
    /// ``BitbucketAPI/createDeploymentVariable(workspace:slug:environmentUUID:variable:)``.
    public func createDeploymentVariable(
        workspace: String, slug: String, environmentUUID: String, variable: BitbucketPipelineVariable
    ) async throws(BitbucketError) -> BitbucketVariable {
        let response = try await perform(
            method: "POST",
            url: url(
                repositoryPath(workspace, slug, "deployments_config", "environments", environmentUUID, "variables")),
            body: try encode(variable), contentType: "application/json", idempotent: false)
        return try decode(BitbucketVariable.self, from: response)
    }

    /// `PUT …/deployments_config/environments/{environment_uuid}/variables/{variable_uuid}`. See
    /// ``BitbucketAPI/updateDeploymentVariable(workspace:slug:environmentUUID:uuid:variable:)``.
    public func updateDeploymentVariable(
        workspace: String, slug: String, environmentUUID: String, uuid: String, variable: BitbucketPipelineVariable
    ) async throws(BitbucketError) -> BitbucketVariable {
        let response = try await perform(
            method: "PUT",
            url: url(
                repositoryPath(
                    workspace, slug, "deployments_config", "environments", environmentUUID, "variables", uuid)),
            body: try encode(variable), contentType: "application/json")
        return try decode(BitbucketVariable.self, from: response)
    }
}
