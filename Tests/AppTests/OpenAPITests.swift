import Foundation
import OpenAPIKit
import Testing
import Vapor
import VaporTesting

@testable import App

/// `GET /api/openapi.json` stays in sync with the route table and is a valid OpenAPI 3.1 document
/// (docs/API.md "Operations").
@Suite struct OpenAPITests {
    /// `GET /api/ssh-keys/{}`: a route with its parameters blanked, so `:keyID` and `{id}` compare equal.
    static func routeKey(method: String, components: [String]) -> String {
        let path = components.map { component -> String in
            if component.hasPrefix(":") || (component.hasPrefix("{") && component.hasSuffix("}")) { return "{}" }
            return component
        }
        return "\(method.uppercased()) /\(path.joined(separator: "/"))"
    }

    /// Every (method, path) Vapor serves.
    /// The JSON API's routes (dashboard pages are documented in docs/dashboard.md, DashboardDocsTests).
    static func servedRoutes(_ app: Application, dashboard: Bool = false) -> Set<String> {
        Set(
            app.routes.all.filter { DashboardRoutes.isDashboard($0) == dashboard }.map { route in
                routeKey(
                    method: route.method.rawValue,
                    components: route.path.map { component in
                        switch component {
                        case .constant(let value): value
                        case .parameter(let name): ":\(name)"
                        case .anything: "*"
                        case .catchall: "**"
                        }
                    })
            })
    }

    /// Every (method, path) the served document describes.
    static func documentedRoutes(_ document: OpenAPI.Document) -> Set<String> {
        var routes = Set<String>()
        for (path, item) in document.paths {
            guard let item = item.pathItemValue else { continue }
            for endpoint in item.endpoints {
                routes.insert(routeKey(method: endpoint.method.rawValue, components: path.components))
            }
        }
        return routes
    }

    static func fetchDocument(_ app: Application) async throws -> (Data, OpenAPI.Document) {
        var data = Data()
        try await app.testing().test(.GET, "api/openapi.json") { res async throws in
            #expect(res.status == .ok)
            #expect(res.headers.contentType == .json)
            data = Data(buffer: res.body)
        }
        return (data, try JSONDecoder().decode(OpenAPI.Document.self, from: data))
    }

    @Test func everyRouteIsDocumented_andEveryDocumentedOperationExists() async throws {
        try await withTestApp { ctx in
            let (_, document) = try await Self.fetchDocument(ctx.app)
            let served = Self.servedRoutes(ctx.app)
            let documented = Self.documentedRoutes(document)
            #expect(served.count > 40)
            let undocumented = served.subtracting(documented).sorted()
            let phantom = documented.subtracting(served).sorted()
            #expect(undocumented.isEmpty, "routes missing from the OpenAPI document: \(undocumented)")
            #expect(phantom.isEmpty, "documented operations that no route serves: \(phantom)")
        }
    }

    @Test func document_isValidOpenAPI31_withResolvableReferences() async throws {
        try await withTestApp { ctx in
            let (data, document) = try await Self.fetchDocument(ctx.app)
            let raw = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect((raw["openapi"] as? String)?.hasPrefix("3.1.") == true)
            #expect(document.openAPIVersion >= .v3_1_0 && document.openAPIVersion < .v3_2_0)
            // OpenAPIKit's validator: unique operation ids, documented responses, path parameters declared, …
            _ = try document.validate()
            // Every $ref resolves (dereferencing fails on a dangling one).
            _ = try document.locallyDereferenced()
            let references = Self.references(in: raw)
            #expect(!references.isEmpty)
            let schemas = try #require((raw["components"] as? [String: Any])?["schemas"] as? [String: Any])
            for reference in references {
                let name = String(reference.dropFirst("#/components/schemas/".count))
                #expect(reference.hasPrefix("#/components/schemas/") && schemas[name] != nil, "dangling \(reference)")
            }
            // Both security schemes, and the error envelope of docs/API.md "Errors".
            let schemes = document.components.securitySchemes
            #expect(schemes["bearerAuth"] != nil && schemes["sessionCookie"] != nil && schemes["csrfToken"] != nil)
            let error = try #require(schemas["Error"] as? [String: Any])
            let inner = try #require(
                ((error["properties"] as? [String: Any])?["error"] as? [String: Any])?["properties"] as? [String: Any])
            #expect(Set(inner.keys) == ["code", "message", "details"])
        }
    }

    @Test func operations_documentAuthenticationAndErrors() async throws {
        let document = OpenAPIDocument.build()
        let publicPaths: Set<String> = [
            "/health", "/ready", "/metrics", "/api/openapi.json", "/api/auth/login",
            "/api/webhooks/bitbucket/{pipeline_id}", "/socket.io",
        ]
        var ids = Set<String>()
        for (path, item) in document.paths {
            for endpoint in try #require(item.pathItemValue).endpoints {
                let operation = endpoint.operation
                let id = try #require(operation.operationId)
                #expect(ids.insert(id).inserted, "duplicate operationId \(id)")
                if publicPaths.contains(path.rawValue) {
                    #expect(operation.security == [], "\(id) is public")
                } else {
                    let security = try #require(operation.security, "\(id) has no security")
                    #expect(security.count == 2, "\(id): bearer or cookie")
                    #expect(operation.responses[status: 401] != nil, "\(id) documents 401")
                    if endpoint.method != .get {
                        #expect(
                            security.contains { $0.keys.contains(.component(named: "csrfToken")) },
                            "\(id) needs CSRF with the cookie")
                    }
                }
                // WebSocket endpoints succeed with 101 Switching Protocols.
                #expect(
                    operation.responses.keys.contains { $0.isSuccess || $0 == .status(code: 101) },
                    "\(id) has a success response")
            }
        }
    }

    /// Every `$ref` value in the JSON.
    static func references(in value: Any) -> [String] {
        if let object = value as? [String: Any] {
            var found: [String] = []
            for (key, child) in object {
                if key == "$ref", let reference = child as? String {
                    found.append(reference)
                } else {
                    found += references(in: child)
                }
            }
            return found
        }
        if let array = value as? [Any] { return array.flatMap(references(in:)) }
        return []
    }
}
