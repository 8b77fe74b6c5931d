/// The `PIPEWRIGHT_<NAME>=<value>` lines printed by an ``AuthorizedKeysScript``, ignoring
/// anything else the remote shell prints (banners, rc-file noise).
struct RemoteScriptOutput: Sendable, Equatable {
    /// Values by name (`STATUS`, `USER`, `ERROR`, `PRESENT`); the last occurrence wins.
    let values: [String: String]

    /// Parses standard output of a remote script.
    ///
    /// - Parameter standardOutput: Untrusted remote text.
    init(standardOutput: String) {
        var values: [String: String] = [:]
        for line in standardOutput.split(whereSeparator: \.isNewline) {
            guard line.hasPrefix("PIPEWRIGHT_"), let equals = line.firstIndex(of: "=") else { continue }
            let name = line[line.index(line.startIndex, offsetBy: 11)..<equals]
            values[String(name)] = String(line[line.index(after: equals)...])
        }
        self.values = values
    }

    /// `STATUS`, e.g. `added`.
    var status: String? { values["STATUS"] }

    /// `USER`, limited to 64 printable characters (the remote side is untrusted), or `"unknown"`.
    var remoteUser: String {
        let raw = values["USER"] ?? ""
        let printable = String(
            String.UnicodeScalarView(
                raw.unicodeScalars.filter { scalar in
                    scalar.properties.generalCategory != .control
                }
            ).prefix(64))
        return printable.isEmpty ? "unknown" : printable
    }

    /// `PRESENT` as `true`/`false`, `nil` when absent or `unknown`.
    var keyPresent: Bool? {
        switch values["PRESENT"] {
        case "yes": true
        case "no": false
        default: nil
        }
    }

    /// Interprets a script run that did not end with an expected status.
    ///
    /// - Parameter result: The SSH result.
    /// - Returns: ``SSHKeyError/permissionDeniedRemote(reason:)`` for a known `ERROR` token with
    ///   exit status 3, otherwise ``SSHKeyError/remoteScriptFailed(exit:reason:)``.
    func failure(of result: SSHCommandResult) -> SSHKeyError {
        if result.exitStatus == AuthorizedKeysScript.permissionFailureStatus, let token = values["ERROR"] {
            return .permissionDeniedRemote(
                reason: AuthorizedKeysScript.errorPhrases[token] ?? "the remote script reported an error")
        }
        let reason =
            result.exitStatus == 0
            ? "the remote command printed no status"
            : SSHFailureClassifier.summary(of: result.standardError)
        return .remoteScriptFailed(exit: result.exitStatus, reason: reason)
    }
}
