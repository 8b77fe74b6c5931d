import Fluent
import Foundation
import PipewrightCore
import Vapor

/// `POST /api/admin/master-key/rotate` (admin): online master-key rotation (docs/API.md "Master key").
struct MasterKeyController: RouteCollection {
    static let rotatePath = "/api/admin/master-key/rotate"

    func boot(routes: any RoutesBuilder) throws {
        routes.post("admin", "master-key", "rotate", use: rotate)
    }

    /// Re-seals every stored secret under a new master key while the service runs.
    ///
    /// - Returns: 200 `{"key_id": "…", "resealed": 12, "key_file": "/var/lib/pipewright/master.key"}`.
    /// - Throws: 403 `forbidden` for non-admins; 409 `master_key_in_environment` when the key comes from
    ///   `PIPEWRIGHT_MASTER_KEY` (rotate offline with `--new-key-file`); 409 `key_file_exists` when
    ///   `<key file>.new` is left from an earlier rotation (`KeyFileExistsError`).
    @Sendable func rotate(req: Request) async throws -> MasterKeyRotationResponse {
        try req.requireUser().require(.rotateMasterKey)
        return try await AuditLog.audited(req, .masterKeyRotate) { note in
            let result = try await MasterKeyRotation.rotateOnline(app: req.application)
            note.details["key_id"] = result.newKey.id
            note.details["resealed"] = String(result.count)
            return MasterKeyRotationResponse(keyID: result.newKey.id, resealed: result.count, keyFile: result.path)
        }
    }
}

/// Body of a successful rotation.
struct MasterKeyRotationResponse: Content {
    /// Id of the new key (as in `SealedSecret` envelopes and the refusal messages).
    var keyID: String
    /// Number of sealed values re-sealed.
    var resealed: Int
    /// Where the new key was written.
    var keyFile: String

    enum CodingKeys: String, CodingKey {
        case keyID = "key_id"
        case resealed
        case keyFile = "key_file"
    }
}
