/// The rules the generators apply to each field of a pipeline's `deploy` settings, exposed so the
/// application checks a field once, when it is stored, with the very rule that generation applies later
/// (issue 12 item 10: a domain such as `web..example.com` was accepted at create and then failed every
/// config and pull-request call with 422).
///
/// Each check throws ``PipelineConfigError/invalidInput(field:reason:)`` naming the generator's field
/// (`domain`, `app_port`, `deploy_path`, `build_command`, …); callers prefix it with their own path.
///
/// | field | rule | e.g. refused |
/// |---|---|---|
/// | `domain` | RFC 1123 host name, optional leading `*.`, ≤ 253 characters (nginx `server_name`) | `web..example.com`, `-a.com` |
/// | `app_port` | `1...65535` | `0`, `70000` |
/// | `deploy_path` | absolute, `[A-Za-z0-9._/-]`, no `.`/`..` segments, not `/`, ≤ 255 | `~/app`, `/srv/../etc` |
/// | commands | one non-blank line, ≤ 1000 characters, no control characters, no embedded secret | `make\nrm -rf /`, `curl -u x:y password=…` |
public enum DeploymentFieldRules {
    /// Checks the public host name nginx serves (`server_name`).
    ///
    /// - Throws: `PipelineConfigError.invalidInput(field: "domain", …)`.
    public static func checkDomain(_ domain: String) throws(PipelineConfigError) {
        guard InputRules.isHostname(domain, allowWildcard: true) else {
            throw .invalidInput(field: "domain", reason: "must be a host name")
        }
    }

    /// Checks the application's local TCP port (`1...65535`).
    ///
    /// - Throws: `PipelineConfigError.invalidInput(field: "app_port", …)`.
    public static func checkAppPort(_ port: Int) throws(PipelineConfigError) {
        guard InputRules.isPort(port) else { throw .invalidInput(field: "app_port", reason: "must be 1-65535") }
    }

    /// Checks the absolute directory on each server.
    ///
    /// - Throws: `PipelineConfigError.invalidInput(field: "deploy_path", …)`.
    public static func checkDeployPath(_ path: String) throws(PipelineConfigError) {
        guard InputRules.isDeployPath(path) else {
            throw .invalidInput(
                field: "deploy_path", reason: "must be an absolute path of letters, digits, '.', '_', '-' and '/'")
        }
    }

    /// Checks a user-typed command (build, start, restart, …).
    ///
    /// - Parameter field: The generator's name for it, e.g. `build_command`.
    /// - Throws: `PipelineConfigError.invalidInput(field: field, …)`.
    public static func checkCommand(_ command: String, field: String) throws(PipelineConfigError) {
        guard InputRules.isCommand(command) else {
            throw .invalidInput(field: field, reason: "must be one non-empty line")
        }
        guard !InputRules.looksSecret(command) else {
            throw .invalidInput(
                field: field, reason: "looks like it contains a secret; use a secured repository variable instead")
        }
    }
}
