/// A Bitbucket cache used by the Build and Test steps.
///
/// Built-in caches need no definition (https://support.atlassian.com/bitbucket-cloud/docs/cache-dependencies/):
/// `docker`, `composer`, `dotnetcore`, `gradle`, `ivy2`, `maven`, `node`, `pip`, `sbt`. Custom caches are
/// written under `definitions.caches` with `key.files` so they are rebuilt when the lock file changes.
enum CacheSpec: Equatable {
    /// A predefined cache referenced by name only.
    case builtIn(String)
    /// `definitions.caches.<name>: {key: {files: keyFiles}, path: path}`.
    case custom(name: String, path: String, keyFiles: [String])

    var name: String {
        switch self {
        case .builtIn(let name), .custom(let name, _, _): name
        }
    }

    /// Bitbucket's predefined cache names.
    static let builtInNames: Set<String> = [
        "docker", "composer", "dotnetcore", "gradle", "ivy2", "maven", "node", "pip", "sbt",
    ]
}

/// Per-stack pipeline ingredients as Swift values, not text templates: the build image, caches, the
/// paths packed into the release archive, and the command that prepares a release on the server.
struct StackTemplate: Equatable {
    /// Docker image of the Build and Test steps, e.g. `node:20`.
    var image: String
    /// Caches of the Build and Test steps.
    var caches: [CacheSpec]
    /// Step services (`docker` for image builds).
    var services: [String] = []
    /// Shell lines that pack the release as `/tmp/release.tar.gz`, run inside the app directory.
    var pack: [String]
    /// Shell command run in the deploy path after unpacking, before the restart; `nil` for none.
    var remoteSetup: String?

    /// Paths excluded from source-style releases.
    static let sourceExcludes = [
        ".git", "node_modules", ".next/cache", ".venv", "venv", "__pycache__", "vendor", ".bundle", "release.tar.gz",
    ]

    /// `tar` of the whole app directory except dependency folders.
    static func packSource() -> [String] {
        let excludes = sourceExcludes.map { "--exclude=./\($0)" }.joined(separator: " ")
        return ["tar -czf /tmp/release.tar.gz \(excludes) ."]
    }

    /// `tar` of the listed build outputs only.
    static func packPaths(_ paths: [String]) -> [String] {
        ["tar -czf /tmp/release.tar.gz " + paths.joined(separator: " ")]
    }

    /// The template for `stack`; `serviceName` names the Docker image.
    static func make(for stack: DetectedStack, serviceName: String) -> StackTemplate {
        let version = stack.runtimeVersion.flatMap { isImageTag($0) ? $0 : nil }
        let lockKeys = lockFiles(of: stack)
        switch stack.language {
        case .node:
            var caches: [CacheSpec] =
                stack.directory.isEmpty
                ? [.builtIn("node")]
                : [
                    .custom(
                        name: "node-modules", path: path(stack.directory, "node_modules"),
                        keyFiles: lockKeys.isEmpty ? [path(stack.directory, "package.json")] : lockKeys)
                ]
            let managerCache: (String, String)? =
                switch stack.packageManager {
                case "yarn": ("yarn", "/usr/local/share/.cache/yarn")
                case "pnpm": ("pnpm", "~/.local/share/pnpm/store")
                case "bun": ("bun", "~/.bun/install/cache")
                case "npm": lockKeys.isEmpty ? nil : ("npm", "~/.npm")
                default: nil
                }
            if let (name, cachePath) = managerCache, !lockKeys.isEmpty {
                caches.append(.custom(name: name, path: cachePath, keyFiles: lockKeys))
            }
            let setup: String =
                switch stack.packageManager {
                case "yarn": "yarn install --production --frozen-lockfile"
                case "pnpm": "corepack enable && pnpm install --prod --frozen-lockfile"
                case "bun": "bun install --production"
                default: lockKeys.isEmpty ? "npm install --omit=dev" : "npm ci --omit=dev"
                }
            return StackTemplate(
                image: "node:\(version ?? "20")", caches: caches, pack: packSource(), remoteSetup: setup)
        case .python:
            var caches: [CacheSpec] = [.builtIn("pip")]
            let setup: String
            switch stack.packageManager {
            case "poetry":
                caches.append(
                    .custom(
                        name: "poetry", path: "~/.cache/pypoetry",
                        keyFiles: keyOrManifest(lockKeys, stack, "pyproject.toml")))
                setup = "poetry install --only main --no-interaction"
            case "uv":
                caches = [
                    .custom(name: "uv", path: "~/.cache/uv", keyFiles: keyOrManifest(lockKeys, stack, "pyproject.toml"))
                ]
                setup = "uv sync --frozen --no-dev"
            case "pipenv":
                setup = "pipenv install --deploy"
            default:
                setup =
                    stack.buildCommand.contains("requirements.txt")
                    ? "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt"
                    : "python3 -m venv .venv && .venv/bin/pip install ."
            }
            return StackTemplate(
                image: "python:\(version ?? "3.12")", caches: caches, pack: packSource(), remoteSetup: setup)
        case .go:
            let keys = lockKeys.isEmpty ? [path(stack.directory, "go.mod")] : lockKeys
            return StackTemplate(
                image: "golang:\(version ?? "1.22")",
                caches: [.custom(name: "gomod", path: "/go/pkg/mod", keyFiles: keys)],
                pack: packPaths(["bin"]))
        case .ruby:
            return StackTemplate(
                image: "ruby:\(version ?? "3.3")",
                caches: [
                    .custom(
                        name: "bundler", path: path(stack.directory, "vendor/bundle"),
                        keyFiles: keyOrManifest(lockKeys, stack, "Gemfile"))
                ],
                pack: packSource(),
                remoteSetup: "bundle config set without development:test && bundle install")
        case .php:
            return StackTemplate(
                image: "composer:2", caches: [.builtIn("composer")], pack: packSource(),
                remoteSetup: "composer install --no-dev --optimize-autoloader --no-interaction")
        case .java:
            let java = version ?? "21"
            if stack.packageManager == "gradle" {
                return StackTemplate(
                    image: "eclipse-temurin:\(java)-jdk", caches: [.builtIn("gradle")],
                    pack: packPaths(["build/libs"]))
            }
            return StackTemplate(
                image: "maven:3.9-eclipse-temurin-\(java)", caches: [.builtIn("maven")],
                pack: packPaths(["target/*.jar"]))
        case .dotnet:
            return StackTemplate(
                image: "mcr.microsoft.com/dotnet/sdk:\(version ?? "8.0")", caches: [.builtIn("dotnetcore")],
                pack: packPaths(["out"]))
        case .rust:
            let binary = stack.startCommand.flatMap {
                $0.hasPrefix("./target/release/") ? String($0.dropFirst(2)) : nil
            }
            return StackTemplate(
                image: "rust:\(version ?? "1")",
                caches: [
                    .custom(
                        name: "cargo", path: "/usr/local/cargo/registry",
                        keyFiles: keyOrManifest(lockKeys, stack, "Cargo.toml"))
                ],
                pack: packPaths([binary ?? "target/release"]))
        case .swift:
            let binary = stack.startCommand.flatMap { $0.hasPrefix(".build/release/") ? $0 : nil }
            return StackTemplate(
                image: "swift:\(version ?? "6.0")",
                caches: [
                    .custom(
                        name: "swiftpm", path: path(stack.directory, ".build"),
                        keyFiles: keyOrManifest(lockKeys, stack, "Package.swift"))
                ],
                pack: packPaths([binary ?? ".build/release"]))
        case .staticSite:
            return StackTemplate(image: "atlassian/default-image:4", caches: [], pack: packSource())
        case .docker:
            return StackTemplate(
                image: "atlassian/default-image:4", caches: [.builtIn("docker")], services: ["docker"],
                pack: ["docker save \(serviceName):latest | gzip > /tmp/release.tar.gz"])
        }
    }

    /// Build lines for Docker stacks: the detected `docker build -t app .` is retagged with the service name.
    static func dockerBuild(_ command: String, serviceName: String) -> String {
        command == "docker build -t app ." ? "docker build -t \(serviceName):latest ." : command
    }

    /// Lock files named in the stack's evidence (paths relative to the repository root).
    static func lockFiles(of stack: DetectedStack) -> [String] {
        let names: Set<String> = [
            "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock",
            "poetry.lock", "uv.lock", "Pipfile.lock", "go.sum", "Gemfile.lock", "composer.lock", "Cargo.lock",
            "Package.resolved",
        ]
        var seen = Set<String>()
        return stack.evidence.compactMap { evidence in
            guard let name = evidence.file.split(separator: "/").last, names.contains(String(name)),
                seen.insert(evidence.file).inserted
            else { return nil }
            return evidence.file
        }
    }

    static func keyOrManifest(_ keys: [String], _ stack: DetectedStack, _ manifest: String) -> [String] {
        keys.isEmpty ? [path(stack.directory, manifest)] : keys
    }

    static func path(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }

    /// Docker tag characters only: `[A-Za-z0-9._-]`, ≤ 64.
    static func isImageTag(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
