import Fluent
import Vapor

/// `POST /api/webhooks/bitbucket/{pipeline_id}` (docs/API.md "Webhooks"); verification and waking are
/// in `WebhookReceiver`.
struct WebhookController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "webhooks", "bitbucket", ":pipelineID", body: .collect(maxSize: "1mb"), use: receive)
    }

    @Sendable func receive(req: Request) async throws -> HTTPStatus {
        let pipelineID = try FieldRules.pathID(req, "pipelineID")
        let receiver = WebhookReceiver(
            db: req.db, vault: req.services.vault, supervisor: req.application.executionSupervisor)
        try await receiver.receive(
            pipelineID: pipelineID, body: req.body.data.map { Array($0.readableBytesView) } ?? [],
            signatureHeader: req.headers.first(name: "X-Hub-Signature"))
        return .accepted
    }
}

/// Webhook refusals.
enum WebhookError: APIErrorConvertible {
    case invalidSignature

    var status: HTTPResponseStatus { .unauthorized }
    var code: String { "invalid_signature" }
    var message: String { "The X-Hub-Signature header is missing or does not match the pipeline's webhook secret." }
    var details: [String: String] { [:] }
}
