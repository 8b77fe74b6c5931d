import Foundation
import OpenAPIKit

/// Small constructors that keep the endpoint list in OpenAPIDocument.swift one readable call per operation.
extension OpenAPIDocument {
    /// A documented response: its content (or none) and description.
    struct ResponseSpec {
        var description: String
        var content: OpenAPI.Content.Map
    }

    /// A JSON response with `schema`.
    static func json(_ schema: JSONSchema, _ description: String) -> ResponseSpec {
        ResponseSpec(description: description, content: [.json: .content(.init(schema: schema))])
    }

    /// A `text/plain` response.
    static func text(_ description: String) -> ResponseSpec {
        ResponseSpec(description: description, content: [.txt: .content(.init(schema: .string))])
    }

    /// A response without a body (204).
    static func empty(_ description: String) -> ResponseSpec {
        ResponseSpec(description: description, content: [:])
    }

    /// What each error status means, for the generated error responses.
    static let errorDescriptions: [Int: String] = [
        400:
            "Malformed input (`invalid_body`, `invalid_field`, `invalid_target`, key import codes, …); `details` names the field",
        401: "Not signed in, or a wrong/expired token (`unauthenticated`, `invalid_credentials`, `invalid_signature`)",
        403: "Not allowed (`forbidden`, `csrf_token_invalid`, `export_disabled`, `target_not_allowed`)",
        404: "Unknown, or not yours (`not_found`, `repository_not_found`, `branch_not_found`)",
        409:
            "Conflict (`duplicate_*`, `*_in_use`, `operation_in_progress`, `host_key_*`, `branch_moved`, `execution_finished`, …)",
        413: "Body larger than 1 MiB (`payload_too_large`)",
        414: "Request target (path and query) over 8 KiB (`uri_too_long`)",
        431: "Header fields over 32 KiB in total (`request_header_fields_too_large`)",
        416: "Range not satisfiable (`invalid_range`, with `Content-Range: bytes */LENGTH`)",
        422: "Valid JSON but unusable (`invalid_reference`, `stack_not_detected`, `invalid_generated_config`, …)",
        429: "Rate limited (`rate_limited`); retry after `Retry-After` seconds",
        502: "Upstream (Bitbucket or an SSH server) failed (`bitbucket_*`, `auth_failed`, `connection_refused`, …)",
        503:
            "Not ready, stored secret unreadable, or Bitbucket rate limit (`not_ready`, `sealed_secret_corrupt`, `bitbucket_rate_limited`); see `Retry-After`",
        504: "Upstream timed out (`bitbucket_timeout`, `timeout`)",
    ]

    /// One operation.
    ///
    /// - Parameters:
    ///   - method, path: where it lives (`{name}` for path parameters).
    ///   - id: the unique `operationId`.
    ///   - access: public, any signed-in user, or admin (adds the security requirements).
    ///   - body: JSON request body schema; `bodyRequired: false` when an empty body is accepted; `example`: a
    ///     valid body (shown in the document, and sent first by the fuzzer).
    ///   - rawBody: the body is raw bytes (`text/plain` / `application/octet-stream`), not JSON.
    ///   - responses: success (and special) statuses with their content.
    ///   - errors: other statuses the handler can answer, each with the error envelope.
    ///   - links: operation ids whose `{id}` path parameter is the `id` of this operation's JSON success response
    ///     (OpenAPI links: they tell readers, and the fuzzer's stateful phase, how calls chain).
    static func endpoint(
        _ method: OpenAPI.HttpMethod, _ path: String, id: String, tag: String, summary: String,
        description: String? = nil, access: Access = .user, parameters: [OpenAPI.Parameter] = [],
        query: [OpenAPI.Parameter] = [], headers: [OpenAPI.Parameter] = [], body: JSONSchema? = nil,
        bodyRequired: Bool = true, example: [String: any Sendable]? = nil, rawBody: Bool = false,
        responses: [Int: ResponseSpec],
        errors: [Int], links: [String] = []
    ) -> Endpoint {
        var map: OpenAPI.Response.Map = [:]
        for (status, spec) in responses.sorted(by: { $0.key < $1.key }) {
            var linkMap: OpenAPI.Link.Map = [:]
            if (200..<300).contains(status), !spec.content.isEmpty,
                let id = OpenAPI.RuntimeExpression(rawValue: "$response.body#/id")
            {
                for operationID in links {
                    linkMap[operationID] = .b(OpenAPI.Link(operationId: operationID, parameters: ["id": .a(id)]))
                }
            }
            map[.status(code: status)] = .response(
                .init(description: spec.description, content: spec.content, links: linkMap))
        }
        var errorStatuses = Set(errors)
        // Any signed-in route may answer 403: a role without the permission, or `password_change_required`.
        if access != .public { errorStatuses.insert(403) }
        errorStatuses.formUnion([414, 431])  // RequestHeadLimitMiddleware answers them on every route
        for status in errorStatuses.sorted() where responses[status] == nil {
            map[.status(code: status)] = .response(
                .init(
                    description: errorDescriptions[status] ?? "Error",
                    content: [.json: .content(.init(schema: ref("Error")))]))
        }
        var request: OpenAPI.Request?
        if let body {
            request = OpenAPI.Request(
                content: [.json: .content(.init(schema: body, example: example.map { AnyCodable($0) }))],
                required: bodyRequired)
        } else if rawBody {
            request = OpenAPI.Request(
                content: [
                    .txt: .content(.init(schema: .string)),
                    .other("application/octet-stream"): .content(.init(schema: .string(contentEncoding: .binary))),
                ],
                required: false)
        }
        let security: [OpenAPI.SecurityRequirement]?
        switch access {
        case .public: security = []
        case .user, .admin: security = method == .get || method == .head ? readSecurity : writeSecurity
        }
        var text = description ?? ""
        if access == .admin {
            text = (text.isEmpty ? "" : text + "\n\n") + "Admins only (members get 403 `forbidden`)."
        }
        let operation = OpenAPI.Operation(
            tags: [tag], summary: summary, description: text.isEmpty ? nil : text, operationId: id,
            parameters: (parameters + query + headers).map { .parameter($0) }, requestBody: request, responses: map,
            security: security)
        return Endpoint(method: method, path: path, operation: operation)
    }

    // MARK: - Schemas and parameters

    /// A `$ref` to `#/components/schemas/<name>`.
    static func ref(_ name: String) -> JSONSchema {
        .reference(.component(named: name))
    }

    /// The list envelope (docs/API.md "Lists") around items of the named schema.
    static func page(of name: String) -> JSONSchema {
        .object(properties: ["items": .array(items: ref(name)), "pagination": ref("Pagination")])
    }

    /// An integer id in the path (anything else answers 404).
    static func pathID(_ name: String, _ description: String) -> OpenAPI.Parameter {
        OpenAPI.Parameter(
            name: name, context: .path(schema: .integer(minimum: (1, exclusive: false), examples: [1])),
            description: description)
    }

    /// An optional query parameter.
    static func queryParameter(_ name: String, _ schema: JSONSchema, _ description: String) -> OpenAPI.Parameter {
        OpenAPI.Parameter(name: name, context: .query(schema: schema), description: description)
    }

    /// An optional header parameter.
    static func headerParameter(_ name: String, _ schema: JSONSchema, _ description: String) -> OpenAPI.Parameter {
        OpenAPI.Parameter(name: name, context: .header(schema: schema), description: description)
    }

    /// `page` (1…1,000,000) and `per_page` (≥ 1; above 100 is clamped to 100).
    static var pageParameters: [OpenAPI.Parameter] {
        [
            queryParameter(
                "page", .integer(maximum: (1_000_000, exclusive: false), minimum: (1, exclusive: false)),
                "Page number (from 1)"),
            queryParameter(
                "per_page", .integer(minimum: (1, exclusive: false)),
                "Items per page (default 20; above 100 counts as 100)"),
        ]
    }

    /// A boolean query flag (`true`/`false`/`1`/`0`/`yes`/`no`, case-insensitive; empty means false).
    static var flag: JSONSchema {
        .string(allowedValues: ["true", "false", "1", "0", "yes", "no", ""])
    }

    /// Execution status filter (case-insensitive).
    static var executionStatus: JSONSchema {
        .string(allowedValues: OpenAPISchemas.executionStatuses.map { AnyCodable($0) })
    }

    /// RFC 3339 timestamp or `YYYY-MM-DD` (empty: no filter).
    static var dateFilter: JSONSchema {
        .any(of: [.string(format: .dateTime), .string(format: .date), .string(allowedValues: [""])])
    }
}
