/// Refusals of provisioning as a whole (per-item problems are item conflicts or failures instead).
enum ProvisioningError: Error, Sendable, Equatable {
    /// The pipeline's SSH key row is gone or has no private key Pipewright can send.
    case keyUnavailable(keyID: Int)
    /// A server of the pipeline no longer exists.
    case serverMissing(serverID: Int)
}
