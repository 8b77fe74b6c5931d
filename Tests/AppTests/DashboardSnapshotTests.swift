import Foundation
import SnapshotTesting
import Testing

@testable import App

/// Every dashboard page rendered from a fixed model and compared with its reference rendering in
/// `__Snapshots__/DashboardSnapshotTests/` (pointfreeco/swift-snapshot-testing). A change of markup shows
/// up as a diff to review; a new page records its reference on the first run (and fails once).
@Suite struct DashboardSnapshotTests {
    static let date = Date(timeIntervalSince1970: 1_765_000_000)

    var context: PageContext {
        PageContext(
            user: AuthenticatedUser(
                id: 1, username: "ada", role: .admin, method: .session(id: 1, csrfToken: "csrf-token-fixed")),
            csrfToken: "csrf-token-fixed",
            assets: DashboardAssets(assets: [:]), section: .overview)
    }

    func context(_ section: DashboardPage.Section, notice: String? = nil) -> PageContext {
        var context = self.context
        context.section = section
        context.notice = notice
        return context
    }

    /// One line per tag, so a reference diff reads line by line.
    func lines(_ html: String) -> String {
        html.replacingOccurrences(of: "><", with: ">\n<")
    }

    @Test func login() {
        let anonymous = PageContext(user: nil, csrfToken: nil, assets: DashboardAssets(assets: [:]), section: .login)
        let html = Login.View(
            context: anonymous,
            model: .init(next: "/keys?q=a&b", username: "ada\"", error: "Wrong username or password.")
        ).render()
        assertSnapshot(of: lines(html), as: .lines)
    }

    @Test func overview() {
        let model = Overview.Model(
            running: [.init(id: 9, pipelineName: "web", branch: "main", status: "BUILDING", createdAt: Self.date)],
            failures: [
                .init(
                    id: 8, pipelineName: "web <beta>", branch: "feature/x", status: "FAILED", createdAt: Self.date,
                    firstError: .init(seq: 120, text: "ERROR: npm ERR! <missing>"))
            ],
            keys: [.init(id: 3, name: "old key", reason: "deployed nowhere")])
        assertSnapshot(of: lines(Overview.View(context: context(.overview), model: model).render()), as: .lines)
    }

    @Test func keyIndex() {
        let model = KeyIndex.Model(
            rows: [
                .init(
                    id: 1, name: "deploy <prod>", keyType: "ed25519", keySize: 256,
                    fingerprintSHA256: "SHA256:abc", status: "active", deployedOn: 2, needsAttention: 1),
                .init(
                    id: 2, name: "legacy", keyType: "rsa", keySize: 4096, fingerprintSHA256: "SHA256:def",
                    status: "retired", deployedOn: 0, needsAttention: 0),
            ], total: 2, query: "de\"p", form: .init(name: "new", keyType: "rsa", comment: ""),
            error: "name: must not be empty")
        assertSnapshot(
            of: lines(KeyIndex.View(context: context(.keys, notice: "Key deleted."), model: model).render()),
            as: .lines)
    }

    @Test func keyShow() {
        let model = KeyShow.Model(
            id: 4, name: "deploy", keyType: "ed25519", keySize: 256, comment: "ci@pipewright", status: "active",
            fingerprintSHA256: "SHA256:abc", fingerprintMD5: "MD5:aa:bb", publicKey: "ssh-ed25519 AAAA ci@pipewright",
            createdAt: Self.date, exportable: true,
            ledger: [
                .init(
                    serverID: 2, server: "web-1", target: "deploy@10.0.0.5:22", method: "password", status: "present",
                    deployedAt: Self.date, deployedBy: "ada", lastVerifiedAt: Self.date)
            ],
            servers: [.init(id: 2, label: "web-1 · deploy@10.0.0.5:22")],
            results: .init(
                action: "Test",
                rows: [
                    .init(
                        target: "deploy@10.0.0.5:22", status: "ok", ok: true, code: nil,
                        message: "Logged in as deploy in 42 ms", details: [:]),
                    .init(
                        target: "deploy@10.0.0.6:22", status: "failed", ok: false, code: "remote_permissions",
                        message: "sshd refuses the key: /home/deploy is group-writable",
                        details: ["path": "/home/deploy", "mode": "0775"]),
                ]),
            error: nil, deployForm: .init(serverID: nil, host: "10.0.0.7", port: "2222", username: "deploy"))
        assertSnapshot(of: lines(KeyShow.View(context: context(.keys), model: model).render()), as: .lines)
        assertSnapshot(of: lines(KeyShow.ExportView(context: context(.keys), model: model).render()), as: .lines)
    }

    @Test func executionIndex() {
        let model = ExecutionIndex.Model(
            rows: [
                .init(
                    id: 12, pipelineID: 1, pipelineName: "web", branch: "main", commit: "0123456789abcdef",
                    status: "SUCCESS", buildNumber: 7, triggeredBy: "ada", createdAt: Self.date, durationSeconds: 83,
                    attempts: 1)
            ],
            pipelines: [.init(id: 1, name: "web", defaultBranch: "main")], status: "SUCCESS", pipelineID: 1,
            branch: "main", page: 1, perPage: 20, total: 1, error: nil)
        assertSnapshot(of: lines(ExecutionIndex.View(context: context(.executions), model: model).render()), as: .lines)
    }

    @Test func executionShow() {
        var model = ExecutionShow.Model.empty(id: 12)
        model.pipelineID = 1
        model.pipelineName = "web"
        model.repository = "acme/web"
        model.branch = "main"
        model.commit = "0123456789abcdef0123"
        model.commitMessage = "Fix <script>alert(1)</script> & \"quotes\""
        model.status = "FAILED"
        model.bitbucketURL = "https://bitbucket.org/acme/web/pipelines/results/7"
        model.buildNumber = 7
        model.triggeredBy = "ada"
        model.createdAt = Self.date
        model.canChange = true
        model.highestSeq = 3
        model.steps = [
            .init(
                name: "Build", status: "FAILED", durationSeconds: 12.5, lines: 3, errors: 1, warnings: 0, firstSeq: 1,
                lastSeq: 3, isOpen: true,
                window: .init(
                    rowsHTML: #"<div class="ln" id="L1" data-seq="1" data-step="Build">…</div>"#, firstSeq: 1,
                    lastSeq: 3, hasBefore: false, hasAfter: false)),
            .init(
                name: "Deploy", status: "NOT_RUN", durationSeconds: nil, lines: 0, errors: 0, warnings: 0,
                firstSeq: nil, lastSeq: nil, isOpen: false, window: nil),
        ]
        model.statistics = .init(
            totalLines: 3, errors: 1, warnings: 0, byLevel: [("ERROR", 1), ("WARN", 0), ("INFO", 2), ("DEBUG", 0)],
            durationSeconds: 12.5, droppedBytes: 0)
        model.firstError = .init(seq: 3, step: "Build", text: "ERROR: boom")
        model.attempts = [.init(number: 1, startedAt: Self.date, outcome: "succeeded", httpStatus: 201, error: nil)]
        model.search = .init(
            text: "boom", isRegex: false, level: nil, step: nil, total: 1, page: 1, perPage: 50, isPartial: false,
            matches: [.init(seq: 3, step: "Build", html: "ERROR: <mark>boom</mark>")])
        assertSnapshot(of: lines(ExecutionShow.View(context: context(.executions), model: model).render()), as: .lines)
    }
}

extension DashboardSnapshotTests {
    @Test func pipelines() {
        let index = PipelineIndex.Model(
            rows: [.init(id: 1, name: "web", repository: "acme/web", branch: "main", provisioningStatus: "drifted")],
            total: 1)
        assertSnapshot(of: lines(PipelineIndex.View(context: context(.pipelines), model: index).render()), as: .lines)
        var show = PipelineShow.Model(
            id: 1, name: "web", repository: "acme/web", branch: "main", deployPath: "/srv/web",
            domain: "web.example.com",
            servers: ["deploy@10.0.0.5:22"], keyID: 4, webhookURL: "https://pw.example.com/api/webhooks/bitbucket/1",
            provisioningStatus: "in_sync",
            recent: [.init(id: 12, branch: "main", status: "SUCCESS", createdAt: Self.date)])
        show.preview = .init(
            files: [
                .init(path: "bitbucket-pipelines.yml", content: "pipelines:\n  default: []\n", ok: true, messages: [])
            ],
            variables: ["DEPLOY_HOST_1", "DEPLOY_PATH"])
        show.plan = [
            .init(
                kind: "known_host", name: "[10.0.0.5]:2222", action: "conflict",
                detail: "the server has no pinned host key")
        ]
        show.pullRequest = .init(
            id: 3, url: "https://bitbucket.org/acme/web/pull-requests/3", created: true,
            sourceBranch: "pipewright/add-pipeline")
        show.detection = .init(
            facts: [.init(label: "Language", value: "node"), .init(label: "Framework", value: "next")],
            evidence: [.init(file: "package.json", reason: "depends on next")], others: ["admin: python"])
        show.createdWebhookSecret = "whsec-shown-once"
        assertSnapshot(of: lines(PipelineShow.View(context: context(.pipelines), model: show).render()), as: .lines)
    }

    @Test func pipelineForm() {
        var values = PipelineForm.Values()
        (values.name, values.connectionID, values.repoSlug, values.serverIDs) = ("web", "1", "web", ["2"])
        (values.sshKeyID, values.deployPath, values.appPort) = ("4", "/srv/web", "3000")
        var model = PipelineForm.Model(
            pipelineID: nil, storedName: nil, values: values,
            connections: [.init(id: 1, label: "acme (acme)")],
            servers: [.init(id: 2, label: "deploy@10.0.0.5:22"), .init(id: 3, label: "deploy@10.0.0.6:22")],
            keys: [.init(id: 4, label: "deploy (ed25519)")], error: nil)
        assertSnapshot(of: lines(PipelineForm.View(context: context(.pipelines), model: model).render()), as: .lines)
        (model.pipelineID, model.storedName) = (1, "web")
        model.error = "Invalid field 'deploy_path': must be an absolute path."
        assertSnapshot(of: lines(PipelineForm.View(context: context(.pipelines), model: model).render()), as: .lines)
    }

    @Test func users() {
        let model = UserIndex.Model(
            rows: [
                .init(
                    id: 1, username: "ada", role: "admin", disabled: false, mustChangePassword: false,
                    createdAt: Self.date, isSelf: true),
                .init(
                    id: 2, username: "bob", role: "maintainer", disabled: true, mustChangePassword: false,
                    createdAt: Self.date, isSelf: false),
            ], total: 2,
            issued: .init(username: "carol", password: "one-time-password-shown-once", reason: "Initial password"))
        assertSnapshot(of: lines(UserIndex.View(context: context(.users), model: model).render()), as: .lines)
    }

    @Test func servers() {
        let index = ServerIndex.Model(
            rows: [.init(id: 2, name: "web-1", login: "deploy@10.0.0.5:22", hostKeys: 1, legacyRSASHA1: false)],
            total: 1)
        assertSnapshot(of: lines(ServerIndex.View(context: context(.servers), model: index).render()), as: .lines)
        let pin = ServerShow.Model.Pin(
            keyType: "ssh-ed25519", fingerprint: "SHA256:old", firstSeenAt: Self.date, approvedBy: nil, endedAt: nil,
            endedBy: nil, replacedBy: nil)
        let show = ServerShow.Model(
            id: 2, name: "web-1", login: "deploy@10.0.0.5:22", legacyRSASHA1: false, active: [pin],
            history: [
                .init(
                    keyType: "ssh-rsa", fingerprint: "SHA256:older", firstSeenAt: Self.date, approvedBy: "ada",
                    endedAt: Self.date, endedBy: "ada", replacedBy: "SHA256:old")
            ], presented: "SHA256:new", canAccept: true)
        assertSnapshot(of: lines(ServerShow.View(context: context(.servers), model: show).render()), as: .lines)
    }

    @Test func connectionsAuditAccount() {
        let connections = ConnectionIndex.Model(
            rows: [.init(id: 1, name: "acme", workspace: "acme", authType: "api_token")],
            verification: .init(connectionID: 1, ok: false, message: "not verified: Bitbucket refused the token."))
        assertSnapshot(
            of: lines(ConnectionIndex.View(context: context(.connections), model: connections).render()), as: .lines)
        let audit = AuditIndex.Model(
            rows: [
                .init(
                    at: Self.date, actor: "ada", action: "ssh_key.deploy", resource: "ssh_key 4", outcome: "success",
                    ip: "127.0.0.1", details: "servers=deploy@10.0.0.5:22=deployed")
            ], total: 1, page: 1, perPage: 20, filters: ["action": "ssh_key.deploy"])
        assertSnapshot(of: lines(AuditIndex.View(context: context(.audit), model: audit).render()), as: .lines)
        let account = Account.Model(
            username: "ada", role: "admin",
            tokens: [
                .init(id: 1, name: "ci", prefix: "pw_abcd", createdAt: Self.date, lastUsedAt: nil, expiresAt: nil)
            ], newToken: "pw_new-token-shown-once")
        assertSnapshot(of: lines(Account.View(context: context(.account), model: account).render()), as: .lines)
    }
}
