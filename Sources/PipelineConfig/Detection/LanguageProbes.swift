import Foundation

/// Per-language detection rules. Each probe looks at one directory and returns at most one candidate.
enum LanguageProbes {
    // MARK: - Scores

    static let manifestScore = 10
    static let lockScore = 20
    static let frameworkScore = 30
    static let scriptsScore = 15
    static let dependenciesScore = 10
    static let versionScore = 5
    static let toolingOnlyScore = 2
    static let staticSiteScore = 8
    static let dockerfileScore = 6

    /// Runs every probe on `directory`; a static site and a bare Dockerfile only count when no language
    /// manifest is in the same directory.
    static func probe(
        directory: String,
        layout: RepositoryLayout,
        reader: inout ManifestReader
    ) async throws -> [DetectedStack] {
        var found: [DetectedStack] = []
        if let stack = try await node(directory, layout, &reader) { found.append(stack) }
        if let stack = try await python(directory, layout, &reader) { found.append(stack) }
        if let stack = try await go(directory, layout, &reader) { found.append(stack) }
        if let stack = try await ruby(directory, layout, &reader) { found.append(stack) }
        if let stack = try await php(directory, layout, &reader) { found.append(stack) }
        if let stack = try await maven(directory, layout, &reader) { found.append(stack) }
        if let stack = try await gradle(directory, layout, &reader) { found.append(stack) }
        if let stack = try await dotnet(directory, layout, &reader) { found.append(stack) }
        if let stack = try await rust(directory, layout, &reader) { found.append(stack) }
        if let stack = try await swift(directory, layout, &reader) { found.append(stack) }
        demoteAssetPipelines(&found)
        let files = layout.files(in: directory)
        if found.isEmpty, files.contains("index.html") {
            found.append(staticSite(directory))
        }
        if files.contains("Dockerfile") {
            found.append(try await docker(directory, layout, &reader, alone: found.isEmpty))
        }
        return found
    }

    /// Node frameworks that serve requests themselves (as opposed to front-end libraries and bundlers).
    static let serverFrameworks: Set<String> = [
        "next", "nuxt", "nestjs", "remix", "sveltekit", "astro", "express", "fastify", "koa", "hapi",
    ]

    /// A `package.json` beside a real back-end manifest (Laravel + Vite, Rails + jsbundling, Django +
    /// Tailwind) only builds assets when it has no server framework and no start command: it is kept as
    /// a candidate but scored as tooling, so the back end wins.
    static func demoteAssetPipelines(_ found: inout [DetectedStack]) {
        guard let index = found.firstIndex(where: { $0.language == .node }),
            found.contains(where: { $0.language != .node && $0.framework != nil })
        else { return }
        let node = found[index]
        guard node.startCommand == nil, !serverFrameworks.contains(node.framework ?? ""),
            node.score > toolingOnlyScore
        else { return }
        let backEnd = found.first { $0.language != .node && $0.framework != nil }?.framework ?? "back-end"
        found[index].score = toolingOnlyScore + 3
        found[index].evidence.append(
            Evidence(
                file: RepositoryLayout.join(node.directory, "package.json"),
                reason: "asset build for the \(backEnd) app"))
    }

    // MARK: - Node

    static let nodeFrameworks: [(dependency: String, name: String)] = [
        ("next", "next"), ("nuxt", "nuxt"), ("@nestjs/core", "nestjs"), ("@remix-run/node", "remix"),
        ("@sveltejs/kit", "sveltekit"), ("astro", "astro"), ("express", "express"), ("fastify", "fastify"),
        ("koa", "koa"), ("@hapi/hapi", "hapi"), ("@angular/core", "angular"), ("vue", "vue"),
        ("react", "react"), ("svelte", "svelte"), ("vite", "vite"),
    ]
    /// Scripts that mean "this package is an application", not just tooling.
    static let applicationScripts = ["start", "build", "dev", "serve", "preview", "generate"]
    static let npmDefaultTest = "echo \"Error: no test specified\" && exit 1"

    static func node(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        guard layout.files(in: dir).contains("package.json") else { return nil }
        let manifestPath = RepositoryLayout.join(dir, "package.json")
        var evidence = [Evidence(file: manifestPath, reason: "Node.js manifest")]
        let json = try await reader.read(manifestPath).flatMap(ManifestText.jsonObject) ?? [:]
        let dependencies = ManifestText.stringMap(json, "dependencies")
        let devDependencies = ManifestText.stringMap(json, "devDependencies")
        let scripts = ManifestText.stringMap(json, "scripts")

        // Lock file in the directory, else in an ancestor (workspaces keep one lock at the root).
        let locks: [(file: String, manager: String)] = [
            ("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("bun.lockb", "bun"), ("bun.lock", "bun"),
            ("package-lock.json", "npm"), ("npm-shrinkwrap.json", "npm"),
        ]
        var lock: (path: String, manager: String)?
        for ancestor in ancestors(of: dir) {
            if let hit = locks.first(where: { layout.has(ancestor, $0.file) }) {
                lock = (RepositoryLayout.join(ancestor, hit.file), hit.manager)
                break
            }
        }
        let manager = lock?.manager ?? "npm"

        let all = dependencies.merging(devDependencies) { first, _ in first }
        let framework = nodeFrameworks.first { all[$0.dependency] != nil }
        let appScripts = applicationScripts.filter { scripts[$0] != nil }
        let isWorkspaceRoot = json["workspaces"] != nil
        let isToolingOnly = dependencies.isEmpty && framework == nil && appScripts.isEmpty && json["main"] == nil

        var score = manifestScore
        if isToolingOnly || isWorkspaceRoot {
            score = toolingOnlyScore
            evidence.append(
                Evidence(
                    file: manifestPath,
                    reason: isWorkspaceRoot ? "workspace root" : "tooling only (devDependencies, no app scripts)"))
        } else {
            if let lock {
                score += lockScore
                evidence.append(Evidence(file: lock.path, reason: "\(lock.manager) lock file"))
            }
            if let framework {
                score += frameworkScore
                evidence.append(Evidence(file: manifestPath, reason: "depends on \(framework.dependency)"))
            }
            if !appScripts.isEmpty {
                score += scriptsScore
                evidence.append(
                    Evidence(file: manifestPath, reason: "scripts: " + appScripts.joined(separator: ", ")))
            }
            if !dependencies.isEmpty { score += dependenciesScore }
        }

        var version: String?
        for file in [".nvmrc", ".node-version"] where version == nil && layout.has(dir, file) {
            let path = RepositoryLayout.join(dir, file)
            let text = try await reader.read(path).map(ManifestText.firstLine) ?? ""
            if let found = ManifestText.major(text) {
                version = found
                evidence.append(Evidence(file: path, reason: "Node \(found)"))
            }
        }
        if version == nil, let engines = json["engines"] as? [String: Any], let range = engines["node"] as? String,
            let found = ManifestText.major(range)
        {
            version = found
            evidence.append(Evidence(file: manifestPath, reason: "engines.node \(range)"))
        }
        if version != nil { score += versionScore }

        let install: String
        switch manager {
        case "pnpm": install = "corepack enable && pnpm install --frozen-lockfile"
        case "yarn":
            install =
                layout.has(dir, ".yarnrc.yml")
                ? "corepack enable && yarn install --immutable" : "yarn install --frozen-lockfile"
        case "bun": install = "npm install -g bun && bun install --frozen-lockfile"
        default: install = lock == nil ? "npm install" : "npm ci"
        }
        let run = manager == "npm" ? "npm run" : manager == "bun" ? "bun run" : manager
        let build = scripts["build"] != nil ? "\(run) build" : install
        let test = scripts["test"].flatMap { $0 == npmDefaultTest ? nil : "\(manager) test" }
        var start: String?
        if scripts["start"] != nil {
            start = "\(manager) start"
        } else if let main = json["main"] as? String, safeRelativePath(main) {
            start = "node \(main)"
        } else if let entry = ["server.js", "index.js", "app.js"].first(where: { layout.has(dir, $0) }) {
            start = "node \(entry)"
        }
        return DetectedStack(
            language: .node, framework: framework?.name, runtimeVersion: version, packageManager: manager,
            installCommand: build == install ? nil : install, buildCommand: build, testCommand: test,
            startCommand: start, directory: dir, evidence: evidence, score: score)
    }

    // MARK: - Python

    static func python(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        let manifests = ["pyproject.toml", "requirements.txt", "Pipfile", "setup.py"].filter(files.contains)
        guard !manifests.isEmpty else { return nil }
        var evidence: [Evidence] = []
        var score = 0
        var dependencies = Set<String>()
        var version: String?
        var isPoetry = false
        var pyprojectIsTooling = false

        if files.contains("pyproject.toml") {
            let path = RepositoryLayout.join(dir, "pyproject.toml")
            let tables = ManifestText.tomlTables(try await reader.read(path) ?? "")
            let project = ManifestText.tomlTable(tables, "project")
            let poetry = ManifestText.tomlTable(tables, "tool.poetry")
            isPoetry = poetry != nil
            pyprojectIsTooling = project == nil && poetry == nil
            evidence.append(
                Evidence(
                    file: path,
                    reason: isPoetry
                        ? "pyproject.toml with [tool.poetry]"
                        : pyprojectIsTooling ? "pyproject.toml (tool settings only)" : "pyproject.toml"))
            score += pyprojectIsTooling ? toolingOnlyScore : manifestScore + (isPoetry ? manifestScore : 0)
            if let project {
                ManifestText.tomlArray(project, "dependencies").forEach {
                    if let name = ManifestText.requirementName(Substring($0)) { dependencies.insert(name) }
                }
                if let requires = ManifestText.tomlString(project, "requires-python") {
                    version = ManifestText.majorMinor(requires)
                }
            }
            for table in tables
            where table.header.hasPrefix("tool.poetry") && table.header.hasSuffix("dependencies") {
                for key in ManifestText.tomlKeys(table.lines) {
                    if key == "python" {
                        if version == nil, let value = ManifestText.tomlString(table.lines, "python") {
                            version = ManifestText.majorMinor(value)
                        }
                    } else {
                        dependencies.insert(key.lowercased().replacingOccurrences(of: "_", with: "-"))
                    }
                }
            }
        }
        if files.contains("requirements.txt") {
            let path = RepositoryLayout.join(dir, "requirements.txt")
            evidence.append(Evidence(file: path, reason: "pip requirements file"))
            score += manifestScore
            for line in (try await reader.read(path) ?? "").split(whereSeparator: \.isNewline) {
                if let name = ManifestText.requirementName(line) { dependencies.insert(name) }
            }
        }
        for file in ["Pipfile", "setup.py"] where files.contains(file) {
            evidence.append(
                Evidence(
                    file: RepositoryLayout.join(dir, file),
                    reason: file == "Pipfile" ? "Pipenv manifest" : "setuptools script"))
            score += manifestScore
        }

        let manager: String
        if files.contains("uv.lock") {
            manager = "uv"
            score += lockScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "uv.lock"), reason: "uv lock file"))
        } else if files.contains("poetry.lock") || isPoetry {
            manager = "poetry"
            if files.contains("poetry.lock") {
                score += lockScore
                evidence.append(Evidence(file: RepositoryLayout.join(dir, "poetry.lock"), reason: "Poetry lock file"))
            }
        } else if files.contains("Pipfile") {
            manager = "pipenv"
            if files.contains("Pipfile.lock") {
                score += lockScore
                evidence.append(Evidence(file: RepositoryLayout.join(dir, "Pipfile.lock"), reason: "Pipenv lock file"))
            }
        } else {
            manager = "pip"
        }

        let framework = ["django", "fastapi", "flask"].first(where: dependencies.contains)
        if let framework {
            score += frameworkScore
            evidence.append(Evidence(file: evidence.last?.file ?? dir, reason: "depends on \(framework)"))
        }
        if files.contains("manage.py") {
            score += manifestScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "manage.py"), reason: "Django manage.py"))
        }
        if !dependencies.isEmpty, framework == nil { score += dependenciesScore }

        for file in [".python-version", "runtime.txt"] where layout.has(dir, file) {
            let path = RepositoryLayout.join(dir, file)
            if let found = try await reader.read(path).map(ManifestText.firstLine).flatMap(ManifestText.majorMinor) {
                version = found
                evidence.append(Evidence(file: path, reason: "Python \(found)"))
                break
            }
        }
        if version != nil { score += versionScore }

        let prefix = ["poetry": "poetry run ", "uv": "uv run ", "pipenv": "pipenv run "][manager] ?? ""
        let install: String
        switch manager {
        case "uv": install = "pip install uv && uv sync --frozen"
        case "poetry": install = "pip install poetry && poetry install --no-interaction"
        case "pipenv": install = "pip install pipenv && pipenv install --deploy"
        default:
            install = files.contains("requirements.txt") ? "pip install -r requirements.txt" : "pip install ."
        }
        var test: String?
        if framework == "django", files.contains("manage.py") {
            test = prefix + "python manage.py test"
        } else if dependencies.contains("pytest") || files.contains("pytest.ini") || files.contains("conftest.py")
            || layout.hasFolder(dir, "tests")
        {
            test = prefix + "pytest"
        }
        var start: String?
        switch framework {
        case "fastapi":
            let module = layout.has(dir, "app/main.py") ? "app.main" : files.contains("app.py") ? "app" : "main"
            start = prefix + "uvicorn \(module):app --host 0.0.0.0 --port ${PORT:-8000}"
        case "flask":
            let module = files.contains("app.py") ? "app" : files.contains("wsgi.py") ? "wsgi" : "main"
            start = prefix + "gunicorn --bind 0.0.0.0:${PORT:-8000} \(module):app"
        case "django":
            let wsgi = layout.allPaths.sorted().first {
                $0.hasSuffix("/wsgi.py") && $0.hasPrefix(dir.isEmpty ? "" : dir + "/")
                    && $0.split(separator: "/").count == (dir.isEmpty ? 2 : dir.split(separator: "/").count + 2)
            }
            if let project = wsgi?.split(separator: "/").dropLast().last {
                start = prefix + "gunicorn --bind 0.0.0.0:${PORT:-8000} \(project).wsgi"
            }
        default:
            if let entry = ["main.py", "app.py"].first(where: files.contains) { start = prefix + "python \(entry)" }
        }
        return DetectedStack(
            language: .python, framework: framework, runtimeVersion: version, packageManager: manager,
            buildCommand: install, testCommand: test, startCommand: start, directory: dir, evidence: evidence,
            score: score)
    }

    // MARK: - Go

    static func go(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        guard files.contains("go.mod") else { return nil }
        let path = RepositoryLayout.join(dir, "go.mod")
        let text = try await reader.read(path) ?? ""
        var evidence = [Evidence(file: path, reason: "Go module file")]
        var score = manifestScore
        var version: String?
        var module: String?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("go "), version == nil {
                version = ManifestText.majorMinor(String(trimmed.dropFirst(3)))
            }
            if trimmed.hasPrefix("module ") { module = trimmed.dropFirst(7).trimmingCharacters(in: .whitespaces) }
        }
        if let version {
            score += versionScore
            evidence.append(Evidence(file: path, reason: "go \(version)"))
        }
        if files.contains("go.sum") {
            score += lockScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "go.sum"), reason: "go.sum"))
        }
        let frameworks = [
            ("github.com/gin-gonic/gin", "gin"), ("github.com/labstack/echo", "echo"),
            ("github.com/gofiber/fiber", "fiber"), ("github.com/go-chi/chi", "chi"),
        ]
        let framework = frameworks.first { text.contains($0.0) }
        if let framework {
            score += frameworkScore
            evidence.append(Evidence(file: path, reason: "requires \(framework.0)"))
        }
        if files.contains("main.go") {
            score += manifestScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "main.go"), reason: "main package"))
        }
        let binary = module.flatMap { $0.split(separator: "/").last.map(String.init) }.flatMap {
            safeRelativePath($0) ? $0 : nil
        }
        return DetectedStack(
            language: .go, framework: framework?.1, runtimeVersion: version, packageManager: "go",
            installCommand: "go mod download", buildCommand: "go build -o bin/ ./...", testCommand: "go test ./...",
            startCommand: binary.map { "./bin/\($0)" }, directory: dir, evidence: evidence, score: score)
    }

    // MARK: - Ruby

    static func ruby(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        guard files.contains("Gemfile") else { return nil }
        let path = RepositoryLayout.join(dir, "Gemfile")
        let text = try await reader.read(path) ?? ""
        var evidence = [Evidence(file: path, reason: "Bundler Gemfile")]
        var score = manifestScore
        let gems = Set(text.matches(of: #/(?m)^\s*gem\s+["']([^"']+)["']/#).map { String($0.1) })
        if files.contains("Gemfile.lock") {
            score += lockScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "Gemfile.lock"), reason: "Bundler lock file"))
        }
        let framework = gems.contains("rails") ? "rails" : gems.contains("sinatra") ? "sinatra" : nil
        if let framework {
            score += frameworkScore
            evidence.append(Evidence(file: path, reason: "gem \(framework)"))
        }
        var version = text.firstMatch(of: #/(?m)^\s*ruby\s+["']([0-9.]+)["']/#).flatMap {
            ManifestText.majorMinor(String($0.1))
        }
        if layout.has(dir, ".ruby-version") {
            let file = RepositoryLayout.join(dir, ".ruby-version")
            if let found = try await reader.read(file).map(ManifestText.firstLine).flatMap(ManifestText.majorMinor) {
                version = found
                evidence.append(Evidence(file: file, reason: "Ruby \(found)"))
            }
        }
        if version != nil { score += versionScore }
        let install = "bundle config set path vendor/bundle && bundle install"
        let test =
            gems.contains("rspec-rails") || gems.contains("rspec")
            ? "bundle exec rspec"
            : framework == "rails" ? "bundle exec rails test" : nil
        let start =
            framework == "rails"
            ? "bundle exec rails server -b 0.0.0.0 -p ${PORT:-3000}"
            : files.contains("config.ru") ? "bundle exec rackup -o 0.0.0.0 -p ${PORT:-9292}" : nil
        return DetectedStack(
            language: .ruby, framework: framework, runtimeVersion: version, packageManager: "bundler",
            buildCommand: install, testCommand: test, startCommand: start, directory: dir, evidence: evidence,
            score: score)
    }

    // MARK: - PHP

    static func php(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        guard files.contains("composer.json") else { return nil }
        let path = RepositoryLayout.join(dir, "composer.json")
        let json = try await reader.read(path).flatMap(ManifestText.jsonObject) ?? [:]
        let require = ManifestText.stringMap(json, "require")
        let requireDev = ManifestText.stringMap(json, "require-dev")
        var evidence = [Evidence(file: path, reason: "Composer manifest")]
        var score = manifestScore
        if files.contains("composer.lock") {
            score += lockScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "composer.lock"), reason: "Composer lock file"))
        }
        let framework =
            require["laravel/framework"] != nil
            ? "laravel"
            : require["symfony/framework-bundle"] != nil ? "symfony" : nil
        if let framework {
            score += frameworkScore
            evidence.append(
                Evidence(
                    file: path,
                    reason: "requires " + (framework == "laravel" ? "laravel/framework" : "symfony/framework-bundle")))
        }
        let version = require["php"].flatMap(ManifestText.majorMinor)
        if let version {
            score += versionScore
            evidence.append(Evidence(file: path, reason: "php \(version)"))
        }
        let test =
            framework == "laravel"
            ? "php artisan test"
            : requireDev["phpunit/phpunit"] != nil || require["phpunit/phpunit"] != nil ? "vendor/bin/phpunit" : nil
        let start =
            framework == "laravel"
            ? "php artisan serve --host=0.0.0.0 --port=${PORT:-8000}"
            : "php -S 0.0.0.0:${PORT:-8000} -t public"
        return DetectedStack(
            language: .php, framework: framework, runtimeVersion: version, packageManager: "composer",
            buildCommand: "composer install --no-interaction --prefer-dist", testCommand: test, startCommand: start,
            directory: dir, evidence: evidence, score: score)
    }

    // MARK: - Java

    static func maven(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        guard files.contains("pom.xml") else { return nil }
        let path = RepositoryLayout.join(dir, "pom.xml")
        let text = try await reader.read(path) ?? ""
        var evidence = [Evidence(file: path, reason: "Maven pom.xml")]
        var score = manifestScore
        let wrapper = files.contains("mvnw")
        if wrapper {
            score += manifestScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "mvnw"), reason: "Maven wrapper"))
        }
        let framework: String? = text.contains("org.springframework.boot") ? "spring-boot" : nil
        if framework != nil {
            score += frameworkScore
            evidence.append(Evidence(file: path, reason: "uses org.springframework.boot"))
        }
        let version = ["java.version", "maven.compiler.release", "maven.compiler.source", "release"]
            .lazy.compactMap { ManifestText.xmlElement(text, $0) }.first.flatMap(javaVersion)
        if let version {
            score += versionScore
            evidence.append(Evidence(file: path, reason: "Java \(version)"))
        }
        let mvn = wrapper ? "./mvnw" : "mvn"
        return DetectedStack(
            language: .java, framework: framework, runtimeVersion: version, packageManager: "maven",
            buildCommand: "\(mvn) -B package -DskipTests", testCommand: "\(mvn) -B test",
            startCommand: "java -jar target/*.jar", directory: dir, evidence: evidence, score: score)
    }

    static func gradle(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        guard let manifest = ["build.gradle.kts", "build.gradle"].first(where: files.contains) else { return nil }
        let path = RepositoryLayout.join(dir, manifest)
        let text = try await reader.read(path) ?? ""
        var evidence = [Evidence(file: path, reason: "Gradle \(manifest)")]
        var score = manifestScore
        let wrapper = files.contains("gradlew")
        if wrapper {
            score += manifestScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "gradlew"), reason: "Gradle wrapper"))
        }
        let framework: String? = text.contains("org.springframework.boot") ? "spring-boot" : nil
        if framework != nil {
            score += frameworkScore
            evidence.append(Evidence(file: path, reason: "applies org.springframework.boot"))
        }
        let patterns = [
            #/JavaLanguageVersion\.of\(\s*(\d+)\s*\)/#, #/JavaVersion\.VERSION_(?:1_)?(\d+)/#,
            #/sourceCompatibility\s*=\s*['"]?(?:1\.)?(\d+)/#, #/jvmToolchain\(\s*(\d+)\s*\)/#,
        ]
        let version = patterns.lazy.compactMap { text.firstMatch(of: $0).map { String($0.1) } }.first
        if let version {
            score += versionScore
            evidence.append(Evidence(file: path, reason: "Java \(version)"))
        }
        let gradle = wrapper ? "./gradlew" : "gradle"
        return DetectedStack(
            language: .java, framework: framework, runtimeVersion: version, packageManager: "gradle",
            buildCommand: "\(gradle) build -x test", testCommand: "\(gradle) test",
            startCommand: "java -jar build/libs/*.jar", directory: dir, evidence: evidence, score: score)
    }

    /// `"1.8"` → `"8"`, `"17"` → `"17"`, `"${java.version}"` → `nil`.
    static func javaVersion(_ text: String) -> String? {
        guard let match = text.firstMatch(of: #/^(?:1\.)?(\d+)/#) else { return nil }
        return String(match.1)
    }

    // MARK: - .NET

    static func dotnet(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let projects = layout.files(in: dir).filter { $0.hasSuffix(".csproj") || $0.hasSuffix(".fsproj") }.sorted()
        guard let project = projects.first else { return nil }
        let path = RepositoryLayout.join(dir, project)
        let text = try await reader.read(path) ?? ""
        let name = String(project.dropLast(7))
        var evidence = [Evidence(file: path, reason: "project file \(project)")]
        var score = manifestScore
        if text.contains("Microsoft.NET.Test.Sdk") || name.hasSuffix(".Tests") || name.hasSuffix(".Test") {
            score = toolingOnlyScore
            evidence.append(Evidence(file: path, reason: "test project"))
        }
        let framework: String? = text.contains("Microsoft.NET.Sdk.Web") ? "aspnetcore" : nil
        if framework != nil {
            score += frameworkScore
            evidence.append(Evidence(file: path, reason: "Sdk Microsoft.NET.Sdk.Web"))
        }
        let target =
            ManifestText.xmlElement(text, "TargetFramework") ?? ManifestText.xmlElement(text, "TargetFrameworks")
        let version = target.flatMap { $0.firstMatch(of: #/net(?:coreapp)?(\d+\.\d+)/#).map { String($0.1) } }
        if version != nil, let target {
            score += versionScore
            evidence.append(Evidence(file: path, reason: "TargetFramework \(target)"))
        }
        let assembly = ManifestText.xmlElement(text, "AssemblyName") ?? name
        let safeAssembly = safeRelativePath(assembly) ? assembly : name
        return DetectedStack(
            language: .dotnet, framework: framework, runtimeVersion: version, packageManager: "dotnet",
            installCommand: "dotnet restore", buildCommand: "dotnet publish \(project) -c Release -o out",
            testCommand: "dotnet test", startCommand: "dotnet out/\(safeAssembly).dll", directory: dir,
            evidence: evidence, score: score)
    }

    // MARK: - Rust

    static func rust(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        guard files.contains("Cargo.toml") else { return nil }
        let path = RepositoryLayout.join(dir, "Cargo.toml")
        let tables = ManifestText.tomlTables(try await reader.read(path) ?? "")
        var evidence = [Evidence(file: path, reason: "Cargo manifest")]
        var score = manifestScore
        if files.contains("Cargo.lock") {
            score += lockScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "Cargo.lock"), reason: "Cargo lock file"))
        }
        let package = ManifestText.tomlTable(tables, "package") ?? []
        let dependencies = ManifestText.tomlTable(tables, "dependencies").map(ManifestText.tomlKeys) ?? []
        let framework = ["actix-web", "axum", "rocket", "warp"].first(where: dependencies.contains)
        if let framework {
            score += frameworkScore
            evidence.append(Evidence(file: path, reason: "depends on \(framework)"))
        }
        let version = ManifestText.tomlString(package, "rust-version").flatMap(ManifestText.majorMinor)
        if let version {
            score += versionScore
            evidence.append(Evidence(file: path, reason: "rust-version \(version)"))
        }
        let name = ManifestText.tomlString(package, "name").flatMap { safeRelativePath($0) ? $0 : nil }
        return DetectedStack(
            language: .rust, framework: framework, runtimeVersion: version, packageManager: "cargo",
            buildCommand: files.contains("Cargo.lock") ? "cargo build --release --locked" : "cargo build --release",
            testCommand: "cargo test", startCommand: name.map { "./target/release/\($0)" }, directory: dir,
            evidence: evidence, score: score)
    }

    // MARK: - Swift

    static func swift(_ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader) async throws
        -> DetectedStack?
    {
        let files = layout.files(in: dir)
        guard files.contains("Package.swift") else { return nil }
        let path = RepositoryLayout.join(dir, "Package.swift")
        let text = try await reader.read(path) ?? ""
        var evidence = [Evidence(file: path, reason: "SwiftPM manifest")]
        var score = manifestScore
        if files.contains("Package.resolved") {
            score += lockScore
            evidence.append(Evidence(file: RepositoryLayout.join(dir, "Package.resolved"), reason: "Package.resolved"))
        }
        let version = text.firstMatch(of: #/swift-tools-version:\s*(\d+\.\d+)/#).map { String($0.1) }
        if let version {
            score += versionScore
            evidence.append(Evidence(file: path, reason: "swift-tools-version \(version)"))
        }
        let framework = text.contains("vapor/vapor") ? "vapor" : text.contains("hummingbird") ? "hummingbird" : nil
        if let framework {
            score += frameworkScore
            evidence.append(Evidence(file: path, reason: "depends on \(framework)"))
        }
        let executable = text.firstMatch(of: #/\.executable(?:Target)?\(\s*name:\s*"([A-Za-z0-9_.-]+)"/#).map {
            String($0.1)
        }
        return DetectedStack(
            language: .swift, framework: framework, runtimeVersion: version, packageManager: "swiftpm",
            installCommand: "swift package resolve", buildCommand: "swift build -c release --static-swift-stdlib",
            testCommand: "swift test", startCommand: executable.map { ".build/release/\($0)" }, directory: dir,
            evidence: evidence, score: score)
    }

    // MARK: - Static sites and Dockerfile

    static func staticSite(_ dir: String) -> DetectedStack {
        DetectedStack(
            language: .staticSite, buildCommand: "echo \"Static site: nothing to build\"", directory: dir,
            evidence: [
                Evidence(
                    file: RepositoryLayout.join(dir, "index.html"), reason: "index.html without a language manifest")
            ], score: staticSiteScore)
    }

    static func docker(
        _ dir: String, _ layout: RepositoryLayout, _ reader: inout ManifestReader, alone: Bool
    ) async throws -> DetectedStack {
        let path = RepositoryLayout.join(dir, "Dockerfile")
        var evidence = [Evidence(file: path, reason: "Dockerfile (container build)")]
        var port = 8080
        if alone, let text = try await reader.read(path),
            let match = text.firstMatch(of: #/(?mi)^\s*EXPOSE\s+(\d{1,5})/#), let exposed = Int(match.1),
            (1...65535).contains(exposed)
        {
            port = exposed
            evidence.append(Evidence(file: path, reason: "EXPOSE \(exposed)"))
        }
        return DetectedStack(
            language: .docker, packageManager: "docker", buildCommand: "docker build -t app .",
            startCommand: "docker run -d --name app --restart unless-stopped -p \(port):\(port) app", directory: dir,
            evidence: evidence, score: dockerfileScore)
    }

    // MARK: - Defaults for overrides

    /// Conventional commands for `language` when an override forces a language nothing was detected for.
    static func defaults(for language: StackLanguage, directory: String) -> DetectedStack {
        let base: DetectedStack
        switch language {
        case .node:
            base = DetectedStack(
                language: .node, packageManager: "npm", installCommand: "npm install", buildCommand: "npm run build",
                testCommand: "npm test", startCommand: "npm start")
        case .python:
            base = DetectedStack(
                language: .python, packageManager: "pip", buildCommand: "pip install -r requirements.txt",
                testCommand: "pytest")
        case .go:
            base = DetectedStack(
                language: .go, packageManager: "go", installCommand: "go mod download",
                buildCommand: "go build -o bin/ ./...", testCommand: "go test ./...")
        case .ruby:
            base = DetectedStack(
                language: .ruby, packageManager: "bundler",
                buildCommand: "bundle config set path vendor/bundle && bundle install")
        case .php:
            base = DetectedStack(
                language: .php, packageManager: "composer",
                buildCommand: "composer install --no-interaction --prefer-dist")
        case .java:
            base = DetectedStack(
                language: .java, packageManager: "maven", buildCommand: "mvn -B package -DskipTests",
                testCommand: "mvn -B test", startCommand: "java -jar target/*.jar")
        case .dotnet:
            base = DetectedStack(
                language: .dotnet, packageManager: "dotnet", installCommand: "dotnet restore",
                buildCommand: "dotnet publish -c Release -o out", testCommand: "dotnet test")
        case .rust:
            base = DetectedStack(
                language: .rust, packageManager: "cargo", buildCommand: "cargo build --release",
                testCommand: "cargo test")
        case .swift:
            base = DetectedStack(
                language: .swift, packageManager: "swiftpm",
                buildCommand: "swift build -c release --static-swift-stdlib",
                testCommand: "swift test")
        case .staticSite:
            base = staticSite(directory)
        case .docker:
            base = DetectedStack(
                language: .docker, packageManager: "docker", buildCommand: "docker build -t app .",
                startCommand: "docker run -d --name app --restart unless-stopped -p 8080:8080 app")
        }
        var stack = base
        stack.directory = directory
        stack.evidence = []
        stack.score = 0
        return stack
    }

    // MARK: - Helpers

    /// `dir` and each ancestor up to the root: `"a/b"` → `["a/b", "a", ""]`.
    static func ancestors(of dir: String) -> [String] {
        var result = [dir]
        var parts = dir.split(separator: "/")
        while !parts.isEmpty {
            parts.removeLast()
            result.append(parts.joined(separator: "/"))
        }
        return result
    }

    /// Whether `text` is a plain relative path safe to put in a command line: `[A-Za-z0-9._/-]`, no `..`,
    /// not starting with `-` or `/`.
    static func safeRelativePath(_ text: String) -> Bool {
        !text.isEmpty && !text.hasPrefix("-") && !text.hasPrefix("/") && !text.contains("..")
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._/-".contains($0)) }
    }
}
