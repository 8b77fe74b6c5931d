/// How an SSH connection treats a server whose host key is not yet pinned
/// (`PIPEWRIGHT_HOST_KEY_POLICY`).
///
/// Once a key is pinned, both policies refuse any other key with
/// ``SSHKeyError/hostKeyMismatch(pinned:presented:)``.
public enum HostKeyPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Trust on first use: with no pinned key, accept the key the server presents
    /// (OpenSSH `StrictHostKeyChecking=accept-new`) and report it so the caller can pin it.
    case tofu
    /// Only pre-approved keys: with no pinned key, refuse with ``SSHKeyError/hostKeyUnknown(presented:)``
    /// before connecting (so no password is ever sent to an unverified server).
    case strict
}
