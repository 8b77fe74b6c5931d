import Fluent
import Foundation
import PipewrightCore

/// `/keys/{id}`: one key, its ledger, and the deploy / test / undeploy / rotate / export / delete actions.
enum KeyShow {
    struct Model: Sendable, Equatable {
        var id: Int
        var name: String
        var keyType: String
        var keySize: Int
        var comment: String
        var status: String
        var fingerprintSHA256: String
        var fingerprintMD5: String
        var publicKey: String
        var createdAt: Date?
        var exportable: Bool
        var ledger: [LedgerRow]
        /// Servers the team knows, for the deploy form.
        var servers: [ServerOption]
        /// The outcome of the action just taken (deploy, test, undeploy, rotate), shown above the ledger.
        var results: Results?
        var error: String?
        /// Deploy form fields to keep after a failed submit; the password is never among them.
        var deployForm = DeployForm()

        struct LedgerRow: Sendable, Equatable {
            var serverID: Int
            var server: String
            var target: String
            var method: String
            var status: String
            var deployedAt: Date
            var deployedBy: String
            var lastVerifiedAt: Date?
        }

        struct ServerOption: Sendable, Equatable {
            var id: Int
            var label: String
        }

        struct DeployForm: Sendable, Equatable {
            var serverID: Int?
            var host = ""
            var port = ""
            var username = ""
        }

        struct Results: Sendable, Equatable {
            /// "Deploy", "Test", "Undeploy", "Rotate".
            var action: String
            var rows: [ResultRow]
            /// For a rotation: the new key's id.
            var successorID: Int?
            var ok: Bool { rows.allSatisfy(\.ok) }
        }

        struct ResultRow: Sendable, Equatable {
            var target: String
            var status: String
            var ok: Bool
            var code: String?
            var message: String?
            var details: [String: String]
        }
    }
}

extension KeyShow.Model {
    init(_ entry: KeyCatalog.Entry, servers: [Server]) throws {
        let key = entry.key
        self.init(
            id: try key.requireID(), name: key.name, keyType: key.keyType, keySize: key.keySize, comment: key.comment,
            status: key.status.rawValue, fingerprintSHA256: key.fingerprintSHA256, fingerprintMD5: key.fingerprintMD5,
            publicKey: key.publicKey, createdAt: key.createdAt, exportable: key.exportable,
            ledger: try entry.deployments.map { deployment in
                let server = deployment.server
                return LedgerRow(
                    serverID: try server.requireID(), server: server.name ?? server.host,
                    target: "\(server.username)@\(server.host):\(server.port)", method: deployment.method.rawValue,
                    status: deployment.status.rawValue, deployedAt: deployment.deployedAt,
                    deployedBy: deployment.deployedBy, lastVerifiedAt: deployment.lastVerifiedAt)
            },
            servers: try servers.map {
                ServerOption(
                    id: try $0.requireID(),
                    label: ($0.name.map { "\($0) · " } ?? "") + "\($0.username)@\($0.host):\($0.port)")
            })
    }
}

extension KeyShow.Model.ResultRow {
    init(_ result: ServerOperationResult) {
        let error = result.error.map(OperationErrorResponse.init)
        self.init(
            target: result.target, status: result.status, ok: result.succeeded, code: error?.code,
            message: error?.message, details: error?.details ?? [:])
    }

    init(_ result: ServerTestResult) {
        switch result.outcome {
        case .success(let login):
            self.init(
                target: result.target, status: "ok", ok: true, code: nil,
                message: "Logged in as \(login.remoteUser) in \(Int(login.latency.milliseconds)) ms", details: [:])
        case .failure(let error):
            let rendered = OperationErrorResponse(error)
            self.init(
                target: result.target, status: "failed", ok: false, code: rendered.code, message: rendered.message,
                details: rendered.details ?? [:])
        }
    }
}
