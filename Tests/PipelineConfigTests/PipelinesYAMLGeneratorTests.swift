import PipelineConfig
import Testing
import Yams

@Suite struct PipelinesYAMLGeneratorTests {
    static let settings = DeploymentSettings(
        pipelineName: "Shop API",
        servers: [
            DeployServer(host: "web1.example.com", port: 22, username: "deploy"),
            DeployServer(host: "203.0.113.7", port: 2222, username: "ubuntu"),
        ],
        deployPath: "/srv/shop",
        appPort: 3000,
        domain: "shop.example.com")

    static let stacks: [DetectedStack] = [
        DetectedStack(
            language: .node, framework: "next", runtimeVersion: "20", packageManager: "npm", installCommand: "npm ci",
            buildCommand: "npm run build", testCommand: "npm test", startCommand: "npm start",
            evidence: [Evidence(file: "package-lock.json", reason: "npm lock file")], score: 75),
        DetectedStack(
            language: .python, framework: "fastapi", runtimeVersion: "3.12", packageManager: "poetry",
            buildCommand: "pip install poetry && poetry install --no-interaction", testCommand: "poetry run pytest",
            evidence: [Evidence(file: "poetry.lock", reason: "Poetry lock file")]),
        DetectedStack(
            language: .python, packageManager: "pip", buildCommand: "pip install -r requirements.txt",
            directory: "backend"),
        DetectedStack(
            language: .go, runtimeVersion: "1.22", packageManager: "go", installCommand: "go mod download",
            buildCommand: "go build -o bin/ ./...", testCommand: "go test ./...", startCommand: "./bin/orders",
            evidence: [Evidence(file: "go.sum", reason: "go.sum")]),
        DetectedStack(
            language: .ruby, framework: "rails", packageManager: "bundler",
            buildCommand: "bundle config set path vendor/bundle && bundle install",
            testCommand: "bundle exec rails test"),
        DetectedStack(
            language: .php, framework: "laravel", packageManager: "composer",
            buildCommand: "composer install --no-interaction --prefer-dist", testCommand: "php artisan test"),
        DetectedStack(
            language: .java, packageManager: "maven", buildCommand: "mvn -B package -DskipTests",
            testCommand: "mvn -B test"),
        DetectedStack(
            language: .java, runtimeVersion: "17", packageManager: "gradle", buildCommand: "./gradlew build -x test",
            testCommand: "./gradlew test"),
        DetectedStack(
            language: .dotnet, runtimeVersion: "8.0", packageManager: "dotnet", installCommand: "dotnet restore",
            buildCommand: "dotnet publish Api.csproj -c Release -o out", testCommand: "dotnet test",
            directory: "src/Api"),
        DetectedStack(
            language: .rust, packageManager: "cargo", buildCommand: "cargo build --release", testCommand: "cargo test",
            startCommand: "./target/release/api"),
        DetectedStack(
            language: .swift, runtimeVersion: "5.10", packageManager: "swiftpm",
            buildCommand: "swift build -c release --static-swift-stdlib", testCommand: "swift test",
            startCommand: ".build/release/App"),
        DetectedStack(language: .staticSite, buildCommand: "echo \"Static site: nothing to build\""),
        DetectedStack(language: .docker, packageManager: "docker", buildCommand: "docker build -t app ."),
    ]

    /// Decoded shape used to inspect the generated document.
    struct Document: Decodable {
        struct Step: Decodable {
            let name: String
            let script: [ScriptItem]
            let deployment: String?
            let artifacts: [String]?
            let caches: [String]?
            let trigger: String?
        }
        struct StepItem: Decodable { let step: Step }
        struct Pipelines: Decodable {
            let `default`: [StepItem]
            let branches: [String: [StepItem]]
        }
        let image: String
        let pipelines: Pipelines
    }

    enum ScriptItem: Decodable {
        case command(String)
        case pipe(name: String, variables: [String: String])

        init(from decoder: any Decoder) throws {
            if let command = try? decoder.singleValueContainer().decode(String.self) {
                self = .command(command)
                return
            }
            struct Pipe: Decodable {
                let pipe: String
                let variables: [String: String]
            }
            let pipe = try Pipe(from: decoder)
            self = .pipe(name: pipe.pipe, variables: pipe.variables)
        }
    }

    @Test(arguments: stacks)
    func generate_stack_parsesBackAndValidates(_ stack: DetectedStack) throws {
        let yaml = try PipelinesYAMLGenerator.generate(stack: stack, settings: Self.settings)
        let result = PipelinesYAMLValidator.validate(yaml)
        #expect(result.ok, "\(result.messages)")
        let document = try YAMLDecoder().decode(Document.self, from: yaml)
        #expect(document.pipelines.default.map(\.step.name) == ["Build", "Test"])
        let main = try #require(document.pipelines.branches["main"])
        #expect(main.map(\.step.name) == ["Build", "Test", "Deploy"])
        #expect(main.compactMap(\.step.deployment) == ["production"])
        #expect(main[0].step.artifacts == ["release.tar.gz"])
        #expect(main.allSatisfy { !$0.step.script.isEmpty })
        if !stack.directory.isEmpty {
            guard case .command(let first) = main[0].step.script[0] else {
                Issue.record("first Build line is not a command")
                return
            }
            #expect(first == "cd \(stack.directory)")
        }
    }

    @Test func generate_node_usesImageCachesAndCommands() throws {
        let yaml = try PipelinesYAMLGenerator.generate(stack: Self.stacks[0], settings: Self.settings)
        let document = try YAMLDecoder().decode(Document.self, from: yaml)
        #expect(document.image == "node:20")
        let build = try #require(document.pipelines.branches["main"]?.first?.step)
        #expect(build.caches == ["node", "npm"])
        let commands = build.script.compactMap { if case .command(let c) = $0 { c } else { nil } }
        #expect(commands.prefix(2) == ["npm ci", "npm run build"])
        let node = try #require(try Yams.compose(yaml: yaml))
        #expect(node["definitions"]?["caches"]?["npm"]?["key"]?["files"]?[0]?.string == "package-lock.json")
        #expect(node["definitions"]?["caches"]?["npm"]?["path"]?.string == "~/.npm")
    }

    @Test(
        arguments: [
            (StackLanguage.python, "3.12", "python:3.12"), (.go, "1.22", "golang:1.22"), (.node, nil, "node:20"),
            (.java, "17", "maven:3.9-eclipse-temurin-17"), (.dotnet, "8.0", "mcr.microsoft.com/dotnet/sdk:8.0"),
            (.rust, nil, "rust:1"), (.swift, "5.10", "swift:5.10"), (.ruby, "3.2", "ruby:3.2"),
        ] as [(StackLanguage, String?, String)])
    func generate_image_followsRuntimeVersion(_ language: StackLanguage, _ version: String?, _ image: String) throws {
        let stack = DetectedStack(language: language, runtimeVersion: version, buildCommand: "make")
        let yaml = try PipelinesYAMLGenerator.generate(stack: stack, settings: Self.settings)
        #expect(try YAMLDecoder().decode(Document.self, from: yaml).image == image)
    }

    @Test func generate_deploy_reachesEveryServerThroughVariables() throws {
        let yaml = try PipelinesYAMLGenerator.generate(stack: Self.stacks[0], settings: Self.settings)
        let document = try YAMLDecoder().decode(Document.self, from: yaml)
        let deploy = try #require(document.pipelines.branches["main"]?.last?.step)
        let pipes = deploy.script.compactMap {
            if case .pipe(let name, let variables) = $0 { (name, variables) } else { nil }
        }
        #expect(pipes.count == 6)
        for n in 1...2 {
            let forServer = pipes.filter { $0.1["SERVER"] == "$DEPLOY_HOST_\(n)" }
            #expect(forServer.count == 3)
            #expect(
                forServer.contains {
                    $0.0 == PipelinesYAMLGenerator.rsyncDeployPipe && $0.1["USER"] == "$DEPLOY_USER_\(n)"
                        && $0.1["SSH_PORT"] == "$DEPLOY_PORT_\(n)"
                })
            #expect(
                forServer.filter { $0.0 == PipelinesYAMLGenerator.sshRunPipe }.allSatisfy {
                    $0.1["SSH_USER"] == "$DEPLOY_USER_\(n)" && $0.1["PORT"] == "$DEPLOY_PORT_\(n)"
                })
        }
        let activate = try #require(pipes.last?.1["COMMAND"])
        #expect(activate.contains("cd $DEPLOY_PATH;"))
        // Pipe variables go through several quoting layers; generated COMMANDs carry no double quotes.
        #expect(pipes.allSatisfy { !($0.1["COMMAND"] ?? "").contains("\"") })
        #expect(activate.contains("npm ci --omit=dev"))
        #expect(activate.hasSuffix("sudo systemctl restart shop-api"))
    }

    @Test func generate_neverInlinesHostsUsersOrSecrets() throws {
        for stack in Self.stacks {
            let yaml = try PipelinesYAMLGenerator.generate(stack: stack, settings: Self.settings, header: false)
            for literal in [
                "web1.example.com", "203.0.113.7", "deploy@", "ubuntu", "2222", "/srv/shop", "PRIVATE KEY", "SSH_KEY",
                "password",
            ] {
                #expect(!yaml.contains(literal), "\(stack.language): \(literal)")
            }
        }
    }

    @Test func generate_requiredVariables_listEveryServer() {
        let variables = PipelinesYAMLGenerator.requiredVariables(for: Self.settings)
        #expect(
            variables.map(\.name) == [
                "DEPLOY_PATH", "DEPLOY_HOST_1", "DEPLOY_USER_1", "DEPLOY_PORT_1", "DEPLOY_HOST_2", "DEPLOY_USER_2",
                "DEPLOY_PORT_2",
            ])
        #expect(variables.allSatisfy { !$0.secured && $0.value != nil })
        #expect(variables.first { $0.name == "DEPLOY_PORT_2" }?.value == "2222")
    }

    @Test func generate_everyReferencedVariableIsRequired() throws {
        let yaml = try PipelinesYAMLGenerator.generate(stack: Self.stacks[3], settings: Self.settings, header: false)
        let referenced = Set(yaml.matches(of: #/\$(DEPLOY_[A-Z0-9_]+)/#).map { String($0.1) })
        let required = Set(PipelinesYAMLGenerator.requiredVariables(for: Self.settings).map(\.name))
        #expect(referenced == required)
    }

    @Test func generate_customBranchEnvironmentAndManualTrigger() throws {
        var settings = Self.settings
        settings.branch = "release/*"
        settings.environment = "staging"
        settings.manualDeploy = true
        let yaml = try PipelinesYAMLGenerator.generate(stack: Self.stacks[3], settings: settings)
        let document = try YAMLDecoder().decode(Document.self, from: yaml)
        let steps = try #require(document.pipelines.branches["release/*"])
        #expect(steps.last?.step.deployment == "staging")
        #expect(steps.last?.step.trigger == "manual")
        #expect(PipelinesYAMLValidator.validate(yaml).ok)
    }

    @Test func generate_settingsBuildCommandOverridesStack() throws {
        var settings = Self.settings
        settings.buildCommand = "make release"
        let yaml = try PipelinesYAMLGenerator.generate(stack: Self.stacks[3], settings: settings)
        #expect(yaml.contains("- make release"))
        #expect(!yaml.contains("go build -o bin/"))
    }

    @Test func generate_headerIsCommentOnly() throws {
        let yaml = try PipelinesYAMLGenerator.generate(stack: Self.stacks[0], settings: Self.settings)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.hasPrefix("# bitbucket-pipelines.yml generated by Pipewright") == true)
        #expect(yaml.contains("DEPLOY_HOST_2"))
        #expect(yaml.hasSuffix("\n"))
    }

    @Test func generate_isDeterministic() throws {
        let first = try PipelinesYAMLGenerator.generate(stack: Self.stacks[1], settings: Self.settings)
        let second = try PipelinesYAMLGenerator.generate(stack: Self.stacks[1], settings: Self.settings)
        #expect(first == second)
    }

    struct BadSettings: Sendable, CustomTestStringConvertible {
        let field: String
        let change: @Sendable (inout DeploymentSettings) -> Void
        var testDescription: String { field }
    }

    @Test(arguments: [
        BadSettings(field: "servers") { $0.servers = [] },
        BadSettings(field: "servers[0].host") { $0.servers[0].host = "web1; rm -rf /" },
        BadSettings(field: "servers[0].host") { $0.servers[0].host = "" },
        BadSettings(field: "servers[1].username") { $0.servers[1].username = "-oProxyCommand=x" },
        BadSettings(field: "servers[0].port") { $0.servers[0].port = 0 },
        BadSettings(field: "servers[0].port") { $0.servers[0].port = 70000 },
        BadSettings(field: "deploy_path") { $0.deployPath = "srv/app" },
        BadSettings(field: "deploy_path") { $0.deployPath = "/srv/../etc" },
        BadSettings(field: "deploy_path") { $0.deployPath = "/srv/app\"; reboot" },
        BadSettings(field: "app_port") { $0.appPort = 65536 },
        BadSettings(field: "domain") { $0.domain = "bad domain" },
        BadSettings(field: "branch") { $0.branch = "main\nfoo: bar" },
        BadSettings(field: "environment") { $0.environment = "" },
        BadSettings(field: "build_command") { $0.buildCommand = "echo -----BEGIN OPENSSH PRIVATE KEY-----" },
        BadSettings(field: "build_command") { $0.buildCommand = "line1\nline2" },
        BadSettings(field: "restart_command") { $0.restartCommand = "sshpass -p hunter2 ssh x" },
    ])
    func generate_invalidSettings_throws(_ bad: BadSettings) throws {
        var settings = Self.settings
        bad.change(&settings)
        let error = #expect(throws: PipelineConfigError.self) {
            try PipelinesYAMLGenerator.generate(stack: Self.stacks[0], settings: settings)
        }
        guard case .invalidInput(let field, _) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(field == bad.field)
        #expect(error?.code == "invalid_input")
    }

    @Test func generate_yamlSpecialValues_stayStrings() throws {
        var settings = Self.settings
        settings.buildCommand = "yes: no # not a comment"
        let yaml = try PipelinesYAMLGenerator.generate(stack: Self.stacks[3], settings: settings)
        #expect(yaml.contains("'yes: no # not a comment'") || yaml.contains("\"yes: no # not a comment\""))
        #expect(PipelinesYAMLValidator.validate(yaml).ok)
    }

    @Test func serviceName_isSlug() {
        var settings = Self.settings
        settings.pipelineName = "  Shop API (EU) — v2 "
        #expect(settings.serviceName == "shop-api-eu-v2")
        settings.pipelineName = "!!!"
        #expect(settings.serviceName == "app")
    }
}
