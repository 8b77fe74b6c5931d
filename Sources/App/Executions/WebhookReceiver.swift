import Crypto
import Fluent
import Foundation
import PipewrightCore

/// Bitbucket's webhook for a pipeline: signed with the pipeline's secret
/// (`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`, RFC 2104, compared in constant time).
/// A good signature wakes the monitors of the pipeline's active executions at once.
struct WebhookReceiver: Sendable {
    let db: any Database
    let vault: SecretVault
    let supervisor: ExecutionSupervisor

    /// Verifies the signature and wakes the monitors.
    ///
    /// - Returns: how many monitors were woken.
    /// - Throws: `WebhookError.invalidSignature` for a missing or wrong signature, and for an unknown
    ///   pipeline (the same answer, so pipeline ids are not revealed).
    @discardableResult
    func receive(pipelineID: Int, body: [UInt8], signatureHeader: String?) async throws -> Int {
        guard let pipeline = try await Pipeline.find(pipelineID, on: db), pipeline.sealedWebhookSecret != nil else {
            throw WebhookError.invalidSignature
        }
        let secret = try vault.open(pipeline.sealedWebhookSecret, for: .webhookSecret, row: pipelineID)
        guard let header = signatureHeader, header.hasPrefix("sha256="),
            Self.verify(signature: String(header.dropFirst("sha256=".count)), body: body, secret: secret.value)
        else { throw WebhookError.invalidSignature }
        let active = try await Execution.query(on: db).filter(\.$pipeline.$id == pipelineID)
            .filter(\.$status ~~ Execution.Status.allCases.filter { !$0.isTerminal }).all()
        var woken = 0
        for execution in active where execution.bitbucketUUID != nil {
            await supervisor.wake(executionID: try execution.requireID())
            woken += 1
        }
        return woken
    }

    /// Constant-time comparison of the hex HMAC-SHA256 of `body` under `secret` with `signature`.
    static func verify(signature: String, body: [UInt8], secret: [UInt8]) -> Bool {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        let expected = mac.map { String(format: "%02x", $0) }.joined()
        return TokenHasher.constantTimeEquals(expected, signature.lowercased())
    }
}
