import Foundation
import OpenAPIKit

/// `#/components/schemas`: one entry per DTO in Sources/App/DTOs, with the JSON names the service encodes
/// (snake_case). A Swift optional is `optional(…)`: the key may be absent (the encoder omits `nil`) or `null`
/// (the decoder accepts it); every other property is required.
enum OpenAPISchemas {
    static let executionStatuses = [
        "TRIGGERING", "PENDING", "BUILDING", "TESTING", "DEPLOYING", "SUCCESS", "FAILED", "STOPPED", "ERROR",
    ]

    // MARK: - Helpers

    static func ref(_ name: String) -> JSONSchema { OpenAPIDocument.ref(name) }

    /// An object with exactly these documented properties (unknown keys are ignored on input).
    static func object(_ properties: KeyValuePairs<String, JSONSchema>, description: String? = nil) -> JSONSchema {
        var map: OrderedDictionary<String, JSONSchema> = [:]
        for (name, schema) in properties { map[name] = schema }
        return .object(description: description, properties: map)
    }

    /// May be absent or `null`.
    static func optional(_ schema: JSONSchema) -> JSONSchema {
        if case .reference = schema.value {
            return .any(of: schema, .null(), required: false)
        }
        return schema.optionalSchemaObject().nullableSchemaObject()
    }

    /// Always present, `null` when it has no value (the DTO encodes `nil` explicitly; issue 12 item 11).
    /// `anyOf [schema, null]`, so an enumeration need not list `null` among its values.
    static func nullable(_ schema: JSONSchema) -> JSONSchema {
        .any(of: schema, .null())
    }

    static func string(_ description: String? = nil) -> JSONSchema { .string(description: description) }
    static func enumeration(_ values: [String], _ description: String? = nil) -> JSONSchema {
        .string(description: description, allowedValues: values.map { AnyCodable($0) })
    }
    static var integer: JSONSchema { .integer }
    static var number: JSONSchema { .number }
    static var boolean: JSONSchema { .boolean }
    /// RFC 3339 UTC timestamp.
    static var timestamp: JSONSchema { .string(format: .dateTime) }
    static func array(_ items: JSONSchema) -> JSONSchema { .array(items: items) }
    static func map(_ values: JSONSchema) -> JSONSchema { .object(additionalProperties: .b(values)) }

    /// A display name: 1–200 characters, no control characters.
    static var name: JSONSchema { .string(minLength: 1, maxLength: 200) }
    /// A Bitbucket workspace or repository slug.
    static var slug: JSONSchema { .string(minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9._-]+$") }
    /// A TCP port.
    static var port: JSONSchema { .integer(maximum: (65535, exclusive: false), minimum: (1, exclusive: false)) }
    /// An id of one of our resources.
    static var id: JSONSchema { .integer(minimum: (1, exclusive: false)) }

    // MARK: - Schemas

    static var schemas: OpenAPI.ComponentDictionary<JSONSchema> {
        var all: OpenAPI.ComponentDictionary<JSONSchema> = [:]
        for (name, schema) in common.merging(accounts, uniquingKeysWith: { a, _ in a })
            .merging(keys, uniquingKeysWith: { a, _ in a }).merging(servers, uniquingKeysWith: { a, _ in a })
            .merging(connections, uniquingKeysWith: { a, _ in a }).merging(pipelines, uniquingKeysWith: { a, _ in a })
            .merging(executions, uniquingKeysWith: { a, _ in a }).merging(logs, uniquingKeysWith: { a, _ in a })
            .sorted(by: { $0.key < $1.key })
        {
            all[.init(stringLiteral: name)] = schema
        }
        return all
    }

    static var common: [String: JSONSchema] {
        [
            "Error": object(
                [
                    "error": object([
                        "code": string("snake_case error code"),
                        "message": string("Human sentence; never contains a secret"),
                        "details": map(.string),
                    ])
                ], description: "Error envelope (docs/API.md, Errors)"),
            "ServerSentEvent": object(
                [
                    "id": optional(string("The seq (a logs event: its last line's)")),
                    "event": optional(enumeration(["pipeline_status", "pipeline_logs", "log_error", "log_timeout"])),
                    "data": optional(string("The event's JSON payload (docs/API.md, Realtime events)")),
                    "retry": optional(integer),
                ], description: "One Server-Sent Event (WHATWG HTML §9.2) as a client parses it"),
            "EngineIOError": object(["code": integer, "message": string()], description: "Engine.IO handshake error"),
            "AuditEntry": object([
                "id": integer, "at": timestamp,
                "actor": optional(
                    object([
                        "id": nullable(.integer(description: "null for CLI actions (`cli:<OS user>`)")),
                        "username": string(),
                    ])),
                "action": string("e.g. `ssh_key.deploy`"),
                "resource": optional(object(["type": string(), "id": optional(integer)])),
                "ip": string(), "outcome": enumeration(["success", "failure", "denied"]),
                "details": map(.string),
            ]),
            "OperationError": object([
                "code": string(), "message": string(), "details": optional(map(.string)),
            ]),
            "Pagination": object([
                "page": integer, "per_page": integer, "total": integer, "pages": integer,
            ]),
            "MasterKeyRotation": object([
                "key_id": string("Id of the new master key"), "resealed": integer,
                "key_file": string("Where the new key was written"),
            ]),
            "Health": object([
                "status": enumeration(["ok"]), "version": string("Release number, e.g. `0.13.0`"),
                "commit": string("Git commit of the build (12 hex digits, `-dirty` suffix possible) or `unknown`"),
            ]),
            "Readiness": object([
                "ready": boolean, "database": boolean, "master_key": boolean, "message": optional(.string),
            ]),
        ]
    }

    static var accounts: [String: JSONSchema] {
        [
            "LoginRequest": object(["username": string(), "password": .string(format: .password)]),
            "User": object([
                "id": integer, "username": string(), "role": enumeration(["admin", "maintainer", "viewer"]),
                "disabled": boolean,
                "must_change_password": .boolean(
                    description: "An admin reset the password: only me, logout and password change until it changes"),
                "created_at": optional(timestamp),
            ]),
            "CreateUserRequest": object([
                "username": .string(description: "Letters, digits, ., _, -", minLength: 1, maxLength: 64),
                "password": optional(
                    .string(
                        format: .password,
                        description:
                            "At least 12 characters, not a common password, not the username; absent: generated",
                        minLength: 12, maxLength: 1024)),
                "role": enumeration(["admin", "maintainer", "viewer"]),
            ]),
            "CreatedUser": object([
                "user": ref("User"),
                "initial_password": nullable(
                    .string(description: "Only when no password was given (shown once); else null")),
            ]),
            "UpdateUserRequest": object([
                "role": optional(enumeration(["admin", "maintainer", "viewer"])), "disabled": optional(.boolean),
            ]),
            "PasswordReset": object([
                "user": ref("User"), "one_time_password": string("Shown once; must be changed at the next sign-in"),
                "sessions_ended": integer,
            ]),
            "ChangePasswordRequest": object([
                "current_password": .string(format: .password),
                "new_password": .string(
                    format: .password, description: "At least 12 characters, not a common password, not the username",
                    minLength: 12, maxLength: 1024),
                "revoke_tokens": optional(.boolean(description: "Also delete all your API tokens (default false)")),
            ]),
            "PasswordChanged": object(["sessions_ended": integer, "tokens_revoked": integer]),
            "LoginResponse": object(["user": ref("User"), "csrf_token": string("Send as X-CSRF-Token with the cookie")]
            ),
            "MeResponse": object([
                "user": ref("User"), "csrf_token": optional(.string(description: "Cookie sessions only")),
            ]),
            "CreateTokenRequest": object([
                "name": name,
                "expires_in_days": optional(
                    .integer(maximum: (3650, exclusive: false), minimum: (1, exclusive: false))),
            ]),
            "Token": object([
                "id": integer, "name": string(), "prefix": string("First characters of the token, to recognise it"),
                "created_at": optional(timestamp), "expires_at": optional(timestamp),
                "last_used_at": optional(timestamp),
            ]),
            "CreatedToken": object([
                "id": integer, "name": string(), "prefix": string(),
                "token": string("`pw_…`: shown only in this response"),
                "created_at": optional(timestamp), "expires_at": optional(timestamp),
            ]),
        ]
    }

    static var keys: [String: JSONSchema] {
        let target = object(
            [
                "server_id": optional(id), "host": optional(.string(minLength: 1, maxLength: 253)),
                "port": optional(port),
                "username": optional(.string),
                "password": optional(.string(format: .password, description: "Used once, never stored or logged")),
            ], description: "`{\"server_id\"}` or `{\"host\", \"port\"?, \"username\", \"password\"?}`")
        return [
            "CreateSSHKeyRequest": object([
                "name": name, "key_type": enumeration(["ed25519", "rsa"]),
                "key_size": optional(
                    .integer(
                        description: "rsa: 2048 or 4096 (default 4096); ed25519: 256", allowedValues: [256, 2048, 4096])
                ),
                "comment": optional(.string), "passphrase": optional(.string(format: .password)),
                "exportable": optional(.boolean),
            ]),
            "ImportSSHKeyRequest": object([
                "name": name, "private_key": .string(description: "OpenSSH or PEM text", minLength: 1),
                "passphrase": optional(.string(format: .password)), "comment": optional(.string),
                "exportable": optional(.boolean),
            ]),
            "UpdateSSHKeyRequest": object(["name": optional(name), "comment": optional(.string(maxLength: 200))]),
            "PrivateKey": object([
                "private_key": string("OpenSSH private key (passphrase-protected if the key has one)")
            ]),
            "ServerSummary": object(["id": integer, "host": string(), "port": integer, "username": string()]),
            "Deployment": object([
                "id": integer, "server": ref("ServerSummary"), "deployed_at": timestamp, "deployed_by": string(),
                "method": enumeration(["password", "key"]), "last_verified_at": optional(timestamp),
                "status": enumeration(["present", "missing", "unknown"]),
            ]),
            "SSHKey": object([
                "id": integer, "name": string(), "key_type": enumeration(["ed25519", "rsa", "ecdsa"]),
                "key_size": integer,
                "comment": string(), "public_key": string("One OpenSSH authorized_keys line"),
                "fingerprint_sha256": string("`SHA256:…` as ssh-keygen -l prints it"),
                "fingerprint_md5": string("`MD5:aa:bb:…`"),
                "exportable": boolean, "passphrase_protected": boolean, "created_at": optional(timestamp),
                "updated_at": optional(timestamp), "last_used_at": optional(timestamp),
                "status": enumeration(["active", "retired"]), "deployments": array(ref("Deployment")),
            ]),
            "Target": target,
            "DeployKeyRequest": object([
                "servers": .array(minItems: 1, maxItems: 100, items: ref("Target")), "parallel": optional(.boolean),
                "fix_permissions": optional(
                    .boolean(
                        description:
                            "Remove group/other write bits of the account's own home, ~/.ssh and authorized_keys when sshd's StrictModes refuses the key"
                    )),
            ]),
            "TestKeyRequest": object(["servers": optional(.array(items: ref("Target")))]),
            "UndeployKeyRequest": object([
                "servers": .array(minItems: 1, maxItems: 100, items: ref("Target")), "force": optional(.boolean),
            ]),
            "ServerResult": object([
                "server": optional(ref("ServerSummary")), "target": string("`user@host:port`"),
                "status": string(
                    "`deployed`, `already_present`, `removed`, `absent`, `rotated`, `failed` or `unknown`"),
                "error": optional(ref("OperationError")), "duration_s": number,
            ]),
            "ServerResults": object(["results": array(ref("ServerResult")), "ok": boolean]),
            "TestResult": object([
                "server": optional(ref("ServerSummary")), "target": string(), "ok": boolean,
                "latency_ms": optional(.number),
                "remote_user": optional(.string), "error": optional(ref("OperationError")),
            ]),
            "TestResults": object(["results": array(ref("TestResult")), "ok": boolean]),
            "RotateKeyResponse": object([
                "key": ref("SSHKey"), "retired_key_id": nullable(.integer), "results": array(ref("ServerResult")),
                "repositories": array(ref("RepositoryKeyPairResult")), "ok": boolean,
            ]),
        ]
    }

    static var servers: [String: JSONSchema] {
        [
            "CreateServerRequest": object([
                "name": optional(name), "notes": optional(.string(maxLength: 2000)),
                "host": .string(minLength: 1, maxLength: 253), "port": optional(port),
                "username": .string(minLength: 1, maxLength: 64),
                "legacy_rsa_sha1": optional(
                    .boolean(description: "Let RSA keys sign with ssh-rsa (SHA-1) on this server only")),
            ]),
            "UpdateServerRequest": object([
                "name": optional(name), "notes": optional(.string(description: "`\"\"` clears them", maxLength: 2000)),
                "legacy_rsa_sha1": optional(
                    .boolean(description: "Let RSA keys sign with ssh-rsa (SHA-1) on this server only")),
            ]),
            "AcceptHostKeyRequest": object([
                "fingerprint_sha256": .string(
                    description: "`SHA256:` and 43 base64 characters", pattern: "^SHA256:[A-Za-z0-9+/]{43}$")
            ]),
            "HostKey": object([
                "key_type": string(), "fingerprint_sha256": string(), "first_seen_at": timestamp,
                "approved_by": optional(.string),
            ]),
            "HostKeyHistoryEntry": object(
                [
                    "key_type": string(), "fingerprint_sha256": string(), "first_seen_at": timestamp,
                    "approved_by": nullable(.string), "ended_at": nullable(timestamp), "ended_by": nullable(.string),
                    "end_reason": nullable(enumeration(["replaced"])),
                    "replaced_by": nullable(.string(description: "`SHA256:` fingerprint accepted in its place")),
                ], description: "A pin of the server's host:port; active while `ended_at` is null"),
            "Server": object([
                "id": integer, "name": nullable(.string), "notes": nullable(.string), "host": string(),
                "port": integer, "username": string(),
                "legacy_rsa_sha1": boolean, "host_keys": array(ref("HostKey")),
                "host_key_history": array(ref("HostKeyHistoryEntry")), "created_at": optional(timestamp),
            ]),
        ]
    }

    static var connections: [String: JSONSchema] {
        [
            "CreateConnectionRequest": object([
                "name": name, "workspace": slug,
                "auth": object([
                    "type": enumeration(["api_token", "access_token"]),
                    "email": optional(.string(description: "Atlassian account e-mail (api_token only)")),
                    "token": .string(format: .password, minLength: 1, maxLength: 4096),
                ]),
            ]),
            "Connection": object([
                "id": integer, "name": string(), "workspace": string(),
                "auth_type": enumeration(["api_token", "access_token"]),
                "email": optional(.string), "account_name": optional(.string), "last_verified_at": optional(timestamp),
                "created_at": optional(timestamp),
            ]),
            "UpdateConnectionRequest": object([
                "name": optional(name),
                "auth": optional(
                    object([
                        "type": enumeration(["api_token", "access_token"]),
                        "email": optional(.string(description: "Atlassian account e-mail (api_token only)")),
                        "token": .string(format: .password, minLength: 1, maxLength: 4096),
                    ])),
            ]),
            "UpdatedConnection": object([
                "connection": ref("Connection"),
                "verification": nullable(ref("VerifyConnectionResponse")),
            ]),
            "VerifyConnectionResponse": object([
                "ok": boolean,
                "account": optional(
                    object([
                        "uuid": optional(.string), "display_name": optional(.string), "nickname": optional(.string),
                    ])),
                "error": optional(ref("OperationError")),
                "warnings": array(
                    string("e.g. PIPEWRIGHT_PUBLIC_URL is a loopback address: Bitbucket cannot deliver webhooks")),
            ]),
        ]
    }

    static var pipelines: [String: JSONSchema] {
        let stackOverride = object([
            "language": optional(.string), "framework": optional(.string), "runtime_version": optional(.string),
            "package_manager": optional(.string), "build_command": optional(.string), "test_command": optional(.string),
            "start_command": optional(.string),
        ])
        let deploy = object([
            "server_ids": .array(minItems: 1, maxItems: 50, items: id), "ssh_key_id": id,
            "deploy_path": .string(description: "Absolute path on the servers", minLength: 1, maxLength: 255),
            "app_port": optional(port), "domain": optional(.string), "build_command": optional(.string),
            "start_command": optional(.string),
        ])
        return [
            "StackOverride": stackOverride,
            "Deploy": deploy,
            "CreatePipelineRequest": object([
                "name": name, "connection_id": id, "repo_slug": slug, "workspace": optional(slug),
                "branch": optional(.string(minLength: 1, maxLength: 200)), "deploy": ref("Deploy"),
                "stack_override": optional(ref("StackOverride")),
            ]),
            "UpdatePipelineRequest": object([
                "name": optional(name), "connection_id": optional(id), "repo_slug": optional(slug),
                "workspace": optional(slug), "branch": optional(.string(minLength: 1, maxLength: 200)),
                "deploy": optional(ref("Deploy")),
                "stack_override": optional(ref("StackOverride")),
            ]),
            "Stack": object([
                "language": string(), "framework": optional(.string), "runtime_version": optional(.string),
                "package_manager": optional(.string), "build_command": string(), "test_command": optional(.string),
                "start_command": optional(.string), "directory": optional(.string),
                "evidence": array(object(["file": string(), "reason": string()])),
            ]),
            "WebhookSecret": object([
                "webhook_url": string(), "webhook_secret": string("Shown once; configure it in the Bitbucket webhook"),
            ]),
            "Pipeline": object([
                "id": integer, "name": string(), "connection_id": integer, "workspace": string(), "repo_slug": string(),
                "branch": string(), "stack": optional(ref("Stack")), "stack_override": optional(ref("StackOverride")),
                "deploy": ref("Deploy"), "webhook_url": string(),
                "webhook_secret": optional(.string(description: "Only in the creation response")),
                "provisioning_status": enumeration(["in_sync", "drifted", "never"]),
                "created_at": optional(timestamp), "updated_at": optional(timestamp),
            ]),
            "DetectResponse": object([
                "stack": ref("Stack"), "candidates": array(ref("Stack")), "is_monorepo": boolean,
                "stacks": array(ref("Stack")),
            ]),
            "ConfigResponse": object([
                "files": array(object(["path": string(), "content": string()])),
                "validation": array(object(["file": string(), "ok": boolean, "messages": array(.string)])),
                "repository_variables": array(
                    object([
                        "name": string(), "value": optional(.string), "secured": boolean, "description": string(),
                    ])),
            ]),
            "CreatePullRequestRequest": object([
                "title": optional(.string), "description": optional(.string), "branch": optional(.string),
                "commit_message": optional(.string), "include_nginx_config": optional(.boolean),
                "destination_branch": optional(.string), "close_source_branch": optional(.boolean),
                "provision": optional(.boolean), "replace_foreign_key_pair": optional(.boolean),
            ]),
            "CreatePullRequestResponse": object([
                "pull_request": object([
                    "id": integer, "url": string(), "title": string(), "source_branch": string(),
                    "destination_branch": string(),
                ]),
                "commit": optional(.string), "files": array(.string), "created": boolean,
                "provisioning": nullable(ref("ProvisionResponse")),
            ]),
            "ProvisionRequest": object([
                "replace_foreign_key_pair": optional(.boolean), "generate_rsa_key": optional(.boolean),
            ]),
            "ProvisionedState": object(
                [
                    "enabled": nullable(boolean), "value": nullable(string("null when secured")),
                    "secured": nullable(boolean), "public_key": nullable(string()),
                    "fingerprint_sha256": nullable(string()), "key_type": nullable(string()),
                    "key": nullable(string("Base64 host key blob")), "environment_type": nullable(string()),
                ], description: "Only the fields of the item's kind are non-null; never a secret"),
            "ProvisioningItem": object([
                "kind": enumeration(["pipelines", "key_pair", "known_host", "variable", "environment"]),
                "name": string(), "desired": ref("ProvisionedState"), "current": nullable(ref("ProvisionedState")),
                "action": enumeration(["create", "update", "none", "conflict"]), "reason": nullable(string()),
                "conflict": nullable(ref("OperationError")),
            ]),
            "ProvisioningPlan": object([
                "pipeline_id": integer, "repository": string(),
                "provisioning_status": enumeration(["in_sync", "drifted", "never"]), "in_sync": boolean,
                "items": array(ref("ProvisioningItem")),
            ]),
            "ProvisioningResult": object([
                "kind": enumeration(["pipelines", "key_pair", "known_host", "variable", "environment"]),
                "name": string(), "action": enumeration(["create", "update", "none", "conflict"]),
                "status": enumeration(["created", "updated", "unchanged", "conflict", "failed"]),
                "desired": ref("ProvisionedState"), "error": nullable(ref("OperationError")),
            ]),
            "ProvisionResponse": object([
                "pipeline_id": integer, "repository": string(),
                "provisioning_status": enumeration(["in_sync", "drifted", "never"]), "ok": boolean,
                "results": array(ref("ProvisioningResult")),
            ]),
            "RepositoryKeyPairResult": object([
                "repository": string(), "pipeline_ids": array(.integer),
                "status": enumeration(["replaced", "not_provisioned", "failed"]),
                "error": nullable(ref("OperationError")),
            ]),
        ]
    }

    static var executions: [String: JSONSchema] {
        [
            "TriggerPipelineRequest": object([
                "branch": optional(.string), "commit": optional(.string(description: "7-40 hexadecimal characters")),
                "pattern": optional(.string(description: "Custom pipeline name")),
                "variables": optional(
                    .array(
                        items: object([
                            "key": string(), "value": string(), "secured": optional(.boolean),
                        ]))),
                "retry": optional(.boolean),
                "max_retries": optional(.integer(maximum: (10, exclusive: false), minimum: (0, exclusive: false))),
            ]),
            "ExecutionStep": object([
                "uuid": string(), "name": string(), "status": string(), "started_at": optional(timestamp),
                "duration_s": optional(.number),
            ]),
            "Execution": object([
                "id": integer, "pipeline_id": integer, "status": enumeration(executionStatuses),
                "bitbucket": nullable(
                    object(
                        [
                            "uuid": string("Braced Bitbucket UUID"), "build_number": optional(.integer),
                            "url": optional(.string),
                        ], description: "null until Bitbucket accepted the trigger")),
                "branch": string(), "commit": nullable(.string),
                "trigger": object(["by": string(), "at": timestamp, "retry": boolean, "max_retries": integer]),
                "attempts": array(
                    object([
                        "n": integer, "started_at": timestamp, "finished_at": optional(timestamp),
                        "outcome": optional(.string(allowedValues: ["succeeded", "failed"])),
                        "http_status": optional(.integer), "error": optional(.string),
                        "next_retry_at": optional(timestamp),
                    ])),
                "steps": array(ref("ExecutionStep")), "error": nullable(.string), "started_at": nullable(timestamp),
                "finished_at": nullable(timestamp), "duration_s": nullable(.number),
            ]),
        ]
    }

    static var logs: [String: JSONSchema] {
        [
            "LogLine": object([
                "seq": integer, "step": string(), "ts": optional(timestamp),
                "level": nullable(.string(allowedValues: ["ERROR", "WARN", "INFO", "DEBUG"])),
                "text": string("The line as stored (ANSI escapes kept; control bytes other than TAB/ESC/CR as U+FFFD)"),
                "highlights": optional(
                    .array(
                        description: "UTF-16 [start, end) ranges in the ANSI-stripped text",
                        items: .array(items: .integer))),
                "context": optional(.boolean), "continues": optional(.boolean),
            ]),
            "LogLinesResponse": object([
                "items": array(ref("LogLine")), "pagination": optional(ref("Pagination")),
                "next_after_seq": optional(.integer), "highest_seq": integer,
                "partial": .boolean(
                    description: "The regex budget ran out; items cover the lines up to resume_after_seq"),
                "resume_after_seq": optional(
                    .integer(description: "With partial: last seq examined; continue with after_seq=this")),
                "total_is_lower_bound": optional(
                    .boolean(description: "With partial on a page query: pagination.total is a lower bound")),
            ]),
            "LogStatsResponse": object([
                "total_lines": integer, "bytes": integer, "by_level": map(.integer),
                "by_step": map(
                    object([
                        "lines": integer, "bytes": integer, "errors": integer, "warnings": integer,
                        "duration_s": optional(.number),
                        "dropped_bytes": integer,
                    ])),
                "first_error": optional(object(["seq": integer, "step": string(), "text": string()])),
                "first_timestamp": optional(timestamp), "last_timestamp": optional(timestamp),
                "timestamps_found": integer,
                "duration_s": optional(.number),
                "dropped_bytes": .integer(
                    description: "Output bytes dropped past PIPEWRIGHT_LOG_MAX_STEP_BYTES (not in bytes)"),
            ]),
            "LogIngestResponse": object(["lines_stored": integer, "highest_seq": integer]),
            "PipelineLogsResponse": object([
                "items": array(
                    .all(
                        of: ref("Execution"),
                        object(
                            ["excerpt": array(ref("LogLine")), "total_lines": integer, "errors": integer],
                            description: "Beside the execution's own fields (status, steps, times at the top level)"))),
                "pagination": ref("Pagination"),
                "summary": object([
                    "total": integer, "by_status": map(.integer), "success_rate": nullable(.number),
                    "average_duration_s": nullable(.number), "last_success_at": nullable(timestamp),
                    "last_failure_at": nullable(timestamp),
                ]),
            ]),
        ]
    }
}
