// How to add an endpoint to the OpenAPI document (a test fails until you do):
//
// 1. Find the resource group below (`sshKeys()`, `pipelines()`, …) or add a new `static func myGroup()
//    -> [Endpoint]` and list it in `allEndpoints`.
// 2. Add one `endpoint(.get, "/api/things/{id}", id: "getThing", tag: "Things", summary: "…", …)` line:
//    path parameters in `{braces}` (the route's `:name` segments; the test matches them by position),
//    `query:` parameters, `body:` (a schema, usually `ref("CreateThingRequest")`), `responses:` (success
//    statuses with their schemas) and `errors:` (every other status the handler can answer; each gets the
//    error envelope of docs/API.md "Errors").
// 3. Add the request/response schemas to `schemas` in OpenAPISchemas.swift, mirroring the DTO: a Swift
//    optional is `optional(…)` (may be absent or null), everything else is required.
// 4. Add the endpoint to docs/API.md (another test checks that every route appears there).
//
// `OpenAPITests` compares the (method, path) pairs here with `app.routes.all` and checks that the JSON
// parses back as an OpenAPI 3.1 document whose `$ref`s all resolve; `scripts/fuzz` runs schemathesis
// against it, which checks real responses against these schemas.

import Foundation
import OpenAPIKit

/// The service's OpenAPI 3.1 description, served at `GET /api/openapi.json` (docs/API.md "Operations").
enum OpenAPIDocument {
    /// One operation: where it lives and what it is.
    struct Endpoint {
        var method: OpenAPI.HttpMethod
        /// OpenAPI path template, e.g. `/api/ssh-keys/{id}`.
        var path: String
        var operation: OpenAPI.Operation
    }

    /// Every documented operation, by resource group.
    static var allEndpoints: [Endpoint] {
        operations() + authentication() + tokens() + users() + sshKeys() + servers() + connections() + pipelines()
            + executions() + logs() + webhooks() + audit() + administration() + realtime()
    }

    /// The document.
    static func build() -> OpenAPI.Document {
        var paths: OpenAPI.PathItem.Map = [:]
        for endpoint in allEndpoints {
            let path = OpenAPI.Path(rawValue: endpoint.path)
            var item = paths[path]?.pathItemValue ?? OpenAPI.PathItem()
            item.set(operation: endpoint.operation, for: endpoint.method)
            paths[path] = .pathItem(item)
        }
        return OpenAPI.Document(
            openAPIVersion: .v3_1_1,
            info: .init(
                title: "Pipewright API",
                description: """
                    Self-hosted deployment control plane for Bitbucket Cloud: SSH keys, servers, Bitbucket \
                    connections, pipelines, executions and logs. JSON with snake_case keys, RFC 3339 UTC \
                    timestamps, durations in seconds. Errors are `{"error": {"code", "message", "details"}}`. \
                    Realtime events (Socket.IO at /socket.io/, WebSocket at /api/ws, SSE) are described in docs/API.md.
                    """,
                version: "1.0.0"),
            servers: [],
            paths: paths,
            components: .init(
                schemas: OpenAPISchemas.schemas,
                securitySchemes: [
                    "bearerAuth": .securityScheme(
                        .http(
                            scheme: "bearer", bearerFormat: "pw_…",
                            description:
                                "An API token from `POST /api/tokens` or `pipewright token create USER`. No CSRF token needed."
                        )),
                    "sessionCookie": .securityScheme(
                        .apiKey(
                            name: "pw_session", location: .cookie,
                            description: "The HttpOnly session cookie set by `POST /api/auth/login`.")),
                    "csrfToken": .securityScheme(
                        .apiKey(
                            name: "X-CSRF-Token", location: .header,
                            description:
                                "The `csrf_token` from login or `GET /api/auth/me`; required with the cookie on every state-changing request."
                        )),
                ]),
            security: readSecurity,
            tags: [
                "Operations", "Authentication", "Tokens", "Users", "SSH keys", "Servers", "Connections", "Pipelines",
                "Executions", "Logs", "Webhooks",
            ].map { OpenAPI.Tag(name: $0) })
    }

    /// The document as JSON (built once per process).
    static let json: Data = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding a well-formed in-code document cannot fail; an empty object would fail the OpenAPI tests.
        return (try? encoder.encode(build())) ?? Data("{}".utf8)
    }()

    // MARK: - Security requirements

    /// Bearer token, or the session cookie.
    static let readSecurity: [OpenAPI.SecurityRequirement] = [
        [.component(named: "bearerAuth"): []],
        [.component(named: "sessionCookie"): []],
    ]

    /// Bearer token, or the session cookie plus `X-CSRF-Token`.
    static let writeSecurity: [OpenAPI.SecurityRequirement] = [
        [.component(named: "bearerAuth"): []],
        [.component(named: "sessionCookie"): [], .component(named: "csrfToken"): []],
    ]

    /// Who may call an operation.
    enum Access {
        /// No authentication.
        case `public`
        /// Any signed-in user; changes need the role docs/API.md "Roles" names (403 `forbidden` otherwise).
        case user
        /// Admins only (maintainers and viewers get 403).
        case admin
    }

    /// Operations on one SSH key / execution, linked from the responses that create one.
    static let keyLinks = [
        "getSSHKey", "updateSSHKey", "patchSSHKey", "exportPrivateKey", "deploySSHKey", "testSSHKey", "undeploySSHKey",
        "rotateSSHKey", "deleteSSHKey",
    ]
    static let executionLinks = [
        "getExecution", "stopExecution", "rerunExecution", "listLogLines", "downloadRawLog", "getLogStats",
    ]

    // MARK: - Resource groups

    static func operations() -> [Endpoint] {
        [
            endpoint(
                .get, "/health", id: "getHealth", tag: "Operations", summary: "Liveness: the process is up",
                access: .public,
                responses: [200: json(ref("Health"), "Always `status: ok`, with the version and commit of the build")],
                errors: []),
            endpoint(
                .get, "/ready", id: "getReady", tag: "Operations",
                summary: "Readiness: database reachable and master key valid",
                access: .public,
                responses: [
                    200: json(ref("Readiness"), "Ready"), 503: json(ref("Readiness"), "Not ready (see `message`)"),
                ],
                errors: []),
            endpoint(
                .get, "/metrics", id: "getMetrics", tag: "Operations",
                summary:
                    "Prometheus text exposition (requires `Authorization: Bearer $PIPEWRIGHT_METRICS_TOKEN` when that is set)",
                access: .public, responses: [200: text("Metrics in Prometheus text format 0.0.4")], errors: [401]),
            endpoint(
                .get, "/api/openapi.json", id: "getOpenAPIDocument", tag: "Operations", summary: "This document",
                access: .public,
                responses: [200: json(.object(additionalProperties: .a(true)), "OpenAPI 3.1 document")],
                errors: []),
        ]
    }

    static func authentication() -> [Endpoint] {
        [
            endpoint(
                .post, "/api/auth/login", id: "login", tag: "Authentication",
                summary: "Sign in: sets the HttpOnly `pw_session` cookie and returns the CSRF token", access: .public,
                body: ref("LoginRequest"), example: ["username": "admin", "password": "correct horse battery staple"],
                responses: [200: json(ref("LoginResponse"), "Signed in")], errors: [400, 401, 413, 429]),
            endpoint(
                .post, "/api/auth/logout", id: "logout", tag: "Authentication",
                summary: "Sign out (ends the cookie session)",
                responses: [204: empty("Signed out; cookie cleared")], errors: [401, 403, 429]),
            endpoint(
                .get, "/api/auth/me", id: "getCurrentUser", tag: "Authentication",
                summary: "The signed-in user (and the session's CSRF token for cookie sessions)",
                responses: [200: json(ref("MeResponse"), "The user")], errors: [401, 429]),
            endpoint(
                .post, "/api/auth/password", id: "changePassword", tag: "Authentication",
                summary:
                    "Change your own password (current one required); your other sessions end, and with `revoke_tokens` your API tokens",
                body: ref("ChangePasswordRequest"),
                example: [
                    "current_password": "old password here", "new_password": "a new long passphrase",
                    "revoke_tokens": false,
                ],
                responses: [200: json(ref("PasswordChanged"), "Changed")], errors: [400, 401, 403, 413, 429]),
        ]
    }

    static func users() -> [Endpoint] {
        let user = pathID("id", "User id")
        return [
            endpoint(
                .get, "/api/users", id: "listUsers", tag: "Users", summary: "Admin: the users (deleted ones left out)",
                access: .admin, query: pageParameters, responses: [200: json(page(of: "User"), "A page of users")],
                errors: [400, 401, 429]),
            endpoint(
                .post, "/api/users", id: "createUser", tag: "Users",
                summary:
                    "Admin: create a user; without `password` a random one is returned once as `initial_password` and must be changed at first sign-in",
                access: .admin, body: ref("CreateUserRequest"),
                example: ["username": "dana", "role": "maintainer"],
                responses: [201: json(ref("CreatedUser"), "The user")], errors: [400, 401, 409, 413, 429],
                links: []),
            endpoint(
                .get, "/api/users/{id}", id: "getUser", tag: "Users", summary: "Admin: one user", access: .admin,
                parameters: [user], responses: [200: json(ref("User"), "The user")], errors: [401, 404, 429]),
            endpoint(
                .patch, "/api/users/{id}", id: "updateUser", tag: "Users",
                summary:
                    "Admin: change the role or disable/enable (409 `last_admin` when no active admin would remain, `own_account` for yourself)",
                access: .admin, parameters: [user], body: ref("UpdateUserRequest"), example: ["role": "viewer"],
                responses: [200: json(ref("User"), "The user")], errors: [400, 401, 404, 409, 413, 429]),
            endpoint(
                .delete, "/api/users/{id}", id: "deleteUser", tag: "Users",
                summary: "Admin: delete a user (their audit entries stay; the name stays taken)", access: .admin,
                parameters: [user], responses: [204: empty("Deleted")], errors: [401, 404, 409, 429]),
            endpoint(
                .post, "/api/users/{id}/password-reset", id: "resetPassword", tag: "Users",
                summary:
                    "Admin: set a one-time password (returned once) that must be changed at the next sign-in; ends the user's sessions",
                access: .admin, parameters: [user],
                responses: [200: json(ref("PasswordReset"), "The one-time password")], errors: [401, 404, 409, 429]),
        ]
    }

    static func tokens() -> [Endpoint] {
        [
            endpoint(
                .post, "/api/tokens", id: "createToken", tag: "Tokens", summary: "Create an API token (shown once)",
                body: ref("CreateTokenRequest"), example: ["name": "ci", "expires_in_days": 90],
                responses: [201: json(ref("CreatedToken"), "The token; `token` is never shown again")],
                errors: [400, 401, 403, 413, 429], links: ["revokeToken"]),
            endpoint(
                .get, "/api/tokens", id: "listTokens", tag: "Tokens", summary: "Your API tokens (without their values)",
                query: pageParameters, responses: [200: json(page(of: "Token"), "A page of tokens")],
                errors: [400, 401, 429]),
            endpoint(
                .delete, "/api/tokens/{id}", id: "revokeToken", tag: "Tokens", summary: "Revoke one of your API tokens",
                parameters: [pathID("id", "Token id")], responses: [204: empty("Revoked")],
                errors: [401, 403, 404, 429]),
        ]
    }

    static func sshKeys() -> [Endpoint] {
        let key = pathID("id", "SSH key id")
        return [
            endpoint(
                .post, "/api/ssh-keys", id: "createSSHKey", tag: "SSH keys",
                summary: "Generate a key pair (Ed25519, RSA-2048/4096)",
                body: ref("CreateSSHKeyRequest"), example: ["name": "Production Server", "key_type": "ed25519"],
                responses: [201: json(ref("SSHKey"), "The key (never the private part)")],
                errors: [400, 401, 403, 409, 413, 429], links: Self.keyLinks),
            endpoint(
                .post, "/api/ssh-keys/import", id: "importSSHKey", tag: "SSH keys",
                summary: "Import a private key (OpenSSH, PKCS#1, PKCS#8, SEC1; optionally passphrase-protected)",
                body: ref("ImportSSHKeyRequest"), responses: [201: json(ref("SSHKey"), "The imported key")],
                errors: [400, 401, 403, 409, 413, 429], links: Self.keyLinks),
            endpoint(
                .get, "/api/ssh-keys", id: "listSSHKeys", tag: "SSH keys", summary: "The team's keys (public parts)",
                query: pageParameters + [
                    queryParameter("q", .string(maxLength: 200), "Substring of name, comment or SHA256 fingerprint"),
                    queryParameter(
                        "status", .string(allowedValues: ["active", "retired"]), "Only keys with this status"),
                ],
                responses: [200: json(page(of: "SSHKey"), "A page of keys")], errors: [400, 401, 429]),
            endpoint(
                .get, "/api/ssh-keys/{id}", id: "getSSHKey", tag: "SSH keys",
                summary: "One key with its deployment ledger",
                parameters: [key], responses: [200: json(ref("SSHKey"), "The key")], errors: [401, 404, 429]),
            endpoint(
                .put, "/api/ssh-keys/{id}", id: "updateSSHKey", tag: "SSH keys",
                summary: "Change name or comment (metadata only)",
                parameters: [key], body: ref("UpdateSSHKeyRequest"), example: ["comment": "deploy@prod"],
                responses: [200: json(ref("SSHKey"), "The key")],
                errors: [400, 401, 403, 404, 413, 429]),
            endpoint(
                .patch, "/api/ssh-keys/{id}", id: "patchSSHKey", tag: "SSH keys",
                summary: "Same as PUT: change name or comment",
                parameters: [key], body: ref("UpdateSSHKeyRequest"), example: ["comment": "deploy@prod"],
                responses: [200: json(ref("SSHKey"), "The key")],
                errors: [400, 401, 403, 404, 413, 429]),
            endpoint(
                .delete, "/api/ssh-keys/{id}", id: "deleteSSHKey", tag: "SSH keys",
                summary:
                    "Delete a key; refused with 409 `key_in_use` while it is deployed unless a flag says what to do",
                parameters: [key],
                query: [
                    queryParameter("remove_from_servers", flag, "Undeploy from every recorded server first"),
                    queryParameter("force", flag, "Forget the ledger without touching servers"),
                ],
                responses: [
                    204: empty("Deleted"),
                    409: json(
                        .one(of: [ref("Error"), ref("ServerResults")]),
                        "`key_in_use` or `operation_in_progress` (error envelope), or the per-server results when undeploying with `remove_from_servers` failed somewhere"
                    ),
                ],
                errors: [400, 401, 403, 404, 429, 502, 503, 504]),
            endpoint(
                .get, "/api/ssh-keys/{id}/private", id: "exportPrivateKey", tag: "SSH keys",
                summary: "Admin: export the private key (OpenSSH format; `Cache-Control: no-store`), audited",
                access: .admin, parameters: [key], responses: [200: json(ref("PrivateKey"), "The private key")],
                errors: [401, 403, 404, 429, 503]),
            endpoint(
                .post, "/api/ssh-keys/{id}/deploy", id: "deploySSHKey", tag: "SSH keys",
                summary: "Add the public key to each server's authorized_keys (idempotent); per-server results",
                parameters: [key], body: ref("DeployKeyRequest"),
                example: ["servers": [["server_id": 1]], "parallel": true],
                responses: [200: json(ref("ServerResults"), "Per-server results")],
                errors: [400, 401, 403, 404, 409, 413, 422, 429, 503]),
            endpoint(
                .post, "/api/ssh-keys/{id}/test", id: "testSSHKey", tag: "SSH keys",
                summary:
                    "Log in with the key (default: on every recorded server) and report the remote user and latency",
                parameters: [key], body: ref("TestKeyRequest"), bodyRequired: false,
                example: ["servers": [["server_id": 1]]],
                responses: [200: json(ref("TestResults"), "Per-server results")],
                errors: [400, 401, 403, 404, 413, 422, 429, 503]),
            endpoint(
                .post, "/api/ssh-keys/{id}/undeploy", id: "undeploySSHKey", tag: "SSH keys",
                summary: "Remove exactly this key's line from each server (`would_lock_out` unless `force`)",
                parameters: [key], body: ref("UndeployKeyRequest"),
                example: ["servers": [["server_id": 1]], "force": false],
                responses: [200: json(ref("ServerResults"), "Per-server results")],
                errors: [400, 401, 403, 404, 409, 413, 422, 429, 503]),
            endpoint(
                .post, "/api/ssh-keys/{id}/rotate", id: "rotateSSHKey", tag: "SSH keys",
                summary: "Replace the key everywhere it is deployed with a new one of the same type, then retire it",
                parameters: [key],
                responses: [200: json(ref("RotateKeyResponse"), "The new key and per-server results")],
                errors: [401, 403, 404, 409, 429, 503]),
        ]
    }

    static func servers() -> [Endpoint] {
        let server = pathID("id", "Server id")
        return [
            endpoint(
                .get, "/api/servers", id: "listServers", tag: "Servers", summary: "The team's servers",
                query: pageParameters, responses: [200: json(page(of: "Server"), "A page of servers")],
                errors: [400, 401, 429]),
            endpoint(
                .post, "/api/servers", id: "createServer", tag: "Servers",
                summary: "Record a server (`user@host:port`)",
                body: ref("CreateServerRequest"),
                example: ["name": "web-1", "host": "127.0.0.1", "port": 22, "username": "deploy"],
                responses: [201: json(ref("Server"), "The server")],
                errors: [400, 401, 403, 409, 413, 429], links: ["getServer", "deleteServer", "acceptHostKey"]),
            endpoint(
                .get, "/api/servers/{id}", id: "getServer", tag: "Servers",
                summary: "One server with its pinned host keys",
                parameters: [server], responses: [200: json(ref("Server"), "The server")], errors: [401, 404, 429]),
            endpoint(
                .patch, "/api/servers/{id}", id: "updateServer", tag: "Servers",
                summary: "Rename a server, change its notes or its `legacy_rsa_sha1` opt-in (audited)",
                parameters: [server], body: ref("UpdateServerRequest"),
                example: ["name": "web-1", "notes": "Rack 4, behind the office VPN"],
                responses: [200: json(ref("Server"), "The server")], errors: [400, 401, 403, 404, 413, 429]),
            endpoint(
                .delete, "/api/servers/{id}", id: "deleteServer", tag: "Servers",
                summary:
                    "Delete a server record; 409 `server_in_use` while keys are recorded there unless `force=true`",
                parameters: [server],
                query: [queryParameter("force", flag, "Delete even though keys are recorded there")],
                responses: [204: empty("Deleted")], errors: [400, 401, 403, 404, 409, 429]),
            endpoint(
                .post, "/api/servers/{id}/host-keys/accept", id: "acceptHostKey", tag: "Servers",
                summary: "Admin: pin the host key the server presents now with this fingerprint (after a change)",
                access: .admin, parameters: [server], body: ref("AcceptHostKeyRequest"),
                example: ["fingerprint_sha256": "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"],
                responses: [200: json(ref("Server"), "The server with its new pin")],
                errors: [400, 401, 403, 404, 409, 413, 429, 502, 504]),
        ]
    }

    static func connections() -> [Endpoint] {
        let connection = pathID("id", "Connection id")
        return [
            endpoint(
                .post, "/api/connections", id: "createConnection", tag: "Connections",
                summary: "Store a Bitbucket workspace connection (token sealed at rest, never returned)",
                body: ref("CreateConnectionRequest"),
                example: [
                    "name": "acme", "workspace": "acme",
                    "auth": ["type": "api_token", "email": "me@acme.io", "token": "ATATT-example"]
                        as [String: any Sendable],
                ], responses: [201: json(ref("Connection"), "The connection")],
                errors: [400, 401, 403, 413, 429], links: ["getConnection", "verifyConnection", "deleteConnection"]),
            endpoint(
                .get, "/api/connections", id: "listConnections", tag: "Connections",
                summary: "The team's connections (never their tokens)",
                query: pageParameters, responses: [200: json(page(of: "Connection"), "A page of connections")],
                errors: [400, 401, 429]),
            endpoint(
                .get, "/api/connections/{id}", id: "getConnection", tag: "Connections", summary: "One connection",
                parameters: [connection], responses: [200: json(ref("Connection"), "The connection")],
                errors: [401, 404, 429]),
            endpoint(
                .patch, "/api/connections/{id}", id: "updateConnection", tag: "Connections",
                summary:
                    "Rename a connection and/or replace its credentials (sealed at rest; new credentials are verified at once)",
                parameters: [connection], body: ref("UpdateConnectionRequest"),
                example: ["auth": ["type": "access_token", "token": "new-token"] as [String: any Sendable]],
                responses: [200: json(ref("UpdatedConnection"), "The connection and the verification")],
                errors: [400, 401, 403, 404, 413, 429, 503]),
            endpoint(
                .delete, "/api/connections/{id}", id: "deleteConnection", tag: "Connections",
                summary: "Delete a connection (409 `connection_in_use` while pipelines use it)",
                parameters: [connection],
                responses: [204: empty("Deleted")], errors: [401, 403, 404, 409, 429]),
            endpoint(
                .post, "/api/connections/{id}/verify", id: "verifyConnection", tag: "Connections",
                summary: "Call Bitbucket's `GET /user` with the stored credentials", parameters: [connection],
                responses: [
                    200: json(ref("VerifyConnectionResponse"), "`ok` with the account, or `ok: false` with the error")
                ],
                errors: [401, 403, 404, 429, 503]),
        ]
    }

    static func pipelines() -> [Endpoint] {
        let pipeline = pathID("id", "Pipeline id")
        let upstream = [502, 503, 504]
        return [
            endpoint(
                .post, "/api/pipelines", id: "createPipeline", tag: "Pipelines",
                summary: "Define a deployment pipeline for a repository (the webhook secret is shown once)",
                body: ref("CreatePipelineRequest"),
                example: [
                    "name": "web", "connection_id": 1, "repo_slug": "web",
                    "deploy": [
                        "server_ids": [1], "ssh_key_id": 1, "deploy_path": "/srv/web", "app_port": 3000,
                        "domain": "web.example.com",
                    ] as [String: any Sendable],
                ], responses: [201: json(ref("Pipeline"), "The pipeline, with `webhook_secret`")],
                errors: [400, 401, 403, 413, 422, 429],
                links: [
                    "getPipeline", "updatePipeline", "detectStack", "getPipelineConfig", "createPullRequest",
                    "triggerPipeline", "listExecutions", "listPipelineLogs", "getProvisioningPlan",
                    "provisionRepository", "deletePipeline",
                ]),
            endpoint(
                .get, "/api/pipelines", id: "listPipelines", tag: "Pipelines", summary: "The team's pipelines",
                query: pageParameters, responses: [200: json(page(of: "Pipeline"), "A page of pipelines")],
                errors: [400, 401, 429]),
            endpoint(
                .get, "/api/pipelines/{id}", id: "getPipeline", tag: "Pipelines", summary: "One pipeline",
                parameters: [pipeline], responses: [200: json(ref("Pipeline"), "The pipeline")],
                errors: [401, 404, 429]),
            endpoint(
                .put, "/api/pipelines/{id}", id: "updatePipeline", tag: "Pipelines",
                summary:
                    "Change any field but the repository, with the rules of create (branch, connection or override changes forget the detected stack)",
                parameters: [pipeline], body: ref("UpdatePipelineRequest"), example: ["branch": "release"],
                responses: [200: json(ref("Pipeline"), "The pipeline")],
                errors: [400, 401, 403, 404, 413, 422, 429]),
            endpoint(
                .patch, "/api/pipelines/{id}", id: "patchPipeline", tag: "Pipelines", summary: "Same as PUT",
                parameters: [pipeline], body: ref("UpdatePipelineRequest"), example: ["name": "web (prod)"],
                responses: [200: json(ref("Pipeline"), "The pipeline")],
                errors: [400, 401, 403, 404, 413, 422, 429]),
            endpoint(
                .delete, "/api/pipelines/{id}", id: "deletePipeline", tag: "Pipelines",
                summary:
                    "Delete a pipeline; with executions it needs `?confirm=<name>` (409 `confirmation_required` names what would be lost)",
                parameters: [pipeline],
                query: [
                    queryParameter(
                        "confirm", .string(maxLength: 200),
                        "The pipeline's name: confirms erasing its executions and logs")
                ],
                responses: [204: empty("Deleted")], errors: [400, 401, 403, 404, 409, 429]),
            endpoint(
                .post, "/api/pipelines/{id}/webhook-secret/rotate", id: "rotateWebhookSecret", tag: "Pipelines",
                summary: "Replace the webhook secret (shown once; the old one stops working at once)",
                parameters: [pipeline],
                responses: [200: json(ref("WebhookSecret"), "The new secret and the webhook URL")],
                errors: [401, 403, 404, 429, 503]),
            endpoint(
                .post, "/api/pipelines/{id}/detect", id: "detectStack", tag: "Pipelines",
                summary: "Read the repository through Bitbucket and detect its technology stack",
                parameters: [pipeline],
                responses: [200: json(ref("DetectResponse"), "The detected stack")],
                errors: [401, 403, 404, 409, 422, 429] + upstream),
            endpoint(
                .get, "/api/pipelines/{id}/config", id: "getPipelineConfig", tag: "Pipelines",
                summary: "The generated bitbucket-pipelines.yml (and nginx site) with validation results",
                parameters: [pipeline],
                query: [
                    queryParameter(
                        "include_nginx_config", flag, "Also generate the nginx site (implied when a domain is set)")
                ],
                responses: [200: json(ref("ConfigResponse"), "Generated files")],
                errors: [400, 401, 404, 409, 422, 429] + upstream),
            endpoint(
                .post, "/api/pipelines/{id}/create-pr", id: "createPullRequest", tag: "Pipelines",
                summary: "Commit the generated files on a branch and open (or update) a pull request",
                parameters: [pipeline],
                body: ref("CreatePullRequestRequest"), bodyRequired: false,
                example: ["title": "Add CI/CD Pipeline", "include_nginx_config": true],
                responses: [
                    201: json(ref("CreatePullRequestResponse"), "Pull request opened"),
                    200: json(ref("CreatePullRequestResponse"), "An open pull request from that branch was updated"),
                ],
                errors: [400, 401, 403, 404, 409, 413, 422, 429] + upstream),
            endpoint(
                .get, "/api/pipelines/{id}/provisioning", id: "getProvisioningPlan", tag: "Pipelines",
                summary:
                    "What the repository's Bitbucket settings need for the generated pipeline: desired, current, action per item",
                parameters: [pipeline],
                responses: [200: json(ref("ProvisioningPlan"), "The plan (nothing is written)")],
                errors: [401, 404, 409, 422, 429] + upstream),
            endpoint(
                .post, "/api/pipelines/{id}/provision", id: "provisionRepository", tag: "Pipelines",
                summary: "Apply the plan: enable Pipelines, write the key pair, known hosts, variables, environment",
                parameters: [pipeline], body: ref("ProvisionRequest"), bodyRequired: false,
                example: ["replace_foreign_key_pair": false],
                responses: [200: json(ref("ProvisionResponse"), "Per-item results (a second apply writes nothing)")],
                errors: [400, 401, 403, 404, 409, 413, 422, 429] + upstream),
        ]
    }

    static func executions() -> [Endpoint] {
        let pipeline = pathID("id", "Pipeline id")
        let execution = pathID("id", "Execution id")
        return [
            endpoint(
                .post, "/api/pipelines/{id}/trigger", id: "triggerPipeline", tag: "Executions",
                summary: "Start the Bitbucket pipeline (attempts with backoff run in the background)",
                parameters: [pipeline],
                headers: [
                    headerParameter(
                        "Idempotency-Key", .string(minLength: 1, maxLength: 200),
                        "Returns the existing execution for a repeated key")
                ],
                body: ref("TriggerPipelineRequest"), bodyRequired: false,
                example: ["branch": "main", "retry": true, "max_retries": 3],
                responses: [202: json(ref("Execution"), "The execution (status `TRIGGERING`, or the existing one)")],
                errors: [400, 401, 403, 404, 413, 422, 429], links: Self.executionLinks),
            endpoint(
                .get, "/api/pipelines/{id}/executions", id: "listExecutions", tag: "Executions",
                summary: "The pipeline's executions, newest first", parameters: [pipeline],
                query: pageParameters + [queryParameter("status", executionStatus, "Only executions with this status")],
                responses: [200: json(page(of: "Execution"), "A page of executions")], errors: [400, 401, 404, 429]),
            endpoint(
                .get, "/api/executions/{id}", id: "getExecution", tag: "Executions",
                summary: "One execution with its attempts and steps",
                parameters: [execution], responses: [200: json(ref("Execution"), "The execution")],
                errors: [401, 404, 429]),
            endpoint(
                .post, "/api/executions/{id}/stop", id: "stopExecution", tag: "Executions",
                summary: "Ask Bitbucket to stop the run (409 once finished or while still triggering)",
                parameters: [execution],
                responses: [200: json(ref("Execution"), "The execution (becomes `STOPPED` when Bitbucket confirms)")],
                errors: [401, 403, 404, 409, 429, 502, 503, 504]),
            endpoint(
                .post, "/api/executions/{id}/rerun", id: "rerunExecution", tag: "Executions",
                summary: "Trigger the same branch, commit, pattern and variables again", parameters: [execution],
                responses: [202: json(ref("Execution"), "The new execution")], errors: [401, 403, 404, 429, 503],
                links: Self.executionLinks),
        ]
    }

    static func logs() -> [Endpoint] {
        let execution = pathID("id", "Execution id")
        return [
            endpoint(
                .get, "/api/pipelines/{id}/logs", id: "listPipelineLogs", tag: "Logs",
                summary: "Executions of the pipeline matching the filters, each with a log excerpt, plus a summary",
                parameters: [pathID("id", "Pipeline id")],
                query: pageParameters + [
                    queryParameter("status", executionStatus, "Only executions with this status"),
                    queryParameter("from_date", dateFilter, "Triggered at or after (RFC 3339 or YYYY-MM-DD)"),
                    queryParameter(
                        "to_date", dateFilter, "Triggered at or before (RFC 3339, or YYYY-MM-DD for the whole day)"),
                    queryParameter("step_filter", .string(), "Only executions with a step whose name contains this"),
                ],
                responses: [200: json(ref("PipelineLogsResponse"), "Executions with excerpts and a summary")],
                errors: [400, 401, 404, 429, 503]),
            endpoint(
                .get, "/api/executions/{id}/logs", id: "listLogLines", tag: "Logs",
                summary: "Stored log lines, filtered and paginated (or after a cursor with `after_seq`)",
                parameters: [execution],
                query: pageParameters + [
                    queryParameter(
                        "q", .string(maxLength: 1000),
                        "Text (or regular expression with regex=true) to match, ANSI stripped"),
                    queryParameter("regex", flag, "Treat q as a regular expression"),
                    queryParameter("case_sensitive", flag, "Match case"),
                    queryParameter(
                        "level", .string(allowedValues: ["ERROR", "WARN", "INFO", "DEBUG"]),
                        "Minimum level (WARN = WARN and ERROR)"),
                    queryParameter("step", .string(), "Only this step's lines"),
                    queryParameter(
                        "from_seq",
                        .integer(maximum: (Int(Int32.max), exclusive: false), minimum: (1, exclusive: false)),
                        "Lines from this seq on"),
                    queryParameter(
                        "after_seq",
                        .integer(maximum: (Int(Int32.max), exclusive: false), minimum: (0, exclusive: false)),
                        "Cursor mode: lines after this seq"),
                    queryParameter("highlight", flag, "Add `highlights` to matching lines"),
                    queryParameter(
                        "context", .integer(maximum: (50, exclusive: false), minimum: (0, exclusive: false)),
                        "Lines of context around matches"),
                ],
                responses: [200: json(ref("LogLinesResponse"), "Matching lines")], errors: [400, 401, 404, 429, 503]),
            endpoint(
                .post, "/api/executions/{id}/logs", id: "ingestLog", tag: "Logs",
                summary: "Admin: append the raw body (streamed, no size limit) to a step's log, as the monitor does",
                access: .admin, parameters: [execution],
                query: [
                    OpenAPI.Parameter(
                        name: "step", context: .query(required: true, schema: .string(minLength: 1, maxLength: 200)),
                        description: "Step name"),
                    queryParameter("finish", flag, "Flush the step's last partial line"),
                ],
                rawBody: true,
                responses: [200: json(ref("LogIngestResponse"), "Lines stored")],
                errors: [400, 401, 403, 404, 422, 429, 503]),
            endpoint(
                .get, "/api/executions/{id}/logs/raw", id: "downloadRawLog", tag: "Logs",
                summary: "The log bytes exactly as stored (`Range: bytes=…` supported)", parameters: [execution],
                query: [
                    queryParameter("step", .string(), "Only this step's bytes"),
                    queryParameter("strip_ansi", flag, "Plain text: escape sequences removed (Range is then ignored)"),
                ],
                headers: [headerParameter("Range", .string(), "One byte range, e.g. `bytes=0-1023`")],
                responses: [
                    200: text("The whole log"), 206: text("The requested range (with `Content-Range`)"),
                ],
                errors: [400, 401, 404, 416, 429, 503]),
            endpoint(
                .get, "/api/executions/{id}/logs/stats", id: "getLogStats", tag: "Logs",
                summary: "Line counts by level and step, first error, timestamps", parameters: [execution],
                responses: [200: json(ref("LogStatsResponse"), "Statistics")], errors: [401, 404, 429, 503]),
        ]
    }

    static func audit() -> [Endpoint] {
        [
            endpoint(
                .get, "/api/audit", id: "listAuditEntries", tag: "Audit",
                summary: "Audit entries, newest first (admins: all; members: their own)",
                query: pageParameters + [
                    queryParameter("actor", .string(minLength: 1, maxLength: 100), "Username, or numeric user id"),
                    queryParameter("action", .string(), "One action, e.g. `ssh_key.deploy`"),
                    queryParameter(
                        "resource", .string(), "`TYPE` or `TYPE:ID` (ssh_key, server, pipeline, execution, token, user)"
                    ),
                    queryParameter("outcome", .string(allowedValues: ["success", "failure", "denied"]), "Outcome"),
                    queryParameter("from_date", dateFilter, "At or after (RFC 3339 or YYYY-MM-DD)"),
                    queryParameter("to_date", dateFilter, "At or before (RFC 3339, or YYYY-MM-DD for the whole day)"),
                ],
                responses: [200: json(page(of: "AuditEntry"), "A page of audit entries")], errors: [400, 401, 429])
        ]
    }

    /// Administration of the installation (docs/API.md "Master key").
    static func administration() -> [Endpoint] {
        [
            endpoint(
                .post, "/api/admin/master-key/rotate", id: "rotateMasterKey", tag: "Administration",
                summary: "Admin: re-seal every stored secret under a new master key while the service runs",
                description:
                    "State-changing requests wait while the secrets are re-sealed; the new key replaces the key file "
                    + "atomically. 409 `master_key_in_environment` when the key comes from `PIPEWRIGHT_MASTER_KEY`, "
                    + "`other_instances_running` when other servers share the PostgreSQL database, `key_file_exists` "
                    + "when `<key file>.new` is left from an earlier rotation (never overwritten).",
                access: .admin,
                responses: [200: json(ref("MasterKeyRotation"), "The new key's id and how many values were re-sealed")],
                errors: [401, 403, 409, 429])
        ]
    }

    /// Realtime endpoints (docs/realtime.md). The WebSocket ones answer 101 only to a WebSocket upgrade; a
    /// plain GET gets the documented error.
    static func realtime() -> [Endpoint] {
        let engineIOError = ResponseSpec(
            description:
                "Engine.IO error (`{\"code\", \"message\"}`: 0 transport unknown, 1 session id unknown, 4 forbidden origin, 5 unsupported protocol version)",
            content: [.json: .content(.init(schema: ref("EngineIOError")))])
        return [
            endpoint(
                .get, "/socket.io", id: "socketIO", tag: "Realtime",
                summary: "Socket.IO v5 over Engine.IO v4, WebSocket transport only (auth in the CONNECT packet)",
                description: "Upgrade with `?EIO=4&transport=websocket`; polling and other protocol versions get 400.",
                access: .public,
                query: [
                    queryParameter("EIO", .string(), "Engine.IO protocol version; must be 4"),
                    queryParameter("transport", .string(), "Must be `websocket`"),
                    queryParameter("sid", .string(), "Not accepted (WebSocket-only sessions never upgrade)"),
                    queryParameter("t", .string(), "Cache buster, ignored"),
                ],
                responses: [
                    101: empty("Switching to WebSocket (only with `Upgrade: websocket`)"),
                    400: engineIOError,
                    403: ResponseSpec(
                        description: "Origin not allowed",
                        content: [.json: .content(.init(schema: ref("EngineIOError")))]),
                ],
                errors: [429]),
            endpoint(
                .get, "/api/ws", id: "plainWebSocket", tag: "Realtime",
                summary: "Plain WebSocket: JSON `{\"event\", \"data\", \"id\"?}` both ways",
                responses: [101: empty("Switching to WebSocket (only with `Upgrade: websocket`)")],
                errors: [400, 401, 403, 429]),
            endpoint(
                .get, "/api/executions/{id}/events", id: "executionEvents", tag: "Realtime",
                summary:
                    "Server-Sent Events of one execution: snapshot after `Last-Event-ID`/`after_seq`, then live events",
                description:
                    "Each event is `id: <seq>`, `event: <name>`, `data: <json>`. The stream ends after a terminal `pipeline_status`.",
                parameters: [pathID("id", "Execution id")],
                query: [
                    queryParameter(
                        "after_seq",
                        .integer(maximum: (Int(Int32.max), exclusive: false), minimum: (0, exclusive: false)),
                        "Resume after this seq (Last-Event-ID wins)")
                ],
                headers: [
                    headerParameter(
                        "Last-Event-ID", .string(), "The last event id received (EventSource sends it on reconnect)")
                ],
                responses: [
                    200: ResponseSpec(
                        description: "The event stream; each item is one event",
                        content: [.other("text/event-stream"): .content(.init(schema: ref("ServerSentEvent")))])
                ],
                errors: [400, 401, 404, 429]),
        ]
    }

    static func webhooks() -> [Endpoint] {
        [
            endpoint(
                .post, "/api/webhooks/bitbucket/{pipeline_id}", id: "receiveBitbucketWebhook", tag: "Webhooks",
                summary:
                    "Bitbucket webhook, signed `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body with the pipeline's webhook_secret>`",
                access: .public, parameters: [pathID("pipeline_id", "Pipeline id")],
                headers: [
                    headerParameter("X-Hub-Signature", .string(), "`sha256=` and the hex HMAC-SHA256 of the raw body")
                ],
                rawBody: true,
                responses: [202: empty("Accepted: the pipeline's active monitors poll now")],
                errors: [401, 404, 413, 429])
        ]
    }
}
