import Foundation
import Vapor

/// `GET /api/openapi.json`: the OpenAPI 3.1 document (public; describes, never reveals, anything).
struct OpenAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("api", "openapi.json", use: document)
    }

    @Sendable func document(req: Request) async throws -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(status: .ok, headers: headers, body: .init(data: OpenAPIDocument.json))
    }
}
