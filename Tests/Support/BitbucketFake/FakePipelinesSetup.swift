import Crypto
import Foundation

/// A repository's Pipelines configuration in the fake: enablement, variables, SSH key pair, known hosts and
/// deployment environments (docs: https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pipelines/).
///
/// Tests read it through ``FakeBitbucketServer/pipelinesSetup(workspace:slug:)`` and change it "by hand"
/// (as someone in Bitbucket's settings would) through ``FakeBitbucketServer/editPipelinesSetup(workspace:slug:_:)``.
public struct FakePipelinesSetup: Sendable {
    /// `nil` until the first `PUT pipelines_config` (`GET` then answers 404, as Bitbucket does for a repository
    /// that never had Pipelines configured).
    public var enabled: Bool?
    /// Repository variables, in creation order.
    public var variables: [FakeVariable] = []
    /// The one SSH key pair, or `nil`.
    public var keyPair: FakeKeyPair?
    /// Known hosts, in creation order.
    public var knownHosts: [FakeKnownHost] = []
    /// Deployment environments, in creation order.
    public var environments: [FakeEnvironment] = []

    /// An empty configuration.
    public init() {}
}

/// A repository or deployment variable. The fake keeps secured values (to check what was written);
/// responses never show them.
public struct FakeVariable: Sendable, Equatable {
    /// Braced UUID.
    public var uuid: String
    /// Variable name.
    public var key: String
    /// The stored value.
    public var value: String
    /// Whether the value is hidden in responses.
    public var secured: Bool

    /// Creates a variable (a new UUID unless given).
    public init(uuid: String = FakeIdentifiers.uuid(), key: String, value: String, secured: Bool) {
        self.uuid = uuid
        self.key = key
        self.value = value
        self.secured = secured
    }

    /// `{"type", "uuid", "key", "value", "secured"}` — `value` left out when secured.
    func json(type: String) -> FakeJSON {
        var json: FakeJSON = [
            "type": .string(type), "uuid": .string(uuid), "key": .string(key), "secured": .bool(secured),
        ]
        if !secured { json = json.setting("value", .string(value)) }
        return json
    }
}

/// The repository's SSH key pair. The fake keeps the private key so tests can use it like a build container
/// would; no response ever includes it.
public struct FakeKeyPair: Sendable, Equatable {
    /// The private key text as sent.
    public var privateKey: String
    /// The public key line as sent.
    public var publicKey: String

    /// Creates a key pair.
    public init(privateKey: String, publicKey: String) {
        self.privateKey = privateKey
        self.publicKey = publicKey
    }
}

/// One known host: `hostname` (`[host]:port` for ports other than 22), algorithm and bare base64 blob.
public struct FakeKnownHost: Sendable, Equatable {
    /// Braced UUID.
    public var uuid: String
    /// Host name as sent.
    public var hostname: String
    /// SSH algorithm, e.g. `ssh-ed25519`.
    public var keyType: String
    /// Base64 of the key blob.
    public var key: String

    /// Creates a known host (a new UUID unless given).
    public init(uuid: String = FakeIdentifiers.uuid(), hostname: String, keyType: String, key: String) {
        self.uuid = uuid
        self.hostname = hostname
        self.keyType = keyType
        self.key = key
    }

    /// The OpenSSH `known_hosts` line Bitbucket writes into the build container.
    public var knownHostsLine: String { "\(hostname) \(keyType) \(key)" }

    var json: FakeJSON {
        let blob = Data(base64Encoded: key) ?? Data()
        let sha = Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
        let md5 = Insecure.MD5.hash(data: blob).map { String(format: "%02x", $0) }.joined(separator: ":")
        return [
            "type": "pipeline_known_host", "uuid": .string(uuid), "hostname": .string(hostname),
            "public_key": [
                "type": "pipeline_ssh_public_key", "key_type": .string(keyType), "key": .string(key),
                "md5_fingerprint": .string("md5:" + md5), "sha256_fingerprint": .string("SHA256:" + sha),
            ],
        ]
    }
}

/// A deployment environment and its variables.
public struct FakeEnvironment: Sendable, Equatable {
    /// Braced UUID.
    public var uuid: String
    /// Display name.
    public var name: String
    /// `Test`, `Staging` or `Production`.
    public var typeName: String
    /// 0, 1 or 2.
    public var rank: Int
    /// Deployment variables.
    public var variables: [FakeVariable] = []

    /// Creates an environment (a new UUID unless given).
    public init(uuid: String = FakeIdentifiers.uuid(), name: String, typeName: String, rank: Int) {
        self.uuid = uuid
        self.name = name
        self.typeName = typeName
        self.rank = rank
    }

    var json: FakeJSON {
        [
            "type": "deployment_environment", "uuid": .string(uuid), "name": .string(name),
            "slug": .string(name.lowercased()),
            "environment_type": [
                "type": "deployment_environment_type", "name": .string(typeName), "rank": .int(rank),
            ],
        ]
    }
}
