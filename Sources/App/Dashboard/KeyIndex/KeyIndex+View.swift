import Plot

extension KeyIndex {
    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: "Keys", content: content()).render()
        }

        func content() -> Node<HTML.BodyContext> {
            .group(
                .h1(.text("SSH keys")),
                .form(
                    .class("filter"), .method(.get), .action("/keys"),
                    .label(
                        .text("Find"),
                        .input(
                            .type(.search), .name("q"), .safe("value", model.query),
                            .placeholder("name, comment or fingerprint"))),
                    .button(.type(.submit), .text("Search"))
                ),
                .unwrap(model.error) { .p(.class("error"), .attribute(named: "role", value: "alert"), .safe($0)) },
                model.rows.isEmpty
                    ? .p(
                        .class("empty"),
                        .text(model.query.isEmpty ? "No keys yet. Generate or import one below." : "No key matches."))
                    : table(),
                .if(context.can(.changeKeys), forms())
            )
        }

        func table() -> Node<HTML.BodyContext> {
            .table(
                .class("list"),
                .thead(.tr(.th("Name"), .th("Type"), .th("Fingerprint (SHA256)"), .th("Deployed"), .th("Status"))),
                .tbody(
                    .forEach(model.rows) { row in
                        .tr(
                            .td(.a(.safeAttribute("href", "/keys/\(row.id)"), .safe(row.name))),
                            .td(.safe(row.keyType == "rsa" ? "RSA \(row.keySize)" : row.keyType)),
                            .td(.code(.class("fp"), .safe(row.fingerprintSHA256))),
                            .td(
                                row.deployedOn > 0
                                    ? .span(.class("badge ok"), .safe("in use on \(row.deployedOn)"))
                                    : .span(.class("badge idle"), .text("deployed nowhere")),
                                .if(
                                    row.needsAttention > 0,
                                    .span(.class("badge warn"), .safe("\(row.needsAttention) to check")))
                            ),
                            .td(.span(.safeAttribute("class", "badge status-\(row.status)"), .safe(row.status)))
                        )
                    }
                ),
                .caption(.safe("\(model.total) key\(model.total == 1 ? "" : "s")"))
            )
        }

        func forms() -> Node<HTML.BodyContext> {
            .div(
                .class("forms"),
                .form(
                    .class("card"), .method(.post), .action("/keys/generate"),
                    .h2(.text("Generate a key pair")),
                    csrfField(context),
                    .label(
                        .text("Name"),
                        .input(.type(.text), .name("name"), .required(true), .safe("value", model.form.name))),
                    .label(
                        .text("Type"),
                        .choice(
                            name: "key_type", [("ed25519", "Ed25519"), ("rsa", "RSA 4096")],
                            selected: model.form.keyType)
                    ),
                    .label(
                        .text("Comment (optional)"),
                        .input(.type(.text), .name("comment"), .safe("value", model.form.comment))),
                    .button(.type(.submit), .class("primary"), .text("Generate"))
                ),
                .form(
                    .class("card"), .method(.post), .action("/keys/import"),
                    .h2(.text("Import a private key")),
                    csrfField(context),
                    .label(.text("Name"), .input(.type(.text), .name("name"), .required(true))),
                    .label(
                        .text("Private key (OpenSSH or PEM)"),
                        .textarea(
                            .name("private_key"), .attribute(named: "rows", value: "6"), .required(true),
                            .attribute(named: "spellcheck", value: "false"),
                            .attribute(named: "autocomplete", value: "off"))
                    ),
                    .label(
                        .text("Passphrase (if the key has one)"),
                        .input(.type(.password), .name("passphrase"), .attribute(named: "autocomplete", value: "off"))),
                    .button(.type(.submit), .class("primary"), .text("Import"))
                )
            )
        }
    }
}
