import Fluent
import Foundation

/// `/keys`: every key the team has, with where it is deployed, and the forms to generate or import one.
enum KeyIndex {
    struct Model: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var id: Int
            var name: String
            var keyType: String
            var keySize: Int
            var fingerprintSHA256: String
            var status: String
            /// Servers where the ledger says `present`.
            var deployedOn: Int
            /// Ledger rows whose state is not known (`unknown`) or the key was found missing.
            var needsAttention: Int
        }

        var rows: [Row]
        var total: Int
        var query: String
        /// The form fields to re-render after a failed submit (never a private key or passphrase).
        var form = FormState()
        var error: String?

        struct FormState: Sendable, Equatable {
            var name = ""
            var keyType = "ed25519"
            var comment = ""
        }
    }
}

extension KeyIndex.Model.Row {
    init(_ entry: KeyCatalog.Entry) throws {
        self.init(
            id: try entry.key.requireID(), name: entry.key.name, keyType: entry.key.keyType,
            keySize: entry.key.keySize, fingerprintSHA256: entry.key.fingerprintSHA256,
            status: entry.key.status.rawValue,
            deployedOn: entry.deployments.filter { $0.status == .present }.count,
            needsAttention: entry.deployments.filter { $0.status != .present }.count)
    }
}
