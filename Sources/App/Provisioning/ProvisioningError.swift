/// Refusals of provisioning as a whole (per-item problems are item conflicts or failures instead).
enum ProvisioningError: Error, Sendable, Equatable {
    /// The pipeline's SSH key row is gone or has no private key Pipewright can send.
    case keyUnavailable(keyID: Int)
    /// A server of the pipeline no longer exists.
    case serverMissing(serverID: Int)
    /// `generate_rsa_key`: the new RSA key could not be deployed to these targets (`user@host:port`); the
    /// pipeline keeps its key.
    case rsaKeyNotDeployed(keyID: Int, targets: [String])
}
