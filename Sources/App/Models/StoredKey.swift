import Fluent
import Foundation
import PipewrightCore

/// An SSH key pair. The private key (and its passphrase, when it has one) are stored sealed with
/// AES-256-GCM under the master key (`SealedSecret`), with `"ssh_keys:<id>:<column>"` as associated data.
///
/// Named `StoredKey` to stay clear of the domain's key types; the table is `ssh_keys`.
/// `@unchecked Sendable`: see `User`.
final class StoredKey: Model, @unchecked Sendable {
    static let schema = "ssh_keys"

    /// `active` keys can be deployed; a rotated key becomes `retired`.
    enum Status: String, Codable, Sendable {
        case active, retired
    }

    // managed fields
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    // reference fields
    @Parent(key: "owner_id") var owner: User

    // data fields
    @Field(key: "comment") var comment: String
    @Field(key: "exportable") var exportable: Bool
    @Field(key: "fingerprint_md5") var fingerprintMD5: String
    @Field(key: "fingerprint_sha256") var fingerprintSHA256: String
    @Field(key: "key_size") var keySize: Int
    @Field(key: "key_type") var keyType: String
    @OptionalField(key: "last_used_at") var lastUsedAt: Date?
    @Field(key: "name") var name: String
    @Field(key: "public_key") var publicKey: String
    /// Base64 of the sealed passphrase envelope, when the key has a passphrase.
    @OptionalField(key: "sealed_passphrase") var sealedPassphrase: String?
    /// Base64 of the sealed private key envelope (unencrypted openssh-key-v1 text inside).
    @OptionalField(key: "sealed_private_key") var sealedPrivateKey: String?
    @Field(key: "status") var status: Status

    @Children(for: \.$key) var deployments: [KeyDeployment]

    init() {}

}
