import Foundation

/// Finds the application stacks of a repository from its file list and a few manifest reads.
///
/// Detection is deterministic and order-independent: paths are normalised and sorted first, directories
/// are visited shallowest first, and candidates are ranked by score, then `StackLanguage` order, then
/// directory. Only manifests are read (`package.json`, `pyproject.toml`, `requirements.txt`, `go.mod`,
/// `Gemfile`, `composer.json`, `pom.xml`, `build.gradle(.kts)`, `*.csproj`, `Cargo.toml`,
/// `Package.swift`, version files such as `.nvmrc`, and a `Dockerfile` only when nothing else is in its
/// directory); lock files count by presence alone, and at most `maxManifestReads` files are read.
///
/// Directories that never create a stack: dependency and build output (`node_modules`, `vendor`, `dist`,
/// `build`, `target`, `.venv`, …), tests and examples (`test`, `tests`, `examples`, `fixtures`, …),
/// edge-function folders (`supabase/`, `netlify/edge-functions/`, any directory with `deno.json`), and
/// anything deeper than `maxDirectoryDepth`.
///
/// Worked example — `frontend/package.json` (react, vite) + `backend/requirements.txt` (fastapi):
/// two candidates scoring 55 and 40, no real app at the root, so `isMonorepo == true`, `stacks` holds
/// both (sorted by directory: backend, frontend) and `primary` is the frontend (higher score).
public enum StackDetector {
    /// Deepest directory level searched: `a/b/c/d/package.json` (depth 4) is seen, `a/b/c/d/e/…` is not.
    public static let maxDirectoryDepth = 4
    /// A candidate at or above this score is a "real" application for monorepo purposes.
    public static let realApplicationScore = 20

    /// Detects the stacks of `snapshot`, then applies `override`.
    ///
    /// - Parameters:
    ///   - snapshot: The repository's files; `read` is called once per manifest at most.
    ///   - override: User corrections; `nil` or empty keeps the detection as is.
    ///   - maxManifestReads: Upper bound on `snapshot.read` calls (shallow directories are read first).
    /// - Returns: The report; `primary` is `nil` for a repository with nothing recognisable.
    /// - Throws: Errors from `snapshot.read` unchanged; `PipelineConfigError.invalidOverride` when the
    ///   override names a directory with no application, or sets fields but no `language` while nothing
    ///   was detected.
    public static func detect(
        _ snapshot: some RepositorySnapshot,
        override: StackOverride? = nil,
        maxManifestReads: Int = 40
    ) async throws -> DetectionReport {
        let layout = RepositoryLayout(paths: snapshot.paths, maxDepth: maxDirectoryDepth)
        var reader = ManifestReader(snapshot: snapshot, limit: maxManifestReads)
        var candidates: [DetectedStack] = []
        for directory in layout.orderedDirectories {
            candidates += try await LanguageProbes.probe(directory: directory, layout: layout, reader: &reader)
        }
        candidates.sort(by: ranksBefore)

        var (isMonorepo, stacks) = groupApplications(candidates)
        var primary = candidates.first
        if let override, !override.isEmpty {
            let (base, forced) = try apply(override, to: candidates, primary: primary)
            primary = forced
            if let index = stacks.firstIndex(where: { $0 == base }) {
                stacks[index] = forced
            } else if !isMonorepo {
                stacks = [forced]
            }
        }
        if !isMonorepo { stacks = primary.map { [$0] } ?? [] }
        if primary == nil { isMonorepo = false }
        return DetectionReport(primary: primary, candidates: candidates, isMonorepo: isMonorepo, stacks: stacks)
    }

    /// Ranking: higher score, then `StackLanguage` order, then directory path.
    static func ranksBefore(_ lhs: DetectedStack, _ rhs: DetectedStack) -> Bool {
        if lhs.score != rhs.score { return lhs.score > rhs.score }
        if lhs.language != rhs.language { return lhs.language < rhs.language }
        if lhs.directory != rhs.directory { return lhs.directory < rhs.directory }
        return (lhs.packageManager ?? "") < (rhs.packageManager ?? "")
    }

    /// Groups real applications by application directory (a nested app joins its nearest real ancestor).
    /// Monorepo: no real app at the root and at least two application directories.
    static func groupApplications(_ ranked: [DetectedStack]) -> (isMonorepo: Bool, stacks: [DetectedStack]) {
        let real = ranked.filter { $0.score >= realApplicationScore && $0.language != .docker }
        if real.contains(where: { $0.directory.isEmpty }) { return (false, []) }
        var appDirectories: [String] = []
        for directory in Set(real.map(\.directory)).sorted(by: { ($0.count, $0) < ($1.count, $1) }) {
            if !appDirectories.contains(where: { directory.hasPrefix($0 + "/") }) {
                appDirectories.append(directory)
            }
        }
        guard appDirectories.count >= 2 else { return (false, []) }
        let stacks = appDirectories.sorted().compactMap { app in
            real.first { $0.directory == app || $0.directory.hasPrefix(app + "/") }
        }
        return (true, stacks)
    }

    /// Applies `override`; returns the base stack it started from (`nil` when synthesised) and the result.
    static func apply(
        _ override: StackOverride,
        to candidates: [DetectedStack],
        primary: DetectedStack?
    ) throws -> (base: DetectedStack?, result: DetectedStack) {
        var pool = candidates
        if let directory = override.directory {
            pool = pool.filter { $0.directory == directory }
        }
        if let language = override.language {
            pool = pool.filter { $0.language == language }
        }
        let base = pool.first
        var stack: DetectedStack
        if let base {
            stack = base
        } else if let language = override.language {
            let directory = override.directory ?? primary?.directory ?? ""
            stack = LanguageProbes.defaults(for: language, directory: directory)
        } else if override.directory != nil {
            throw PipelineConfigError.invalidOverride(field: "directory", reason: "no application was detected there")
        } else {
            throw PipelineConfigError.invalidOverride(field: "language", reason: "required when nothing was detected")
        }

        var changed: [String] = []
        func set<T: Equatable>(_ keyPath: WritableKeyPath<DetectedStack, T>, _ value: T?, _ name: String) {
            guard let value else { return }
            stack[keyPath: keyPath] = value
            changed.append(name)
        }
        func setOptional(_ keyPath: WritableKeyPath<DetectedStack, String?>, _ value: String?, _ name: String) {
            guard let value else { return }
            stack[keyPath: keyPath] = value.isEmpty ? nil : value
            changed.append(name)
        }
        set(\.language, override.language, "language")
        setOptional(\.framework, override.framework, "framework")
        setOptional(\.runtimeVersion, override.runtimeVersion, "runtime_version")
        setOptional(\.packageManager, override.packageManager, "package_manager")
        setOptional(\.installCommand, override.installCommand, "install_command")
        if let build = override.buildCommand {
            guard !build.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw PipelineConfigError.invalidOverride(field: "build_command", reason: "must not be empty")
            }
            set(\.buildCommand, build, "build_command")
        }
        setOptional(\.testCommand, override.testCommand, "test_command")
        setOptional(\.startCommand, override.startCommand, "start_command")
        set(\.directory, override.directory, "directory")
        stack.evidence.append(Evidence(file: "(override)", reason: "set by user: " + changed.joined(separator: ", ")))
        return (base, stack)
    }
}

/// The normalised file list: sorted unique paths, directories with their file names.
struct RepositoryLayout {
    /// Directory names that never hold a stack (dependencies, build output, tests, examples, tooling).
    static let ignoredComponents: Set<String> = [
        "node_modules", "bower_components", "vendor", ".git", ".github", ".bitbucket", "dist", "build", "out",
        "target", "bin", "obj", ".venv", "venv", "env", "__pycache__", ".build", ".swiftpm", "Pods", ".next",
        ".nuxt", ".output", "coverage", "test", "tests", "__tests__", "spec", "testdata", "fixtures",
        "example", "examples", "samples", "supabase", ".vscode", ".idea", ".husky",
    ]
    /// Markers of Deno / edge-function folders: their directory and everything below is skipped.
    static let edgeFunctionMarkers: Set<String> = ["deno.json", "deno.jsonc", "import_map.json"]

    /// Every normalised path, including ignored ones (for existence checks such as `tests/`).
    let allPaths: Set<String>
    /// Searchable directories → file names directly inside them.
    let directories: [String: Set<String>]

    init(paths: [String], maxDepth: Int) {
        var all = Set<String>()
        for raw in paths {
            var path = raw.replacingOccurrences(of: "\\", with: "/")
            while path.hasPrefix("./") { path.removeFirst(2) }
            while path.hasPrefix("/") { path.removeFirst() }
            if !path.isEmpty, !path.hasSuffix("/") { all.insert(path) }
        }
        allPaths = all
        var edgeDirectories = Set<String>()
        for path in all {
            let parts = path.split(separator: "/").map(String.init)
            if let name = parts.last, Self.edgeFunctionMarkers.contains(name) {
                edgeDirectories.insert(parts.dropLast().joined(separator: "/"))
            }
        }
        var directories: [String: Set<String>] = [:]
        for path in all {
            let parts = path.split(separator: "/").map(String.init)
            let folders = parts.dropLast()
            guard folders.count <= maxDepth,
                !folders.contains(where: { Self.ignoredComponents.contains($0) }),
                !folders.contains(where: { $0 == "edge-functions" })
            else { continue }
            let directory = folders.joined(separator: "/")
            if edgeDirectories.contains(where: { directory == $0 || directory.hasPrefix($0 + "/") }) { continue }
            directories[directory, default: []].insert(parts[parts.count - 1])
        }
        self.directories = directories
    }

    /// Directories, shallowest first, then by path.
    var orderedDirectories: [String] {
        directories.keys.sorted { lhs, rhs in
            let (l, r) = (
                lhs.isEmpty ? 0 : lhs.split(separator: "/").count, rhs.isEmpty ? 0 : rhs.split(separator: "/").count
            )
            return l != r ? l < r : lhs < rhs
        }
    }

    /// `directory` + `/` + `name`, or `name` at the root.
    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }

    /// Whether the file `name` exists directly in `directory`.
    func has(_ directory: String, _ name: String) -> Bool {
        allPaths.contains(Self.join(directory, name))
    }

    /// Whether any path lies under `directory/sub/`.
    func hasFolder(_ directory: String, _ sub: String) -> Bool {
        let prefix = Self.join(directory, sub) + "/"
        return allPaths.contains { $0.hasPrefix(prefix) }
    }

    /// File names in `directory` (searchable directories only).
    func files(in directory: String) -> Set<String> { directories[directory] ?? [] }
}

/// Reads manifests through the snapshot with a cache and a read budget.
struct ManifestReader {
    let snapshot: any RepositorySnapshot
    let limit: Int
    private(set) var reads = 0
    private var cache: [String: String?] = [:]

    init(snapshot: any RepositorySnapshot, limit: Int) {
        self.snapshot = snapshot
        self.limit = limit
    }

    /// The file's text, `nil` when absent, binary or over budget.
    mutating func read(_ path: String) async throws -> String? {
        if let cached = cache[path] { return cached }
        guard reads < limit else { return nil }
        reads += 1
        let text = try await snapshot.read(path)
        cache[path] = .some(text)
        return text
    }
}
