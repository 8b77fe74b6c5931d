/// One SSH target of a deployment. Not secret: host, port and user become repository variables.
public struct DeployServer: Sendable, Hashable, Codable {
    /// Host name or IP address (`deploy.example.com`, `203.0.113.7`, `2001:db8::7`).
    public var host: String
    /// SSH port, `1...65535` (default 22).
    public var port: Int
    /// Login name on the server (`deploy`); POSIX user-name characters only.
    public var username: String

    /// Creates a server.
    public init(host: String, port: Int = 22, username: String) {
        self.host = host
        self.port = port
        self.username = username
    }
}

/// Where and how a pipeline deploys (the `deploy` object, docs/API.md "Pipelines"). Contains no secrets:
/// authentication uses the repository's Pipelines SSH key, which Bitbucket injects into every step.
public struct DeploymentSettings: Sendable, Hashable, Codable {
    /// Human name of the pipeline; appears in the YAML header and, slugified, as `serviceName`.
    public var pipelineName: String
    /// Every server to deploy to, in order; at least one.
    public var servers: [DeployServer]
    /// Absolute directory on each server, e.g. `/srv/myapp` (`[A-Za-z0-9._/-]`, no `..`).
    public var deployPath: String
    /// Local port the application listens on (`1...65535`), proxied by nginx.
    public var appPort: Int?
    /// Public host name served by nginx, e.g. `app.example.com`.
    public var domain: String?
    /// Replaces the detected build command.
    public var buildCommand: String?
    /// Replaces the detected start command (reported in the PR description for the service unit).
    public var startCommand: String?
    /// Command run on each server after unpacking the release; default
    /// `sudo systemctl restart <serviceName>` (for Docker: reload and run the image).
    public var restartCommand: String?
    /// Bitbucket deployment environment of the Deploy step (default `production`).
    public var environment: String
    /// Branch whose pushes deploy (default `main`).
    public var branch: String
    /// When `true`, the Deploy step waits for a manual trigger (never the first step, so allowed).
    public var manualDeploy: Bool

    /// Creates settings.
    ///
    /// - Parameters:
    ///   - pipelineName: Human name, e.g. `"Shop API"`.
    ///   - servers: Targets; the generator validates each one.
    ///   - deployPath: Absolute path on the servers.
    ///   - appPort: Application port (`1...65535`), or `nil` when unknown.
    ///   - domain: Public host name, or `nil`.
    ///   - buildCommand: Build command override.
    ///   - startCommand: Start command override.
    ///   - restartCommand: Post-deploy command override.
    ///   - environment: Deployment environment name.
    ///   - branch: Deploying branch (a Bitbucket branch glob is accepted).
    ///   - manualDeploy: Whether Deploy needs a manual trigger.
    public init(
        pipelineName: String,
        servers: [DeployServer],
        deployPath: String,
        appPort: Int? = nil,
        domain: String? = nil,
        buildCommand: String? = nil,
        startCommand: String? = nil,
        restartCommand: String? = nil,
        environment: String = "production",
        branch: String = "main",
        manualDeploy: Bool = false
    ) {
        self.pipelineName = pipelineName
        self.servers = servers
        self.deployPath = deployPath
        self.appPort = appPort
        self.domain = domain
        self.buildCommand = buildCommand
        self.startCommand = startCommand
        self.restartCommand = restartCommand
        self.environment = environment
        self.branch = branch
        self.manualDeploy = manualDeploy
    }

    /// `pipelineName` as a lower-case slug (`[a-z0-9-]`, at most 40 characters), `app` when empty:
    /// `"Shop API (EU)"` → `"shop-api-eu"`. Used for the systemd unit and Docker container names.
    public var serviceName: String {
        var slug = ""
        for character in pipelineName.lowercased() {
            if character.isASCII, character.isLetter || character.isNumber {
                slug.append(character)
            } else if !slug.isEmpty, slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        slug = String(slug.prefix(40))
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "app" : slug
    }
}
