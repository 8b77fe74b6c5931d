import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// docs/API.md names every route the service serves (as "`METHOD /path`", path parameters in braces).
@Suite struct APIDocsTests {
    /// docs/API.md, found from this file's location (Tests/AppTests → package root).
    static func apiDocument() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("docs/API.md"), encoding: .utf8)
    }

    /// Every "`METHOD /path`" in the text, normalised like `OpenAPITests.routeKey`.
    static func documentedEndpoints(in text: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: "`(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[^`\\s?]*)[^`]*`")
        var found = Set<String>()
        let range = NSRange(text.startIndex..., in: text)
        for match in pattern.matches(in: text, range: range) {
            guard let method = Range(match.range(at: 1), in: text), let path = Range(match.range(at: 2), in: text)
            else { continue }
            let components = text[path].split(separator: "/").map(String.init)
            found.insert(OpenAPITests.routeKey(method: String(text[method]), components: components))
        }
        return found
    }

    @Test func everyRoute_isInAPIDocs() async throws {
        let documented = Self.documentedEndpoints(in: try Self.apiDocument())
        try await withTestApp { ctx in
            let served = OpenAPITests.servedRoutes(ctx.app)
            #expect(served.count > 40)
            let missing = served.subtracting(documented).sorted()
            #expect(
                missing.isEmpty, "routes missing from docs/API.md (add a line like `GET /api/things/{id}`): \(missing)")
        }
    }

    @Test func normalisation_matchesParametersByPosition() {
        let found = Self.documentedEndpoints(
            in: "see `GET /api/ssh-keys/{id}` and `POST /api/executions/{id}/logs?step=x`")
        #expect(found == ["GET /api/ssh-keys/{}", "POST /api/executions/{}/logs"])
        #expect(!found.contains("GET /api/ssh-keys"))
    }

    @Test func apiDocs_coverRealtimeErrorsSecurityAndAnExample() throws {
        let text = try Self.apiDocument()
        for heading in [
            "## Errors", "## Realtime events", "### Socket.IO", "### WebSocket", "### Server-Sent Events",
            "## Security notes", "## End-to-end example",
        ] {
            #expect(text.contains(heading), "\(heading)")
        }
        for event in [
            "pipeline_status", "pipeline_logs", "log_error", "log_timeout", "subscribe_pipeline_status",
            "get_execution_status", "Last-Event-ID",
        ] {
            #expect(text.contains(event), "\(event)")
        }
    }
}
