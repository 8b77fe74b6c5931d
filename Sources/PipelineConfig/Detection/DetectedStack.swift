/// One deployable application found in a repository (or forced by a `StackOverride`).
///
/// Commands are shell command lines meant to run in `directory` inside the build image, e.g.
/// `installCommand = "npm ci"`, `buildCommand = "npm run build"`, `testCommand = "npm test"`,
/// `startCommand = "npm start"`. `buildCommand` is always set; for stacks without a build phase
/// (Python, Ruby) it equals the install command.
public struct DetectedStack: Sendable, Hashable, Codable {
    /// Language family, e.g. `.python`.
    public var language: StackLanguage
    /// Framework when one was recognised, lower-case: `next`, `nuxt`, `express`, `nestjs`, `fastify`,
    /// `react`, `vue`, `angular`, `svelte`, `django`, `flask`, `fastapi`, `gin`, `echo`, `fiber`, `rails`,
    /// `sinatra`, `laravel`, `symfony`, `spring-boot`, `aspnetcore`, `actix-web`, `axum`, `rocket`, `vapor`,
    /// `hummingbird`.
    public var framework: String?
    /// Runtime version as found, normalised to what an image tag accepts: `"20"`, `"3.12"`, `"1.22"`,
    /// `"8.0"` (.NET), `"17"` (Java), `"5.9"` (Swift tools version).
    public var runtimeVersion: String?
    /// Package manager or build tool: `npm`, `yarn`, `pnpm`, `bun`, `pip`, `poetry`, `uv`, `pipenv`, `go`,
    /// `bundler`, `composer`, `maven`, `gradle`, `dotnet`, `cargo`, `swiftpm`, `docker`.
    public var packageManager: String?
    /// Dependency installation command, when separate from the build (e.g. `npm ci`).
    public var installCommand: String?
    /// Command that produces the deployable output, e.g. `npm run build`, `go build -o bin/ ./...`.
    public var buildCommand: String
    /// Test command when the project declares tests, e.g. `npm test`, `go test ./...`.
    public var testCommand: String?
    /// Command that starts the application on the server, e.g. `npm start`.
    public var startCommand: String?
    /// Directory of the application relative to the repository root; `""` for the root.
    public var directory: String
    /// The files and findings behind this result, in detection order.
    public var evidence: [Evidence]
    /// Confidence score (higher is surer). Manifest ≈ 10, lock file +20, framework +30, start/build
    /// script +15; tooling-only `package.json` files score 2 and a bare `Dockerfile` 6.
    public var score: Int

    /// Creates a stack description.
    public init(
        language: StackLanguage,
        framework: String? = nil,
        runtimeVersion: String? = nil,
        packageManager: String? = nil,
        installCommand: String? = nil,
        buildCommand: String,
        testCommand: String? = nil,
        startCommand: String? = nil,
        directory: String = "",
        evidence: [Evidence] = [],
        score: Int = 0
    ) {
        self.language = language
        self.framework = framework
        self.runtimeVersion = runtimeVersion
        self.packageManager = packageManager
        self.installCommand = installCommand
        self.buildCommand = buildCommand
        self.testCommand = testCommand
        self.startCommand = startCommand
        self.directory = directory
        self.evidence = evidence
        self.score = score
    }
}
