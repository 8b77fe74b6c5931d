/// One entry of the repository's Pipelines known hosts, from
/// `GET /repositories/{workspace}/{repo_slug}/pipelines_config/ssh/known_hosts/`:
///
/// ```json
/// {"type": "pipeline_known_host", "uuid": "{…}", "hostname": "[deploy.example.com]:2222",
///  "public_key": {"type": "pipeline_ssh_public_key", "key_type": "ssh-ed25519", "key": "AAAAC3Nz…",
///                 "md5_fingerprint": "md5:…", "sha256_fingerprint": "SHA256:…"}}
/// ```
///
/// `hostname` uses OpenSSH's `[host]:port` form for ports other than 22; `key` is the bare base64 blob
/// (no algorithm, no comment). Hostnames are unique per repository (a duplicate `POST` answers 409).
///
/// https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/#api-repositories-workspace-repo-slug-pipelines-config-ssh-known-hosts-get
public struct BitbucketKnownHost: Sendable, Equatable, Decodable {
    /// The host's public key.
    public struct PublicKey: Sendable, Equatable, Codable {
        /// SSH algorithm name, e.g. `ssh-ed25519`.
        public var keyType: String
        /// Base64 of the key blob.
        public var key: String
        /// `SHA256:…` as Bitbucket computed it, when returned.
        public var sha256Fingerprint: String?

        /// Creates a public key value.
        public init(keyType: String, key: String, sha256Fingerprint: String? = nil) {
            self.keyType = keyType
            self.key = key
            self.sha256Fingerprint = sha256Fingerprint
        }

        enum CodingKeys: String, CodingKey {
            case keyType = "key_type"
            case key
            case sha256Fingerprint = "sha256_fingerprint"
        }
    }

    /// Braced UUID.
    public var uuid: String
    /// `host` for port 22, `[host]:port` otherwise.
    public var hostname: String
    /// The pinned key.
    public var publicKey: PublicKey

    /// Creates a known host value.
    public init(uuid: String, hostname: String, publicKey: PublicKey) {
        self.uuid = uuid
        self.hostname = hostname
        self.publicKey = publicKey
    }

    enum CodingKeys: String, CodingKey {
        case uuid, hostname
        case publicKey = "public_key"
    }

    /// The `hostname` Bitbucket (and OpenSSH's `known_hosts`) uses for `host:port`: the bare host for 22,
    /// `[host]:port` otherwise.
    public static func hostname(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }
}
