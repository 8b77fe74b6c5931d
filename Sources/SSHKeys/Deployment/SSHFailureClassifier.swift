/// Maps an OpenSSH client failure (exit status 255 and its standard error at `LogLevel=ERROR`)
/// to an ``SSHKeyError`` case.
///
/// Markers, in the order they are checked (OpenSSH 9.x wording):
///
/// | stderr contains | case |
/// | --- | --- |
/// | `REMOTE HOST IDENTIFICATION HAS CHANGED`, or `Host key verification failed.` with pins | `hostKeyMismatch` |
/// | `No … host key is known for` / `Host key verification failed.` without pins | `hostKeyUnknown` |
/// | `Permission denied (`, `Too many authentication failures` | `authFailed` |
/// | `Connection refused` | `connectionRefused` |
/// | `Could not resolve hostname`, `Name or service not known` | `dnsFailure` |
/// | `timed out` | `timeout` |
/// | anything else | `sshFailed(exit:summary:)` with the last line, sanitized |
///
/// The presented fingerprint is taken from the mismatch banner, e.g.
/// `The fingerprint for the ED25519 key sent by the remote host is\nSHA256:CwYT…GHY.`.
enum SSHFailureClassifier {
    /// Classifies a failed `ssh` run.
    ///
    /// - Parameters:
    ///   - exitStatus: The client's exit status (255 for its own errors).
    ///   - standardError: Its standard error, already redacted.
    ///   - pinnedFingerprints: `SHA256:` fingerprints of the pinned host keys.
    /// - Returns: The matching error.
    static func classify(exitStatus: Int32, standardError: String, pinnedFingerprints: [String]) -> SSHKeyError {
        let text = standardError
        if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
            || (text.contains("Host key verification failed") && !pinnedFingerprints.isEmpty)
        {
            return .hostKeyMismatch(pinned: pinnedFingerprints, presented: presentedFingerprint(in: text) ?? "unknown")
        }
        if text.contains("Host key verification failed") || text.contains("host key is known for") {
            return .hostKeyUnknown(presented: presentedFingerprint(in: text))
        }
        if text.contains("Permission denied (") || text.contains("Too many authentication failures") {
            return .authFailed
        }
        if text.contains("Connection refused") { return .connectionRefused }
        if text.contains("Could not resolve hostname") || text.contains("Name or service not known") {
            return .dnsFailure
        }
        if text.lowercased().contains("timed out") { return .timeout }
        return .sshFailed(exit: exitStatus, summary: summary(of: text))
    }

    /// The `SHA256:…` fingerprint following "sent by the remote host is", if present.
    static func presentedFingerprint(in text: String) -> String? {
        guard let marker = text.firstRange(of: "sent by the remote host is") else { return nil }
        guard let start = text[marker.upperBound...].firstRange(of: "SHA256:") else { return nil }
        let body = text[start.upperBound...].prefix(while: { base64Characters.contains($0) })
        guard !body.isEmpty else { return nil }
        return "SHA256:" + body
    }

    /// The last non-empty line, with control characters removed, truncated to 200 characters.
    static func summary(of text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
        guard let last = lines.last else { return "no diagnostic output" }
        let cleaned = String(
            String.UnicodeScalarView(last.unicodeScalars.filter { $0.properties.generalCategory != .control }))
        return cleaned.count > 200 ? String(cleaned.prefix(200)) + "…" : cleaned
    }

    private static let base64Characters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
