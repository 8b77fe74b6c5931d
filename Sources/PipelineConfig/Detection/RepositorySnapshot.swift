/// A read-only view of a repository at one commit, as seen by `StackDetector`.
///
/// `paths` lists the repository's files (not directories): relative, `/`-separated, without a leading
/// `./` or `/`, e.g. `["package.json", "backend/requirements.txt"]`. Listings up to depth 4 are enough
/// for detection; deeper paths are ignored. `read(_:)` returns a file's text, or `nil` when the file
/// does not exist or is not text. The App implements it with Bitbucket's `/src` endpoint, so the
/// detector reads only the few manifest files it needs (lock files count by presence alone).
public protocol RepositorySnapshot: Sendable {
    /// Every file path of the snapshot, relative to the repository root and `/`-separated.
    var paths: [String] { get }

    /// Returns the UTF-8 text of the file at `path` (one of `paths`), or `nil` when absent or binary.
    ///
    /// - Throws: whatever the underlying transport throws (the App's Bitbucket client errors);
    ///   `StackDetector.detect` propagates it unchanged.
    func read(_ path: String) async throws -> String?
}

/// A `RepositorySnapshot` backed by a dictionary of path → content; for tests and fixtures.
public struct InMemoryRepositorySnapshot: RepositorySnapshot {
    /// File contents by relative path.
    public let files: [String: String]

    /// Creates a snapshot whose `paths` are the dictionary's keys (in the given order as far as a
    /// dictionary has one; the detector never depends on that order).
    public init(files: [String: String]) { self.files = files }

    /// The keys of `files`.
    public var paths: [String] { Array(files.keys) }

    /// The stored content, or `nil` when `path` is not a key.
    public func read(_ path: String) async throws -> String? { files[path] }
}

/// A `RepositorySnapshot` made of a path list and a read closure; how the App adapts its API client.
public struct ClosureRepositorySnapshot: RepositorySnapshot {
    /// Every file path of the snapshot.
    public let paths: [String]
    private let reader: @Sendable (String) async throws -> String?

    /// Creates a snapshot.
    ///
    /// - Parameters:
    ///   - paths: Every file path, relative and `/`-separated.
    ///   - read: Fetches one file's text, `nil` when absent; called at most once per path per detection.
    public init(paths: [String], read: @escaping @Sendable (String) async throws -> String?) {
        self.paths = paths
        self.reader = read
    }

    /// Calls the closure given at initialisation.
    public func read(_ path: String) async throws -> String? { try await reader(path) }
}
