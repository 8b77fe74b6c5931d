import Crypto
import Foundation

/// `manifest.json` of a backup directory (docs/operations.md "Backup and restore").
///
/// ```json
/// {"format": "pipewright-backup/1", "created_at": "2026-12-07T00:10:00Z", "version": "0.13.0",
///  "commit": "1a2b3c4d5e6f", "database": "sqlite", "includes_master_key": false,
///  "files": [{"path": "database/pipewright.sqlite", "size_bytes": 98304, "sha256": "…"}, …]}
/// ```
/// Paths are relative to the backup directory; `sha256` is lower-case hex of the whole file.
struct BackupManifest: Codable, Equatable {
    static let fileName = "manifest.json"
    static let currentFormat = "pipewright-backup/1"

    /// One file of the backup.
    struct File: Codable, Equatable {
        var path: String
        var sizeBytes: Int64
        var sha256: String

        enum CodingKeys: String, CodingKey {
            case path
            case sizeBytes = "size_bytes"
            case sha256
        }
    }

    var format: String
    var createdAt: String
    var version: String
    var commit: String
    /// `sqlite` (file `database/pipewright.sqlite`) or `postgres` (file `database/pipewright.pgdump`, custom format).
    var database: String
    var includesMasterKey: Bool
    /// Id of the master key the backup's secrets open with (`MasterKey.id`); absent in backups made before
    /// it was recorded.
    var masterKeyID: String?
    var files: [File]

    enum CodingKeys: String, CodingKey {
        case format
        case createdAt = "created_at"
        case version, commit, database
        case includesMasterKey = "includes_master_key"
        case masterKeyID = "master_key_id"
        case files
    }

    /// SHA-256 of a file, streamed in 1 MiB chunks.
    static func sha256(ofFile path: String) throws -> (hex: String, size: Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CommandFailure("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
    }

    /// Every regular file under `directory`, as paths relative to it, sorted.
    static func files(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var result: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + relative, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                result.append(relative)
            }
        }
        return result.sorted()
    }
}
