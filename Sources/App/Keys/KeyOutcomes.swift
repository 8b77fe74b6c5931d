import Foundation
import PipewrightCore
import SSHKeys
import Vapor

/// One server's outcome of a deploy, undeploy or rotate.
struct ServerOperationResult: Sendable {
    /// What happened on the server.
    enum Outcome: Sendable {
        /// The key line was appended, or was already there (`SSHKeys.KeyDeploymentResult`).
        case deployed(KeyDeploymentResult.Outcome)
        /// The key line was removed, or was not there (`SSHKeys.KeyRemovalResult`).
        case removed(KeyRemovalResult.Outcome)
        /// The successor was deployed and verified, and the old key removed.
        case rotated
        /// Nothing (or not everything) was done; the error says why.
        case failed(any Error)
        /// The edit was cut off and may or may not have happened (`SSHKeyError.outcomeUnknown`); the ledger
        /// says `unknown` until the next test or deploy finds out.
        case unknown(any Error)
    }

    /// The server row, when it could be read.
    var server: Server?
    /// `user@host:port`.
    var target: String
    var outcome: Outcome
    /// Wall-clock time spent on this server.
    var duration: Duration

    var error: (any Error)? {
        switch outcome {
        case .failed(let error), .unknown(let error): error
        default: nil
        }
    }

    var succeeded: Bool { error == nil }

    /// The stable name of the outcome: `deployed`, `already_present`, `removed`, `absent`, `rotated`, `failed`,
    /// `unknown`.
    var status: String {
        switch outcome {
        case .deployed(.added): "deployed"
        case .deployed(.alreadyPresent): "already_present"
        case .removed(.removed): "removed"
        case .removed(.absent): "absent"
        case .rotated: "rotated"
        case .failed: "failed"
        case .unknown: "unknown"
        }
    }

    static func failed(_ target: ResolvedTarget, _ error: any Error, after duration: Duration = .zero) -> Self {
        ServerOperationResult(
            server: target.server, target: target.sshTarget.description, outcome: .failed(error), duration: duration)
    }
}

/// One server's outcome of a connection test with a key.
struct ServerTestResult: Sendable {
    var server: Server?
    /// `user@host:port`.
    var target: String
    /// The login's round trip and the remote account (`id -un`), or why it failed.
    var outcome: Result<(latency: Duration, remoteUser: String), any Error>

    var succeeded: Bool {
        if case .success = outcome { return true }
        return false
    }

    /// Why the login failed, `nil` when it worked.
    var error: (any Error)? {
        if case .failure(let error) = outcome { return error }
        return nil
    }

    static func failed(_ target: ResolvedTarget, _ error: any Error) -> Self {
        ServerTestResult(server: target.server, target: target.sshTarget.description, outcome: .failure(error))
    }
}

/// The outcome of a rotation: the successor key, and the old key retired only when every server succeeded.
struct KeyRotation: Sendable {
    var successor: StoredKey
    var successorDeployments: [KeyDeployment]
    var retiredKeyID: Int?
    var results: [ServerOperationResult]
    /// The Bitbucket repositories whose key pair followed the rotation (docs/provisioning.md "Rotation").
    var repositories: [RepositoryKeyPairResult] = []
    var succeeded: Bool { results.allSatisfy(\.succeeded) && repositories.allSatisfy(\.succeeded) }
}

/// The outcome of deleting a key.
enum KeyDeletion: Sendable {
    /// The row is gone (and the key was removed from the servers it was recorded on, if asked).
    case deleted
    /// Removing the key from its servers failed somewhere; the key row is kept.
    case undeployFailed([ServerOperationResult])
}

/// Per-server refusals decided by Pipewright before any SSH runs.
enum KeyOperationError: APIErrorConvertible, Equatable {
    /// Removing this key would leave no working Pipewright key on the server.
    case wouldLockOut
    /// No password was given and no usable Pipewright key is recorded on the server.
    case noCredentials
    /// A rotation kept the old key on this server (the new key is there too) because another step failed.
    case rotationHeld(reason: String)

    var status: HTTPResponseStatus {
        switch self {
        case .wouldLockOut: .conflict
        case .noCredentials: .unprocessableEntity
        case .rotationHeld: .conflict
        }
    }

    var code: String {
        switch self {
        case .wouldLockOut: "would_lock_out"
        case .noCredentials: "no_credentials"
        case .rotationHeld: "rotation_held"
        }
    }

    var message: String {
        switch self {
        case .wouldLockOut:
            "No other working Pipewright key is deployed on this server; removing this one could lock you out (use force)."
        case .noCredentials:
            "No password was given and no working Pipewright key is recorded on this server."
        case .rotationHeld(let reason):
            "The old key stays on this server (the new key was added and verified) because \(reason)."
        }
    }

    var details: [String: String] { [:] }
}
