import Fluent
import Foundation

/// `/`: what needs the team's attention now: running executions, recent failures with their first error,
/// and keys whose deployment needs a look.
enum Overview {
    struct Model: Sendable, Equatable {
        struct Execution: Sendable, Equatable {
            var id: Int
            var pipelineName: String
            var branch: String
            var status: String
            var createdAt: Date?
            /// The first ERROR line, for failures.
            var firstError: FirstError?
        }

        struct FirstError: Sendable, Equatable {
            var seq: Int
            var text: String
        }

        struct KeyAttention: Sendable, Equatable {
            var id: Int
            var name: String
            /// "deployed nowhere", "state unknown on 2 servers", …
            var reason: String
        }

        var running: [Execution]
        var failures: [Execution]
        var keys: [KeyAttention]
    }
}
