import Foundation
import PipelineConfig
import Testing

/// One row of the per-stack detection table.
struct DetectionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let files: [String: String]
    let language: StackLanguage
    var framework: String? = nil
    var version: String? = nil
    var packageManager: String? = nil
    var build: String? = nil
    var test: String? = nil
    var start: String? = nil
    var directory = ""

    var testDescription: String { name }
}

/// A snapshot that counts reads, to check that detection reads only what it needs.
actor CountingSnapshot: RepositorySnapshot {
    nonisolated let paths: [String]
    private let files: [String: String]
    private(set) var readPaths: [String] = []

    init(files: [String: String]) {
        self.files = files
        self.paths = Array(files.keys)
    }

    func read(_ path: String) async throws -> String? {
        readPaths.append(path)
        return files[path]
    }
}

@Suite struct StackDetectorTests {
    static let cases: [DetectionCase] = [
        DetectionCase(
            name: "node next npm",
            files: [
                "package.json":
                    #"{"scripts":{"build":"next build","start":"next start","test":"jest"},"dependencies":{"next":"14.2.0","react":"18"},"engines":{"node":">=20"}}"#,
                "package-lock.json": "{}",
            ],
            language: .node, framework: "next", version: "20", packageManager: "npm", build: "npm run build",
            test: "npm test", start: "npm start"),
        DetectionCase(
            name: "node express yarn nvmrc",
            files: [
                "package.json": #"{"main":"server.js","dependencies":{"express":"^4.19.0"}}"#,
                "yarn.lock": "", ".nvmrc": "v18.19.0\n",
            ],
            language: .node, framework: "express", version: "18", packageManager: "yarn",
            build: "yarn install --frozen-lockfile", start: "node server.js"),
        DetectionCase(
            name: "node nuxt pnpm",
            files: [
                "package.json":
                    #"{"scripts":{"build":"nuxt build","dev":"nuxt dev"},"dependencies":{"nuxt":"^3.10.0"}}"#,
                "pnpm-lock.yaml": "",
            ],
            language: .node, framework: "nuxt", packageManager: "pnpm", build: "pnpm build"),
        DetectionCase(
            name: "python pip django",
            files: [
                "requirements.txt": "Django==5.0.2\ngunicorn\n", "manage.py": "", "mysite/wsgi.py": "",
                "mysite/settings.py": "", ".python-version": "3.11.7\n",
            ],
            language: .python, framework: "django", version: "3.11", packageManager: "pip",
            build: "pip install -r requirements.txt", test: "python manage.py test",
            start: "gunicorn --bind 0.0.0.0:${PORT:-8000} mysite.wsgi"),
        DetectionCase(
            name: "python poetry flask",
            files: [
                "pyproject.toml":
                    "[tool.poetry]\nname = \"svc\"\n\n[tool.poetry.dependencies]\npython = \"^3.12\"\nFlask = \"^3.0\"\n\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n",
                "poetry.lock": "", "app.py": "",
            ],
            language: .python, framework: "flask", version: "3.12", packageManager: "poetry",
            build: "pip install poetry && poetry install --no-interaction", test: "poetry run pytest",
            start: "poetry run gunicorn --bind 0.0.0.0:${PORT:-8000} app:app"),
        DetectionCase(
            name: "python uv fastapi",
            files: [
                "pyproject.toml":
                    "[project]\nname = \"api\"\nrequires-python = \">=3.13\"\ndependencies = [\n  \"fastapi>=0.110\",\n  \"uvicorn[standard]\",\n]\n",
                "uv.lock": "", "app/main.py": "",
            ],
            language: .python, framework: "fastapi", version: "3.13", packageManager: "uv",
            build: "pip install uv && uv sync --frozen",
            start: "uv run uvicorn app.main:app --host 0.0.0.0 --port ${PORT:-8000}"),
        DetectionCase(
            name: "go gin",
            files: [
                "go.mod": "module github.com/acme/orders\n\ngo 1.22.3\n\nrequire github.com/gin-gonic/gin v1.9.1\n",
                "go.sum": "", "main.go": "package main",
            ],
            language: .go, framework: "gin", version: "1.22", packageManager: "go", build: "go build -o bin/ ./...",
            test: "go test ./...", start: "./bin/orders"),
        DetectionCase(
            name: "ruby rails",
            files: [
                "Gemfile": "source \"https://rubygems.org\"\nruby \"3.2.2\"\ngem \"rails\", \"~> 7.1\"\ngem 'pg'\n",
                "Gemfile.lock": "", "config.ru": "",
            ],
            language: .ruby, framework: "rails", version: "3.2", packageManager: "bundler",
            test: "bundle exec rails test", start: "bundle exec rails server -b 0.0.0.0 -p ${PORT:-3000}"),
        DetectionCase(
            name: "php laravel",
            files: [
                "composer.json":
                    #"{"require":{"php":"^8.2","laravel/framework":"^11.0"},"require-dev":{"phpunit/phpunit":"^10"}}"#,
                "composer.lock": "", "artisan": "",
            ],
            language: .php, framework: "laravel", version: "8.2", packageManager: "composer",
            build: "composer install --no-interaction --prefer-dist", test: "php artisan test"),
        DetectionCase(
            name: "java maven spring boot",
            files: [
                "pom.xml":
                    "<project><parent><groupId>org.springframework.boot</groupId></parent><properties><java.version>17</java.version></properties></project>",
                "mvnw": "",
            ],
            language: .java, framework: "spring-boot", version: "17", packageManager: "maven",
            build: "./mvnw -B package -DskipTests", test: "./mvnw -B test", start: "java -jar target/*.jar"),
        DetectionCase(
            name: "java gradle kotlin dsl",
            files: [
                "build.gradle.kts":
                    "plugins { id(\"org.springframework.boot\") version \"3.2.0\" }\njava { toolchain { languageVersion = JavaLanguageVersion.of(21) } }\n",
                "settings.gradle.kts": "", "gradlew": "",
            ],
            language: .java, framework: "spring-boot", version: "21", packageManager: "gradle",
            build: "./gradlew build -x test", test: "./gradlew test"),
        DetectionCase(
            name: "dotnet aspnetcore",
            files: [
                "src/Shop.Api/Shop.Api.csproj":
                    "<Project Sdk=\"Microsoft.NET.Sdk.Web\"><PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>",
                "tests/Shop.Api.Tests/Shop.Api.Tests.csproj":
                    "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><PackageReference Include=\"Microsoft.NET.Test.Sdk\" /></ItemGroup></Project>",
            ],
            language: .dotnet, framework: "aspnetcore", version: "8.0", packageManager: "dotnet",
            build: "dotnet publish Shop.Api.csproj -c Release -o out", test: "dotnet test",
            start: "dotnet out/Shop.Api.dll", directory: "src/Shop.Api"),
        DetectionCase(
            name: "rust axum",
            files: [
                "Cargo.toml":
                    "[package]\nname = \"edge-api\"\nversion = \"0.1.0\"\nrust-version = \"1.75\"\n\n[dependencies]\naxum = \"0.7\"\ntokio = { version = \"1\", features = [\"full\"] }\n",
                "Cargo.lock": "",
            ],
            language: .rust, framework: "axum", version: "1.75", packageManager: "cargo",
            build: "cargo build --release --locked", test: "cargo test", start: "./target/release/edge-api"),
        DetectionCase(
            name: "swift vapor",
            files: [
                "Package.swift":
                    "// swift-tools-version:5.9\nimport PackageDescription\nlet package = Package(name: \"todo\", dependencies: [.package(url: \"https://github.com/vapor/vapor.git\", from: \"4.0.0\")], targets: [.executableTarget(name: \"App\")])\n",
                "Package.resolved": "",
            ],
            language: .swift, framework: "vapor", version: "5.9", packageManager: "swiftpm",
            build: "swift build -c release --static-swift-stdlib", test: "swift test", start: ".build/release/App"),
        DetectionCase(
            name: "static site",
            files: ["index.html": "<html></html>", "css/site.css": "", "img/logo.png": ""],
            language: .staticSite, build: "echo \"Static site: nothing to build\""),
        DetectionCase(
            name: "dockerfile only",
            files: ["Dockerfile": "FROM alpine\nEXPOSE 9000\nCMD [\"./run\"]\n", "run": ""],
            language: .docker, packageManager: "docker", build: "docker build -t app .",
            start: "docker run -d --name app --restart unless-stopped -p 9000:9000 app"),
    ]

    @Test(arguments: cases)
    func detect_stackTable(_ row: DetectionCase) async throws {
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: row.files))
        let stack = try #require(report.primary)
        #expect(stack.language == row.language)
        #expect(stack.framework == row.framework)
        #expect(stack.runtimeVersion == row.version)
        #expect(stack.directory == row.directory)
        if let pm = row.packageManager { #expect(stack.packageManager == pm) }
        if let build = row.build { #expect(stack.buildCommand == build) }
        if let test = row.test { #expect(stack.testCommand == test) }
        if let start = row.start { #expect(stack.startCommand == start) }
        #expect(!stack.evidence.isEmpty)
        #expect(report.isMonorepo == false)
        #expect(report.stacks == [stack])
    }

    @Test func detect_poetryWithToolingPackageJSON_isPython() async throws {
        let files = [
            "pyproject.toml":
                "[tool.poetry]\nname = \"etl\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\npandas = \"^2\"\n",
            "poetry.lock": "",
            "package.json":
                #"{"private":true,"devDependencies":{"prettier":"^3.2.0","husky":"^9.0.0"},"scripts":{"prepare":"husky"}}"#,
            "package-lock.json": "{}",
        ]
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        let primary = try #require(report.primary)
        #expect(primary.language == .python)
        #expect(primary.packageManager == "poetry")
        #expect(primary.evidence.contains { $0.file == "poetry.lock" })
        let node = try #require(report.candidates.first { $0.language == .node })
        #expect(node.score < primary.score)
        #expect(node.evidence.contains { $0.reason.contains("tooling only") })
        #expect(report.isMonorepo == false)
    }

    @Test(
        arguments: [
            (
                [
                    "composer.json": #"{"require":{"php":"^8.2","laravel/framework":"^11.0"}}"#, "composer.lock": "",
                    "package.json":
                        #"{"scripts":{"dev":"vite","build":"vite build"},"devDependencies":{"vite":"^5","laravel-vite-plugin":"^1"}}"#,
                    "package-lock.json": "{}",
                ], StackLanguage.php
            ),
            (
                [
                    "Gemfile": "gem 'rails'\ngem 'jsbundling-rails'\n", "Gemfile.lock": "",
                    "package.json":
                        #"{"scripts":{"build":"esbuild app/javascript/*.* --bundle"},"dependencies":{"@hotwired/turbo-rails":"^8","react":"18"}}"#,
                    "yarn.lock": "",
                ], .ruby
            ),
        ] as [([String: String], StackLanguage)])
    func detect_backendWithAssetPackageJSON_isBackend(_ files: [String: String], _ language: StackLanguage) async throws
    {
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(report.primary?.language == language)
        #expect(
            report.candidates.first { $0.language == .node }?.evidence.last?.reason.hasPrefix("asset build") == true)
    }

    @Test func detect_workspaceMonorepo_findsEachApp() async throws {
        let files = [
            "package.json": #"{"private":true,"workspaces":["apps/*"],"devDependencies":{"turbo":"^2"}}"#,
            "pnpm-lock.yaml": "",
            "apps/web/package.json":
                #"{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14"}}"#,
            "apps/api/package.json": #"{"scripts":{"start":"node dist/main.js"},"dependencies":{"@nestjs/core":"10"}}"#,
        ]
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(report.isMonorepo)
        #expect(report.stacks.map(\.directory) == ["apps/api", "apps/web"])
        #expect(report.stacks.map(\.framework) == ["nestjs", "next"])
        #expect(report.stacks.allSatisfy { $0.packageManager == "pnpm" })
    }

    @Test func detect_nodeAppWithSupabaseFunctions_isNode() async throws {
        let files = [
            "package.json":
                #"{"scripts":{"build":"next build","start":"next start"},"dependencies":{"next":"14.1.0"}}"#,
            "package-lock.json": "{}",
            "supabase/functions/hello/index.ts": "Deno.serve(() => new Response('hi'))",
            "supabase/functions/send-mail/index.ts": "",
            "supabase/functions/import_map.json": "{}",
            "supabase/config.toml": "",
        ]
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(report.primary?.language == .node)
        #expect(report.primary?.framework == "next")
        #expect(report.candidates.allSatisfy { !$0.directory.hasPrefix("supabase") })
        #expect(report.isMonorepo == false)
    }

    @Test func detect_denoFolderOutsideSupabase_createsNoStack() async throws {
        let files = [
            "package.json": #"{"dependencies":{"express":"4"}}"#,
            "edge/deno.json": "{}", "edge/package.json": #"{"dependencies":{"hono":"4"}}"#,
        ]
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(report.candidates.map(\.directory) == [""])
    }

    @Test func detect_frontendAndBackend_isMonorepo() async throws {
        let files = [
            "frontend/package.json":
                #"{"scripts":{"dev":"vite","build":"vite build"},"dependencies":{"react":"^18.2.0"},"devDependencies":{"vite":"^5.0.0"}}"#,
            "frontend/index.html": "<div id=root></div>",
            "frontend/src/main.tsx": "",
            "backend/requirements.txt": "fastapi==0.110.0\nuvicorn[standard]\n",
            "backend/main.py": "",
            "README.md": "# shop",
        ]
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(report.isMonorepo)
        #expect(report.stacks.map(\.directory) == ["backend", "frontend"])
        #expect(report.stacks.map(\.language) == [.python, .node])
        #expect(report.stacks[0].framework == "fastapi")
        #expect(report.stacks[1].framework == "react")
        #expect(report.stacks.allSatisfy { !$0.evidence.isEmpty })
        #expect(report.stacks[0].evidence.contains { $0.file == "backend/requirements.txt" })
        #expect(report.stacks[1].evidence.contains { $0.file == "frontend/package.json" })
        #expect(report.primary != nil)
    }

    @Test func detect_override_replacesDetectedFields() async throws {
        let files = ["requirements.txt": "flask\n", "app.py": ""]
        let forced = StackOverride(framework: "custom", runtimeVersion: "3.10", buildCommand: "make build")
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files), override: forced)
        let primary = try #require(report.primary)
        #expect(primary.language == .python)
        #expect(primary.framework == "custom")
        #expect(primary.runtimeVersion == "3.10")
        #expect(primary.buildCommand == "make build")
        #expect(
            primary.evidence.last
                == Evidence(file: "(override)", reason: "set by user: framework, runtime_version, build_command"))
        #expect(report.stacks == [primary])
    }

    @Test func detect_overrideLanguage_switchesToThatCandidateOrDefaults() async throws {
        let files = [
            "package.json": #"{"dependencies":{"express":"4"}}"#, "package-lock.json": "",
            "Dockerfile": "FROM node:20",
        ]
        let docker = try await StackDetector.detect(
            InMemoryRepositorySnapshot(files: files), override: StackOverride(language: .docker))
        #expect(docker.primary?.language == .docker)
        #expect(docker.primary?.evidence.first?.file == "Dockerfile")

        let goForced = try await StackDetector.detect(
            InMemoryRepositorySnapshot(files: files),
            override: StackOverride(language: .go, buildCommand: "go build ./cmd/api"))
        #expect(goForced.primary?.language == .go)
        #expect(goForced.primary?.buildCommand == "go build ./cmd/api")
        #expect(goForced.primary?.testCommand == "go test ./...")
    }

    @Test func detect_emptyRepository_hasNoPrimary() async throws {
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: [:]))
        #expect(report.primary == nil)
        #expect(report.candidates.isEmpty)
        #expect(report.stacks.isEmpty)
        #expect(report.isMonorepo == false)

        let docsOnly = try await StackDetector.detect(
            InMemoryRepositorySnapshot(files: ["README.md": "", "LICENSE": ""]))
        #expect(docsOnly.primary == nil)
    }

    @Test func detect_overrideOnEmptyRepository_needsLanguage() async throws {
        await #expect(
            throws: PipelineConfigError.invalidOverride(field: "language", reason: "required when nothing was detected")
        ) {
            try await StackDetector.detect(
                InMemoryRepositorySnapshot(files: [:]), override: StackOverride(buildCommand: "make"))
        }
        let forced = try await StackDetector.detect(
            InMemoryRepositorySnapshot(files: [:]),
            override: StackOverride(language: .node, buildCommand: "npm run build"))
        #expect(forced.primary?.language == .node)
    }

    @Test func detect_sameInputTwice_identicalReport() async throws {
        let files = [
            "frontend/package.json": #"{"scripts":{"build":"vite build"},"dependencies":{"vue":"3"}}"#,
            "api/go.mod": "module x/api\n\ngo 1.21\n", "api/go.sum": "", "api/main.go": "",
            "Dockerfile": "FROM scratch", "docs/index.html": "",
        ]
        let first = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        let second = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(first == second)
        #expect(first.isMonorepo)
    }

    @Test func detect_candidateOrder_independentOfFileOrder() async throws {
        let files = [
            "a/package.json": #"{"dependencies":{"express":"4"}}"#,
            "b/requirements.txt": "flask\n",
            "c/Gemfile": "gem 'sinatra'\n",
            "d/index.html": "",
        ]
        let paths = files.keys.sorted()
        var reports: [DetectionReport] = []
        for order in [paths, paths.reversed(), [paths[2], paths[0], paths[3], paths[1]]] {
            let snapshot = ClosureRepositorySnapshot(paths: order) { files[$0] }
            reports.append(try await StackDetector.detect(snapshot))
        }
        #expect(reports[0] == reports[1])
        #expect(reports[0] == reports[2])
        // flask and sinatra score the same (40); the language order puts Python first.
        #expect(reports[0].candidates.prefix(3).map(\.language) == [.node, .python, .ruby])
    }

    @Test func detect_readsOnlyManifests_andSkipsDependencyFolders() async throws {
        var files = [
            "package.json": #"{"dependencies":{"express":"4"}}"#, "package-lock.json": "{}", "yarn.lock": "",
            "src/index.js": "", "README.md": "",
        ]
        for index in 0..<50 { files["node_modules/pkg\(index)/package.json"] = "{}" }
        files["vendor/lib/composer.json"] = "{}"
        let snapshot = CountingSnapshot(files: files)
        let report = try await StackDetector.detect(snapshot)
        #expect(report.candidates.count == 1)
        #expect(await snapshot.readPaths == ["package.json"])
        // With several lock files the order is pnpm > yarn > bun > npm.
        #expect(report.primary?.packageManager == "yarn")
    }

    @Test func detect_depthLimit_ignoresDeepManifests() async throws {
        let files = ["a/b/c/d/go.mod": "module m\n", "a/b/c/d/e/Cargo.toml": "[package]\nname = \"x\"\n"]
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(report.candidates.map(\.language) == [.go])
    }

    @Test func detect_readBudget_isRespected() async throws {
        var files: [String: String] = [:]
        for index in 0..<10 { files["app\(index)/requirements.txt"] = "flask\n" }
        let snapshot = CountingSnapshot(files: files)
        _ = try await StackDetector.detect(snapshot, maxManifestReads: 3)
        #expect(await snapshot.readPaths.count == 3)
    }

    @Test func detect_readError_propagates() async throws {
        struct Boom: Error {}
        let snapshot = ClosureRepositorySnapshot(paths: ["package.json"]) { _ in throw Boom() }
        await #expect(throws: Boom.self) { try await StackDetector.detect(snapshot) }
    }

    @Test func detect_dockerfileBesideManifest_ranksBelowLanguage() async throws {
        let files = ["go.mod": "module a/b\n", "Dockerfile": "FROM golang"]
        let report = try await StackDetector.detect(InMemoryRepositorySnapshot(files: files))
        #expect(report.candidates.map(\.language) == [.go, .docker])
    }

    @Test func detect_reportEncodesWithLanguageStrings() throws {
        let stack = DetectedStack(language: .staticSite, buildCommand: "true")
        let json = try #require(String(data: try JSONEncoder().encode(stack), encoding: .utf8))
        #expect(json.contains(#""language":"static""#))
    }
}
