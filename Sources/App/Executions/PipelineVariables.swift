import Fluent
import Foundation
import PipewrightCore

/// One pipeline variable of a trigger, as sealed in `executions.sealed_variables` (a JSON array); needed
/// again only for retries and reruns.
struct PipelineVariable: Codable, Sendable, Equatable {
    var key: String
    var value: String
    var secured: Bool
}

extension SecretVault {
    /// Seals `variables` for execution `id`; `nil` when there are none.
    func sealVariables(_ variables: [PipelineVariable], execution id: Int) throws -> String? {
        guard !variables.isEmpty else { return nil }
        return try seal(Array(try JSONEncoder().encode(variables)), for: .executionVariables, row: id)
    }

    /// The variables sealed with `execution` (empty when it has none).
    ///
    /// - Throws: `SecretError.sealedSecretCorrupt`, or a decoding error for a damaged value.
    func openVariables(of execution: Execution) throws -> [PipelineVariable] {
        guard let sealed = execution.sealedVariables else { return [] }
        let opened = try open(sealed, for: .executionVariables, row: try execution.requireID())
        return try JSONDecoder().decode([PipelineVariable].self, from: Data(opened.value))
    }
}
