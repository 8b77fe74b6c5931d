import Fluent
import Foundation
import Plot

/// `/servers/{id}`: a server's pinned host keys and their history; a mismatch (a deploy or test that met
/// another host key links here with `?presented=SHA256:…`) shows old and new fingerprints and, for admins,
/// the form that accepts the new key.
enum ServerShow {
    struct Model: Sendable, Equatable {
        struct Pin: Sendable, Equatable {
            var keyType: String
            var fingerprint: String
            var firstSeenAt: Date
            var approvedBy: String?
            var endedAt: Date?
            var endedBy: String?
            var replacedBy: String?
        }

        var id: Int
        var name: String
        var login: String
        var legacyRSASHA1: Bool
        var active: [Pin]
        var history: [Pin]
        /// A fingerprint the server presented that is not pinned (from `?presented=`).
        var presented: String?
        var canAccept: Bool
        var notice: String?
        var error: String?
    }

    struct View {
        var context: PageContext
        var model: Model

        func render() -> String {
            DashboardPage(context: context, title: model.name, content: content()).render()
        }

        func content() -> Node<HTML.BodyContext> {
            .group(
                .p(.class("crumbs"), .a(.href("/servers"), .text("Servers")), .text(" / ")),
                .h1(.safe(model.name)),
                .alert(model.error),
                .dl(
                    .class("facts"),
                    .dt("Login"), .dd(.code(.safe(model.login))),
                    .dt("ssh-rsa (SHA-1) signatures"),
                    .dd(.safe(model.legacyRSASHA1 ? "allowed for this server" : "refused"))
                ),
                .unwrap(model.presented) { presented in
                    .section(
                        .class("results failed"),
                        .h2(.text("Host key mismatch")),
                        .p(.text("Pinned: "), .code(.safe(model.active.map(\.fingerprint).joined(separator: ", ")))),
                        .p(.text("Presented: "), .code(.safe(presented))),
                        .p(
                            .class("hint"),
                            .text(
                                "Accept only after checking the new key on the server's console (e.g. ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)."
                            )),
                        model.canAccept
                            ? .form(
                                .method(.post), .safeAttribute("action", "/servers/\(model.id)/host-key/accept"),
                                csrfField(context),
                                .input(.type(.hidden), .name("fingerprint_sha256"), .safe("value", presented)),
                                .button(.type(.submit), .class("danger"), .text("Accept the new host key")))
                            : .p(.class("hint"), .text("An admin can accept the new host key."))
                    )
                },
                .h2(.text("Pinned host keys")),
                pins(model.active, ended: false),
                .h2(.text("History")),
                pins(model.history, ended: true)
            )
        }

        func pins(_ pins: [Model.Pin], ended: Bool) -> Node<HTML.BodyContext> {
            guard !pins.isEmpty else {
                return .p(
                    .class("empty"), .text(ended ? "No earlier pin." : "None yet: the first login pins the host key."))
            }
            return .table(
                .class("list"),
                .thead(.tr(.th("Type"), .th("Fingerprint"), .th("First seen"), .th("Approved by"), .th("Ended"))),
                .tbody(
                    .forEach(pins) { pin in
                        .tr(
                            .td(.safe(pin.keyType)), .td(.code(.class("fp"), .safe(pin.fingerprint))),
                            .td(.time(pin.firstSeenAt)), .td(.safe(pin.approvedBy ?? "first contact")),
                            .td(
                                .unwrap(pin.endedAt, { .time($0) }, else: .text("active")),
                                .unwrap(pin.endedBy) { .safe(" by \($0)") },
                                .unwrap(pin.replacedBy) { .group(.text(" → "), .code(.safe($0))) }))
                    })
            )
        }
    }
}

extension ServerShow.Model.Pin {
    init(_ pin: PinnedHostKey) {
        self.init(
            keyType: pin.algorithm, fingerprint: pin.fingerprintSHA256, firstSeenAt: pin.firstSeenAt,
            approvedBy: pin.approvedBy, endedAt: pin.endedAt, endedBy: pin.endedBy,
            replacedBy: pin.replacedByFingerprint)
    }
}
