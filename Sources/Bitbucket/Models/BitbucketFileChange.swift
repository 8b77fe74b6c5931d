/// One path changed by ``BitbucketAPI/createCommit(workspace:slug:branch:parents:message:author:changes:)``.
public enum BitbucketFileChange: Sendable, Equatable {
    /// Create or overwrite `path` (from the repository root, no leading `/`) with `contents`.
    /// `executable` sends `x-attributes: executable` (must be re-sent to keep an executable bit).
    case write(path: String, contents: [UInt8], executable: Bool = false)
    /// Delete `path` (sent as a `files` field with no content part).
    case delete(path: String)

    /// The path, without a leading `/`.
    public var path: String {
        switch self {
        case .write(let path, _, _), .delete(let path): path.hasPrefix("/") ? String(path.dropFirst()) : path
        }
    }
}
