import Fluent
import Foundation
import PipewrightCore

/// One row of the deployment ledger: key K is (or was) in `authorized_keys` of server S.
///
/// `@unchecked Sendable`: see `User`.
final class KeyDeployment: Model, @unchecked Sendable {
    static let schema = "key_deployments"

    /// How the key got there.
    enum Method: String, Codable, Sendable {
        case password, key
    }

    /// What we last knew: `present` (deployed or verified), `missing` (a test showed it was removed by
    /// hand), `unknown`.
    enum Status: String, Codable, Sendable {
        case present, missing, unknown
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?

    // reference fields
    @Parent(key: "key_id") var key: StoredKey
    @Parent(key: "server_id") var server: Server

    // data fields
    @Field(key: "deployed_at") var deployedAt: Date
    @Field(key: "deployed_by") var deployedBy: String
    @OptionalField(key: "last_verified_at") var lastVerifiedAt: Date?
    @Field(key: "method") var method: Method
    @Field(key: "status") var status: Status

    init() {}
}
