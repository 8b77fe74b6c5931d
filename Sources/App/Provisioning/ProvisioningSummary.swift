/// The "Repository settings provisioned by Pipewright" section of a pull request description: one line per
/// item with its result. Public halves only: variable values that are not secured, key and host-key
/// fingerprints; never a private key or a secured value.
enum ProvisioningSummary {
    static func markdown(_ run: ProvisioningRun) -> String {
        var lines = [
            "## Repository settings provisioned by Pipewright",
            "",
            run.ok
                ? "Bitbucket now holds everything the Deploy step needs:"
                : "Some settings could not be provisioned; the Deploy step fails until they are fixed:",
            "",
        ]
        for result in run.results {
            lines.append("- \(describe(result.item)): **\(result.status)**" + suffix(result))
        }
        return lines.joined(separator: "\n")
    }

    private static func describe(_ item: ProvisioningItem) -> String {
        switch item.kind {
        case .pipelines: "Pipelines enabled"
        case .environment: "Deployment environment `\(item.name)`"
        case .keyPair: "SSH key pair `\(item.desired.fingerprintSHA256 ?? "")`"
        case .knownHost:
            "Known host `\(item.name)` (\(item.desired.keyType ?? "no pin") `\(item.desired.fingerprintSHA256 ?? "")`)"
        case .variable:
            item.desired.secured == true
                ? "Variable `\(item.name)` (secured)" : "Variable `\(item.name)` = `\(item.desired.value ?? "")`"
        }
    }

    private static func suffix(_ result: ProvisioningRun.ItemResult) -> String {
        switch result.outcome {
        case .conflict: " — \(result.item.conflict?.message ?? "")"
        case .failed(let code, let message): " — \(code): \(message)"
        case .created, .updated, .unchanged: ""
        }
    }
}
