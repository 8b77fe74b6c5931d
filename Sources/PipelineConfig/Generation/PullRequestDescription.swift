import Foundation

/// A past pipeline run, as shown in the PR description.
public struct ExecutionSummary: Sendable, Hashable, Codable {
    /// Final or current status, e.g. `SUCCESS`, `FAILED` (execution statuses, docs/API.md "Triggering and
    /// executions").
    public var status: String
    /// Wall-clock duration in seconds, `nil` while unknown.
    public var durationSeconds: Int?
    /// When the run started.
    public var date: Date
    /// Bitbucket build number, when the run reached Bitbucket.
    public var buildNumber: Int?

    /// Creates a summary.
    public init(status: String, durationSeconds: Int?, date: Date, buildNumber: Int? = nil) {
        self.status = status
        self.durationSeconds = durationSeconds
        self.date = date
        self.buildNumber = buildNumber
    }
}

/// Renders the Markdown body of the pull request that adds the generated files
/// (`POST /api/pipelines/{id}/create-pr` without a `description`, docs/API.md "Pipelines").
///
/// Sections, in order: Detected stack (with evidence), Deployment (servers as `user@host:port`, path,
/// domain, environment, branch), Repository variables to define, Validation, Recent executions. The
/// output is deterministic: no clock is read, dates are ISO 8601 in UTC, lists keep their input order.
/// It contains no secrets because none of its inputs do; user text is flattened to one line and
/// backticks are removed so it cannot break out of code spans.
public enum PullRequestDescription {
    /// Renders the description.
    ///
    /// - Parameters:
    ///   - stack: The stack the configuration was generated for.
    ///   - settings: Deployment settings (servers, path, domain, environment, branch).
    ///   - executions: Recent runs, newest first as given; at most 10 are shown.
    ///   - validation: Validation results of the generated files.
    ///   - variables: Repository variables to define (from `PipelinesYAMLGenerator.requiredVariables`).
    /// - Returns: Markdown text ending with a newline.
    public static func render(
        stack: DetectedStack,
        settings: DeploymentSettings,
        executions: [ExecutionSummary] = [],
        validation: [ValidationResult] = [],
        variables: [RequiredVariable] = []
    ) -> String {
        var out: [String] = []
        out.append(
            "This pull request was opened by Pipewright. It adds a Bitbucket Pipelines configuration "
                + "that builds, tests and deploys **\(text(settings.pipelineName))**.")
        out.append("")
        out.append("## Detected stack")
        out.append("")
        out.append("- Language: \(code(stack.language.rawValue))")
        if let framework = stack.framework { out.append("- Framework: \(code(framework))") }
        if let version = stack.runtimeVersion { out.append("- Runtime version: \(code(version))") }
        if let manager = stack.packageManager { out.append("- Package manager: \(code(manager))") }
        out.append("- Directory: \(code(stack.directory.isEmpty ? "/" : stack.directory))")
        out.append("- Build: \(code(settings.buildCommand ?? stack.buildCommand))")
        if let test = stack.testCommand { out.append("- Test: \(code(test))") }
        if let start = settings.startCommand ?? stack.startCommand { out.append("- Start: \(code(start))") }
        if !stack.evidence.isEmpty {
            out.append("")
            out.append("Evidence:")
            out.append("")
            for evidence in stack.evidence {
                out.append("- \(code(evidence.file)): \(text(evidence.reason))")
            }
        }
        out.append("")
        out.append("## Deployment")
        out.append("")
        out.append("- Environment: \(code(settings.environment)) (branch \(code(settings.branch)))")
        out.append("- Path: \(code(settings.deployPath))")
        if let domain = settings.domain { out.append("- Domain: \(code(domain))") }
        if let port = settings.appPort { out.append("- Application port: \(code(String(port)))") }
        out.append("- Servers:")
        for server in settings.servers {
            out.append("  - \(code("\(server.username)@\(server.host):\(server.port)"))")
        }
        out.append(
            "- After upload each server runs: \(code(PipelinesYAMLGenerator.restartCommand(stack: stack, settings: settings)))"
        )
        if settings.restartCommand == nil, stack.language != .docker {
            let start = (settings.startCommand ?? stack.startCommand).map(code) ?? "the application"
            out.append(
                "- Each server needs a systemd unit \(code(settings.serviceName)) that runs \(start) in "
                    + "\(code(settings.deployPath)), and the SSH user may run "
                    + "\(code("sudo systemctl restart \(settings.serviceName)")) without a password.")
        }
        out.append("")
        out.append(
            "The Deploy step authenticates with the repository SSH key (Repository settings → Pipelines → "
                + "SSH keys). Authorise its public key on every server and add each host to Known hosts.")
        out.append("")
        out.append("## Repository variables to define")
        out.append("")
        if variables.isEmpty {
            out.append("None.")
        } else {
            out.append("| Name | Value | Secured | Description |")
            out.append("| --- | --- | --- | --- |")
            for variable in variables {
                let value = variable.secured ? "*(secret — enter it yourself)*" : variable.value.map(code) ?? "—"
                out.append(
                    "| \(code(variable.name)) | \(value) | \(variable.secured ? "yes" : "no") | \(cell(variable.description)) |"
                )
            }
        }
        out.append("")
        out.append("## Validation")
        out.append("")
        if validation.isEmpty { out.append("Not run.") }
        for result in validation {
            out.append("- \(code(result.file)): \(result.ok ? "✅ passed" : "❌ failed")")
            for message in result.messages { out.append("  - \(text(message))") }
        }
        out.append("")
        out.append("## Recent executions")
        out.append("")
        if executions.isEmpty {
            out.append("None yet.")
        } else {
            out.append("| Build | Status | Duration | Started (UTC) |")
            out.append("| --- | --- | --- | --- |")
            for execution in executions.prefix(10) {
                let build = execution.buildNumber.map { "#\($0)" } ?? "—"
                let duration = execution.durationSeconds.map { "\($0) s" } ?? "—"
                out.append("| \(build) | \(cell(execution.status)) | \(duration) | \(iso8601(execution.date)) |")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: - Escaping

    /// One line, no backticks, inside a code span.
    static func code(_ value: String) -> String {
        "`" + InputRules.singleLine(value).replacingOccurrences(of: "`", with: "'") + "`"
    }

    /// One line of plain text with Markdown-active characters escaped.
    static func text(_ value: String) -> String {
        var out = ""
        for character in InputRules.singleLine(value) {
            if "\\`*_[]<>|#".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// Text safe inside a table cell.
    static func cell(_ value: String) -> String { text(value) }

    /// `2026-01-31T12:00:00Z`.
    static func iso8601(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0) ?? .gmt))
    }
}
