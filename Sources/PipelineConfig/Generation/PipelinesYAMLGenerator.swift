import Yams

/// Writes `bitbucket-pipelines.yml` for a detected stack and deployment settings.
///
/// The document is built as a Yams `Node` tree and serialized (no string templates), then checked with
/// `PipelinesYAMLValidator` before it is returned. Structure
/// (https://support.atlassian.com/bitbucket-cloud/docs/step-options/):
///
/// ```yaml
/// image: node:20
/// definitions:
///   caches: {npm: {key: {files: [package-lock.json]}, path: ~/.npm}}
/// pipelines:
///   default: [Build, Test]
///   branches:
///     main: [Build, Test, Deploy (deployment: production)]
/// ```
///
/// Build installs, builds and packs `release.tar.gz` (its only artifact). Deploy, for every server `i`
/// (1-based), runs `atlassian/ssh-run` (create `$DEPLOY_PATH`), `atlassian/rsync-deploy` (upload the
/// archive) and `atlassian/ssh-run` again (unpack, `remoteSetup`, restart), with `$DEPLOY_HOST_i`,
/// `$DEPLOY_USER_i`, `$DEPLOY_PORT_i` and `$DEPLOY_PATH` as repository variables. No credential is ever
/// written: the pipes authenticate with the repository SSH key that Bitbucket injects.
///
/// Pipe `COMMAND` values contain no double quotes: Bitbucket passes pipe variables through several
/// layers of quoting ("Advanced techniques for writing pipes", support.atlassian.com), so the deploy
/// path is used unquoted — `DeploymentSettings.deployPath` only allows `[A-Za-z0-9._/-]`.
public enum PipelinesYAMLGenerator {
    /// Pipe versions used by the Deploy step (seen in public configurations; the pipes live at
    /// https://bitbucket.org/atlassian/rsync-deploy and https://bitbucket.org/atlassian/ssh-run).
    public static let rsyncDeployPipe = "atlassian/rsync-deploy:0.12.0"
    /// See `rsyncDeployPipe`.
    public static let sshRunPipe = "atlassian/ssh-run:0.8.1"
    /// Name of the release archive produced by Build and uploaded by Deploy.
    public static let releaseArchive = "release.tar.gz"

    /// Generates the YAML text.
    ///
    /// - Parameters:
    ///   - stack: The stack to build (its `directory` is entered with `cd` in every step).
    ///   - settings: Servers, path, branch and environment; `buildCommand`/`startCommand` override the stack.
    ///   - header: When `true` (default), prefixes `#` comment lines naming the pipeline and the variables
    ///     to define (Yams cannot emit comments, so they are a plain prefix).
    /// - Returns: The YAML document, ending with a newline.
    /// - Throws: `PipelineConfigError.invalidInput` for an unusable setting (no servers, bad host, user,
    ///   port, path, branch, environment, command, or a command that looks like it embeds a secret);
    ///   `.yamlEncodingFailed` if Yams fails; `.generatedConfigInvalid` if the result fails validation.
    public static func generate(stack: DetectedStack, settings: DeploymentSettings, header: Bool = true) throws
        -> String
    {
        try validate(stack: stack, settings: settings)
        let template = StackTemplate.make(for: stack, serviceName: settings.serviceName)
        let body: String
        do {
            body = try Yams.serialize(
                node: document(stack: stack, settings: settings, template: template), indent: 2, width: -1,
                allowUnicode: true)
        } catch {
            throw PipelineConfigError.yamlEncodingFailed(reason: String(describing: error).prefix(200).description)
        }
        let text = (header ? headerComment(settings: settings) : "") + body
        let result = PipelinesYAMLValidator.validate(text)
        guard result.ok else {
            throw PipelineConfigError.generatedConfigInvalid(file: result.file, messages: result.messages)
        }
        return text
    }

    /// The repository variables the generated YAML references, with values for the non-secret ones:
    /// `DEPLOY_PATH`, then `DEPLOY_HOST_i`, `DEPLOY_USER_i`, `DEPLOY_PORT_i` for each server (1-based).
    /// None is secured: the only credential, the SSH key, is the repository's Pipelines SSH key.
    public static func requiredVariables(for settings: DeploymentSettings) -> [RequiredVariable] {
        var variables = [
            RequiredVariable(
                name: "DEPLOY_PATH", description: "Directory the application is deployed to on every server",
                secured: false, value: settings.deployPath)
        ]
        for (index, server) in settings.servers.enumerated() {
            let n = index + 1
            variables += [
                RequiredVariable(
                    name: "DEPLOY_HOST_\(n)", description: "Host name or IP address of server \(n)", secured: false,
                    value: server.host),
                RequiredVariable(
                    name: "DEPLOY_USER_\(n)", description: "SSH user on server \(n)", secured: false,
                    value: server.username),
                RequiredVariable(
                    name: "DEPLOY_PORT_\(n)", description: "SSH port of server \(n)", secured: false,
                    value: String(server.port)),
            ]
        }
        return variables
    }

    /// The command run on each server after the archive is unpacked.
    public static func restartCommand(stack: DetectedStack, settings: DeploymentSettings) -> String {
        if let custom = settings.restartCommand { return custom }
        let service = settings.serviceName
        if stack.language == .docker {
            let port = settings.appPort ?? 8080
            return "docker load -i \(releaseArchive) && (docker rm -f \(service) || true) && docker run -d --name "
                + "\(service) --restart unless-stopped -p 127.0.0.1:\(port):\(port) \(service):latest"
        }
        return "sudo systemctl restart \(service)"
    }

    // MARK: - Validation of inputs

    static func validate(stack: DetectedStack, settings: DeploymentSettings) throws {
        func fail(_ field: String, _ reason: String) -> PipelineConfigError {
            .invalidInput(field: field, reason: reason)
        }
        guard !settings.servers.isEmpty else { throw fail("servers", "at least one server is required") }
        for (index, server) in settings.servers.enumerated() {
            guard InputRules.isHost(server.host) else {
                throw fail("servers[\(index)].host", "must be a host name or IP address")
            }
            guard InputRules.isUsername(server.username) else {
                throw fail("servers[\(index)].username", "must be a POSIX user name")
            }
            guard InputRules.isPort(server.port) else { throw fail("servers[\(index)].port", "must be 1-65535") }
        }
        try DeploymentFieldRules.checkDeployPath(settings.deployPath)
        if let port = settings.appPort { try DeploymentFieldRules.checkAppPort(port) }
        if let domain = settings.domain { try DeploymentFieldRules.checkDomain(domain) }
        guard InputRules.isBranch(settings.branch) else { throw fail("branch", "must be a branch name or glob") }
        guard InputRules.isEnvironmentName(settings.environment) else {
            throw fail("environment", "must be a deployment environment name")
        }
        if !stack.directory.isEmpty, stack.directory.hasPrefix("/") || !InputRules.isDeployPath("/" + stack.directory) {
            throw fail("directory", "must be a relative path of letters, digits, '.', '_', '-' and '/'")
        }
        let commands: [(String, String?)] = [
            ("build_command", settings.buildCommand ?? stack.buildCommand), ("install_command", stack.installCommand),
            ("test_command", stack.testCommand), ("start_command", settings.startCommand ?? stack.startCommand),
            ("restart_command", settings.restartCommand),
        ]
        for (field, command) in commands {
            guard let command else { continue }
            try DeploymentFieldRules.checkCommand(command, field: field)
        }
    }

    // MARK: - Document

    static func document(stack: DetectedStack, settings: DeploymentSettings, template: StackTemplate) -> Node {
        var root: [(String, Node)] = [("image", str(template.image))]
        let custom = template.caches.compactMap { cache -> (String, Node)? in
            guard case .custom(let name, let path, let keyFiles) = cache else { return nil }
            return (name, map([("key", map([("files", seq(keyFiles.map(str)))])), ("path", str(path))]))
        }
        if !custom.isEmpty {
            root.append(("definitions", map([("caches", map(custom))])))
        }
        let build = buildStep(stack: stack, settings: settings, template: template)
        let test = testStep(stack: stack, template: template)
        let deploy = deployStep(stack: stack, settings: settings)
        root.append(
            (
                "pipelines",
                map([
                    ("default", seq([build, test])),
                    ("branches", map([(settings.branch, seq([build, test, deploy]))])),
                ])
            ))
        return map(root)
    }

    static func buildStep(stack: DetectedStack, settings: DeploymentSettings, template: StackTemplate) -> Node {
        var script = enterDirectory(stack)
        if let install = stack.installCommand { script.append(install) }
        let build = settings.buildCommand ?? stack.buildCommand
        script.append(
            stack.language == .docker ? StackTemplate.dockerBuild(build, serviceName: settings.serviceName) : build)
        script += template.pack
        script.append("mv /tmp/\(releaseArchive) \"$BITBUCKET_CLONE_DIR/\(releaseArchive)\"")
        return step(
            name: "Build", caches: template.caches.map(\.name), services: template.services,
            script: script.map(str), extra: [("artifacts", seq([str(releaseArchive)]))])
    }

    static func testStep(stack: DetectedStack, template: StackTemplate) -> Node {
        var script = enterDirectory(stack)
        if let install = stack.installCommand {
            script.append(install)
        } else if stack.language == .python || stack.language == .ruby || stack.language == .php {
            script.append(stack.buildCommand)  // their "build" is the dependency install
        }
        script.append(stack.testCommand ?? "echo \"No test command was detected; add one to the Test step.\"")
        let caches = template.caches.map(\.name).filter { $0 != "docker" }
        return step(name: "Test", caches: caches, services: [], script: script.map(str), extra: [])
    }

    static func deployStep(stack: DetectedStack, settings: DeploymentSettings) -> Node {
        let setup = StackTemplate.make(for: stack, serviceName: settings.serviceName)
            .remoteSetup
        var activate = ["set -e", "cd $DEPLOY_PATH"]
        if stack.language == .docker {
            activate += [restartCommand(stack: stack, settings: settings), "rm -f \(releaseArchive)"]
        } else {
            activate += ["tar -xzf \(releaseArchive)", "rm -f \(releaseArchive)"]
            if let setup { activate.append(setup) }
            activate.append(restartCommand(stack: stack, settings: settings))
        }
        var script: [Node] = []
        for index in settings.servers.indices {
            let n = index + 1
            let user = str("$DEPLOY_USER_\(n)")
            let host = str("$DEPLOY_HOST_\(n)")
            let port = str("$DEPLOY_PORT_\(n)")
            script.append(
                pipe(
                    sshRunPipe,
                    [("SSH_USER", user), ("SERVER", host), ("PORT", port), ("COMMAND", str("mkdir -p $DEPLOY_PATH"))]))
            script.append(
                pipe(
                    rsyncDeployPipe,
                    [
                        ("USER", user), ("SERVER", host), ("SSH_PORT", port), ("REMOTE_PATH", str("$DEPLOY_PATH/")),
                        ("LOCAL_PATH", str(releaseArchive)),
                    ]))
            script.append(
                pipe(
                    sshRunPipe,
                    [
                        ("SSH_USER", user), ("SERVER", host), ("PORT", port),
                        ("COMMAND", str(activate.joined(separator: "; "))),
                    ]))
        }
        var extra: [(String, Node)] = [("deployment", str(settings.environment))]
        if settings.manualDeploy { extra.append(("trigger", str("manual"))) }
        return step(name: "Deploy", caches: [], services: [], script: script, extra: extra)
    }

    static func step(name: String, caches: [String], services: [String], script: [Node], extra: [(String, Node)])
        -> Node
    {
        var fields: [(String, Node)] = [("name", str(name))]
        fields += extra.filter { $0.0 == "deployment" || $0.0 == "trigger" }
        if !caches.isEmpty { fields.append(("caches", seq(caches.map(str)))) }
        if !services.isEmpty { fields.append(("services", seq(services.map(str)))) }
        fields.append(("script", seq(script)))
        fields += extra.filter { $0.0 != "deployment" && $0.0 != "trigger" }
        return map([("step", map(fields))])
    }

    static func pipe(_ name: String, _ variables: [(String, Node)]) -> Node {
        map([("pipe", str(name)), ("variables", map(variables))])
    }

    static func enterDirectory(_ stack: DetectedStack) -> [String] {
        stack.directory.isEmpty ? [] : ["cd \(stack.directory)"]
    }

    static func headerComment(settings: DeploymentSettings) -> String {
        let name = InputRules.singleLine(settings.pipelineName)
        let variables = requiredVariables(for: settings).map(\.name).joined(separator: ", ")
        return """
            # bitbucket-pipelines.yml generated by Pipewright for "\(name)".
            # Deploys branch \(InputRules.singleLine(settings.branch)) to \(settings.servers.count) server(s) over SSH.
            # Define these repository variables first: \(variables).
            # Authentication uses the repository SSH key (Repository settings > Pipelines > SSH keys);
            # add every server to Known hosts there. No secrets are stored in this file.

            """
    }

    // MARK: - Node helpers

    /// A string scalar that always reads back as a string (quoted when it would resolve to another type).
    static func str(_ text: String) -> Node { .scalar(text.represented()) }
    static func seq(_ nodes: [Node]) -> Node { Node(nodes) }
    static func map(_ pairs: [(String, Node)]) -> Node { Node(pairs.map { (str($0.0), $0.1) }) }
}
