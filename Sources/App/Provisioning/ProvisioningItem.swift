/// One thing the generated `bitbucket-pipelines.yml` needs in the repository's Bitbucket settings, with the
/// desired state, what Bitbucket holds now and what an apply would do (docs/provisioning.md, docs/API.md
/// "Provisioning").
struct ProvisioningItem: Sendable, Equatable {
    /// What the item is.
    enum Kind: String, Sendable, CaseIterable {
        /// `pipelines_config`: Pipelines enabled for the repository.
        case pipelines
        /// `pipelines_config/ssh/key_pair`: the pipeline's managed key.
        case keyPair = "key_pair"
        /// One `pipelines_config/ssh/known_hosts/` entry per target server, from Pipewright's pins.
        case knownHost = "known_host"
        /// One repository variable the generated YAML reads (`DEPLOY_PATH`, `DEPLOY_HOST_i`, …).
        case variable
        /// The deployment environment named by the Deploy step's `deployment:`.
        case environment
    }

    /// What an apply does with the item.
    enum Action: String, Sendable {
        /// Bitbucket has nothing yet: it will be written.
        case create
        /// Bitbucket holds something else (drift, a changed pin, a new key): it will be overwritten.
        case update
        /// Bitbucket already holds the desired state.
        case none
        /// Pipewright will not write it; ``ProvisioningItem/conflict`` says why.
        case conflict
    }

    /// Why an item is a conflict: a stable code and a sentence.
    struct Conflict: Sendable, Equatable {
        /// `host_key_not_pinned`, `foreign_key_pair`, `key_type_unsupported`.
        var code: String
        var message: String
    }

    var kind: Kind
    /// `pipelines`, `key_pair`, the known host's `hostname` (`[host]:port` when the port is not 22), the
    /// variable name, or the environment name.
    var name: String
    var desired: ProvisionedState
    /// `nil` when Bitbucket has nothing for the item.
    var current: ProvisionedState?
    var action: Action
    /// Why the item is `update` (e.g. the pinned host key changed), when there is more to say.
    var reason: String?
    var conflict: Conflict?
    /// Bitbucket's UUID of the current variable or known host (the target of an update).
    var bitbucketUUID: String?
    /// The server a known host belongs to.
    var serverID: Int?
    /// A key pair update that replaces a key Pipewright did not put there.
    var replacesForeignKeyPair = false
}

/// The state of one item, desired or current. Only the fields of the item's kind are set; nothing secret is
/// ever held here (a secured variable has `secured: true` and no value; a key pair only its public half).
struct ProvisionedState: Sendable, Equatable {
    /// `pipelines`: whether Pipelines is enabled.
    var enabled: Bool?
    /// `variable`: the value, `nil` when secured.
    var value: String?
    /// `variable`: whether the value is secured.
    var secured: Bool?
    /// `key_pair`: the OpenSSH public key line.
    var publicKey: String?
    /// `key_pair`, `known_host`: `SHA256:` fingerprint of the key.
    var fingerprintSHA256: String?
    /// `known_host`: SSH algorithm, e.g. `ssh-ed25519`.
    var keyType: String?
    /// `known_host`: base64 of the host key blob.
    var key: String?
    /// `environment`: `Test`, `Staging` or `Production`.
    var environmentType: String?
}
