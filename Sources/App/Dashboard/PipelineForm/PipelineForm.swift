import Foundation
import Plot

/// `/pipelines/new` and `/pipelines/{id}/edit`: the form that creates or edits a pipeline (name,
/// connection, repository, branch, deploy targets, key, path, port, domain, commands). The values a user
/// typed come back after a refused submit; the rules are `PipelineCatalog`'s, applied through
/// `PipelineController.create`/`update` (docs/API.md "Pipelines").
enum PipelineForm {
    struct Model: Sendable, Equatable {
        /// `nil` for a new pipeline.
        var pipelineID: Int?
        /// The stored name of the pipeline being edited (the heading and crumbs).
        var storedName: String?
        var values: Values
        var connections: [Option]
        var servers: [Option]
        var keys: [Option]
        var error: String?

        struct Option: Sendable, Equatable {
            var id: Int
            var label: String
        }
    }

    /// The form's fields as the browser sends them (`application/x-www-form-urlencoded`; every field text,
    /// checked servers as `server_ids[]`).
    struct Values: Sendable, Equatable, Codable {
        var name = ""
        var connectionID = ""
        var repoSlug = ""
        var workspace = ""
        var branch = "main"
        var serverIDs: [String] = []
        var sshKeyID = ""
        var deployPath = ""
        var appPort = ""
        var domain = ""
        var buildCommand = ""
        var startCommand = ""

        enum CodingKeys: String, CodingKey {
            case name, workspace, branch, domain
            case connectionID = "connection_id"
            case repoSlug = "repo_slug"
            case serverIDs = "server_ids"
            case sshKeyID = "ssh_key_id"
            case deployPath = "deploy_path"
            case appPort = "app_port"
            case buildCommand = "build_command"
            case startCommand = "start_command"
        }

        init() {}

        /// Missing fields decode as empty (an unchecked box sends nothing); the rules are checked later.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func text(_ key: CodingKeys) throws -> String { try c.decodeIfPresent(String.self, forKey: key) ?? "" }
            name = try text(.name)
            connectionID = try text(.connectionID)
            repoSlug = try text(.repoSlug)
            workspace = try text(.workspace)
            branch = try text(.branch)
            serverIDs = try c.decodeIfPresent([String].self, forKey: .serverIDs) ?? []
            sshKeyID = try text(.sshKeyID)
            deployPath = try text(.deployPath)
            appPort = try text(.appPort)
            domain = try text(.domain)
            buildCommand = try text(.buildCommand)
            startCommand = try text(.startCommand)
        }
    }

    struct View {
        var context: PageContext
        var model: Model

        private var title: String {
            model.pipelineID == nil ? "New pipeline" : "Edit \(model.storedName ?? "pipeline")"
        }

        func render() -> String {
            DashboardPage(context: context, title: title, content: content()).render()
        }

        func content() -> Node<HTML.BodyContext> {
            let action = model.pipelineID.map { "/pipelines/\($0)/edit" } ?? "/pipelines"
            return .group(
                .p(
                    .class("crumbs"), .a(.href("/pipelines"), .text("Pipelines")), .text(" / "),
                    .unwrap(model.pipelineID) { id in
                        .group(
                            .a(.safeAttribute("href", "/pipelines/\(id)"), .safe(model.storedName ?? "pipeline")),
                            .text(" / "))
                    }),
                .h1(.safe(title)),
                .alert(model.error),
                model.connections.isEmpty && model.pipelineID == nil
                    ? .p(
                        .class("empty"), .text("A pipeline reads its repository through a Bitbucket connection: "),
                        .a(.href("/connections"), .text("add a connection")), .text(" first."))
                    : .form(
                        .class("card"), .method(.post), .safeAttribute("action", action),
                        csrfField(context),
                        repositoryFields(),
                        deployFields(),
                        .button(
                            .type(.submit), .class("primary"),
                            .text(model.pipelineID == nil ? "Create pipeline" : "Save changes"))
                    )
            )
        }

        private func repositoryFields() -> Node<HTML.FormContext> {
            let values = model.values
            let connection: Node<HTML.LabelContext> = .choice(
                name: "connection_id", model.connections.map { (String($0.id), $0.label) },
                selected: values.connectionID)
            let editing = model.pipelineID != nil
            return .fieldset(
                .element(named: "legend", nodes: [.text("Repository")]),
                .label(
                    .text("Name"),
                    .input(.type(.text), .name("name"), .required(true), .safe("value", values.name))),
                .label(.text("Bitbucket connection"), connection),
                .label(
                    .text(editing ? "Repository (cannot change)" : "Repository slug"),
                    .input(
                        .type(.text), .name("repo_slug"), .required(true), .safe("value", values.repoSlug),
                        .readonly(editing))),
                .label(
                    .text("Workspace (the connection's when empty)"),
                    .input(
                        .type(.text), .name("workspace"), .safe("value", values.workspace),
                        .readonly(editing))),
                .label(
                    .text("Branch"),
                    .input(.type(.text), .name("branch"), .required(true), .safe("value", values.branch)))
            )
        }

        private func deployFields() -> Node<HTML.FormContext> {
            let values = model.values
            let key: Node<HTML.LabelContext> = .choice(
                name: "ssh_key_id", model.keys.map { (String($0.id), $0.label) }, selected: values.sshKeyID)
            return .fieldset(
                .element(named: "legend", nodes: [.text("Deployment")]),
                model.servers.isEmpty
                    ? .p(
                        .class("hint"),
                        .text("No server yet: deploy a key to a server from its key page, then choose it here."))
                    : .div(
                        .class("checks"), .span(.class("label"), .text("Servers")),
                        .forEach(model.servers) { server in
                            .label(
                                .class("check"),
                                .input(
                                    .type(.checkbox), .name("server_ids[]"), .safe("value", String(server.id)),
                                    .checked(values.serverIDs.contains(String(server.id)))),
                                .text(" "), .safe(server.label))
                        }),
                .label(.text("SSH key the pipeline deploys with"), key),
                .label(
                    .text("Deploy path on the servers"),
                    .input(
                        .type(.text), .name("deploy_path"), .required(true), .safe("value", values.deployPath),
                        .placeholder("/srv/app"))),
                .label(
                    .text("Application port (for the nginx site)"),
                    .input(.type(.number), .name("app_port"), .safe("value", values.appPort))),
                .label(.text("Domain"), .input(.type(.text), .name("domain"), .safe("value", values.domain))),
                .label(
                    .text("Build command (the detected one when empty)"),
                    .input(.type(.text), .name("build_command"), .safe("value", values.buildCommand))),
                .label(
                    .text("Start command (the detected one when empty)"),
                    .input(.type(.text), .name("start_command"), .safe("value", values.startCommand)))
            )
        }
    }
}
