/// The version of this build (`pipewright --version`, `GET /health`, the `serve` banner).
///
/// `version` is the release number, bumped by hand when a release is cut; `commit` is the git commit the
/// binary was built from, written at build time by `BuildInfoPlugin` (12 hex digits, `-dirty` when the
/// work tree had uncommitted changes, `unknown` outside a git checkout; docs/operations.md "Version").
public enum BuildInfo {
    public static let version = "0.13.0"
    public static let commit = buildCommit

    /// `0.13.0 (commit 1a2b3c4d5e6f)`.
    public static var description: String { "\(version) (commit \(commit))" }
}
