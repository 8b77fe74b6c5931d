import Foundation
import Plot

extension KeyShow {
    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: model.name, content: content()).render()
        }

        private var base: String { "/keys/\(model.id)" }

        private var serverOptions: [(value: String, label: String)] {
            var options: [(value: String, label: String)] = [("", "— a new server (below) —")]
            for server in model.servers { options.append((String(server.id), server.label)) }
            return options
        }

        func content() -> Node<HTML.BodyContext> {
            .group(
                .p(.class("crumbs"), .a(.href("/keys"), .text("Keys")), .text(" / ")),
                .h1(.safe(model.name), .text(" "), .badge(model.status)),
                .alert(model.error),
                results(),
                .dl(
                    .class("facts"),
                    .dt("Type"), .dd(.safe(model.keyType == "rsa" ? "RSA \(model.keySize)" : model.keyType)),
                    .dt("Fingerprint"), .dd(.code(.class("fp"), .safe(model.fingerprintSHA256))),
                    .dt("MD5"), .dd(.code(.class("fp"), .safe(model.fingerprintMD5))),
                    .dt("Comment"), .dd(.safe(model.comment)),
                    .dt("Created"), .dd(.time(model.createdAt))
                ),
                .section(
                    .h2(.text("Public key")),
                    .div(
                        .class("copyable"),
                        .pre(.id("public-key"), .class("public-key"), .safe(model.publicKey)),
                        .button(
                            .type(.button), .class("copy"), .attribute(named: "data-copy", value: "public-key"),
                            .text("Copy"))
                    ),
                    .p(
                        .class("hint"),
                        .text("Add this line to ~/.ssh/authorized_keys, or let Pipewright deploy it below."))
                ),
                ledger(),
                .if(model.status == "active" && (context.can(.operateKeys) || context.can(.changeKeys)), actions())
            )
        }

        func results() -> Node<HTML.BodyContext> {
            guard let results = model.results else { return .empty }
            return .section(
                .class("results " + (results.ok ? "ok" : "failed")),
                .attribute(named: "aria-label", value: "\(results.action) results"),
                .h2(.safe("\(results.action): " + (results.ok ? "done" : "not everywhere"))),
                .ul(
                    .class("checklist"),
                    .forEach(results.rows) { row in
                        .li(
                            .class(row.ok ? "ok" : "failed"),
                            .span(.class("mark"), .text(row.ok ? "✔" : "✘")),
                            .code(.safe(row.target)), .text(" "), .badge(row.status),
                            .unwrap(row.message) { .span(.class("message"), .safe(" " + $0)) },
                            .unwrap(row.code) { .span(.class("code"), .safe(" (\($0))")) },
                            .if(
                                !row.details.isEmpty,
                                .ul(
                                    .class("details"),
                                    .forEach(row.details.sorted(by: { $0.key < $1.key })) { item in
                                        .li(.code(.safe(item.key)), .text(": "), .safe(item.value))
                                    }))
                        )
                    }
                ),
                .unwrap(results.successorID) { id in
                    .p(.a(.safeAttribute("href", "/keys/\(id)"), .text("Open the new key")))
                }
            )
        }

        func ledger() -> Node<HTML.BodyContext> {
            .section(
                .h2(.text("Where it is deployed")),
                model.ledger.isEmpty
                    ? .p(.class("empty"), .text("Deployed nowhere yet."))
                    : .table(
                        .class("list"),
                        .thead(
                            .tr(
                                .th("Server"), .th("Login"), .th("Method"), .th("Deployed"), .th("Last test"),
                                .th("State"), .th(""))),
                        .tbody(
                            .forEach(model.ledger) { row in
                                .tr(
                                    .td(.a(.safeAttribute("href", "/servers/\(row.serverID)"), .safe(row.server))),
                                    .td(.code(.safe(row.target))),
                                    .td(.safe(row.method)),
                                    .td(.time(row.deployedAt), .safe(" by \(row.deployedBy)")),
                                    .td(.time(row.lastVerifiedAt)),
                                    .td(.badge(row.status)),
                                    .td(
                                        .if(
                                            model.status == "active" && context.can(.operateKeys),
                                            .form(
                                                .class("inline"), .method(.post),
                                                .safeAttribute("action", "\(base)/undeploy"),
                                                csrfField(context),
                                                .input(
                                                    .type(.hidden), .name("server_id"),
                                                    .safe("value", String(row.serverID))),
                                                .button(.type(.submit), .text("Remove"))
                                            ))
                                    )
                                )
                            }
                        )
                    ),
                .p(
                    .class("hint"),
                    .text(
                        "Removing refuses when this key is the last Pipewright key that can log in to that account, "
                            + "so a removal never locks Pipewright out.")
                )
            )
        }

        func actions() -> Node<HTML.BodyContext> {
            .div(
                .class("forms"),
                .form(
                    .class("card"), .method(.post), .safeAttribute("action", "\(base)/deploy"),
                    .h2(.text("Deploy to a server")),
                    csrfField(context),
                    .if(
                        !model.servers.isEmpty,
                        .label(
                            .text("Known server"),
                            .choice(
                                name: "server_id", serverOptions, selected: model.deployForm.serverID.map(String.init))
                        )),
                    .fieldset(
                        .element(named: "legend", text: "Or a new server"),
                        .label(
                            .text("Host"),
                            .input(
                                .type(.text), .name("host"), .safe("value", model.deployForm.host),
                                .attribute(named: "autocomplete", value: "off"))),
                        .label(
                            .text("Port"),
                            .input(
                                .type(.number), .name("port"), .safe("value", model.deployForm.port),
                                .placeholder("22"), .attribute(named: "min", value: "1"),
                                .attribute(named: "max", value: "65535"))),
                        .label(
                            .text("Remote user"),
                            .input(
                                .type(.text), .name("username"), .safe("value", model.deployForm.username),
                                .attribute(named: "autocomplete", value: "off")))
                    ),
                    .label(
                        .text("One-time password (used for this deploy only, never stored)"),
                        .input(.type(.password), .name("password"), .attribute(named: "autocomplete", value: "off"))
                    ),
                    .label(
                        .class("check"), .input(.type(.checkbox), .name("fix_permissions"), .value("true")),
                        .text(" Repair home/.ssh modes the server's StrictModes refuses (never widens, never chowns)")),
                    .button(.type(.submit), .class("primary"), .text("Deploy"))
                ),
                .div(
                    .class("card"),
                    .h2(.text("Check and maintain")),
                    .form(
                        .method(.post), .safeAttribute("action", "\(base)/test"), csrfField(context),
                        .button(.type(.submit), .text("Test login on every server"))
                    ),
                    .form(
                        .method(.post), .safeAttribute("action", "\(base)/rotate"), csrfField(context),
                        .label(
                            .class("check"),
                            .input(.type(.checkbox), .name("confirm"), .value("rotate"), .required(true)),
                            .text(" Replace this key everywhere with a new one")),
                        .button(.type(.submit), .text("Rotate"))
                    ),
                    .if(
                        model.exportable && context.can(.exportPrivateKeys),
                        .p(.a(.safeAttribute("href", "\(base)/export"), .text("Export the private key…")))),
                    .form(
                        .method(.post), .safeAttribute("action", "\(base)/delete"), csrfField(context),
                        .label(
                            .class("check"),
                            .input(.type(.checkbox), .name("confirm"), .value("delete"), .required(true)),
                            .text(" Delete this key")),
                        .button(.type(.submit), .class("danger"), .text("Delete"))
                    )
                )
            )
        }
    }

    /// `/keys/{id}/export`: the confirmation before a private key download.
    struct ExportView {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(
                context: context, title: "Export \(model.name)",
                content: .section(
                    .class("card narrow"),
                    .h1(.text("Export the private key of "), .safe(model.name)),
                    .p(
                        .text(
                            "The download is the private key in OpenSSH format (protected by its passphrase if it has one). "
                                + "Anyone holding it can log in wherever this key is deployed. The export is recorded in the audit log."
                        )),
                    .form(
                        .method(.post), .safeAttribute("action", "/keys/\(model.id)/export"), csrfField(context),
                        .button(.type(.submit), .class("danger"), .text("Download the private key"))
                    ),
                    .p(.a(.safeAttribute("href", "/keys/\(model.id)"), .text("Cancel")))
                )
            ).render()
        }
    }
}
