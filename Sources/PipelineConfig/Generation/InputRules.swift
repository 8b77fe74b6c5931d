/// Validation rules shared by the generators. Every value that reaches a generated file passes one.
enum InputRules {
    /// RFC 1123 host name (labels `[A-Za-z0-9-]{1,63}`, not starting or ending with `-`, ≤ 253 chars),
    /// optionally with a leading `*.` wildcard label when `allowWildcard`.
    static func isHostname(_ text: String, allowWildcard: Bool = false) -> Bool {
        var name = Substring(text)
        if allowWildcard, name.hasPrefix("*.") { name = name.dropFirst(2) }
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty, name.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// A host name, a dotted IPv4 address or an IPv6 address (hex digits, `:` and `.`, at least two `:`).
    static func isHost(_ text: String) -> Bool {
        if isHostname(text) { return true }
        let ipv6 =
            text.filter { $0 == ":" }.count >= 2 && text.count <= 45
            && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        return ipv6
    }

    /// POSIX-portable user name: `[A-Za-z_][A-Za-z0-9_.-]*`, 1–32 characters.
    static func isUsername(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 32, first.isASCII, first.isLetter || first == "_" else {
            return false
        }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    /// TCP port `1...65535`.
    static func isPort(_ port: Int) -> Bool { (1...65535).contains(port) }

    /// Absolute path of `[A-Za-z0-9._/-]` without `..` segments and not `/` itself.
    static func isDeployPath(_ text: String) -> Bool {
        guard text.hasPrefix("/"), text.count > 1, text.count <= 255 else { return false }
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._/-".contains($0)) }) else {
            return false
        }
        return !text.split(separator: "/").contains { $0 == ".." || $0 == "." }
    }

    /// Bitbucket deployment environment name: starts with a letter or digit, then `[A-Za-z0-9 _.-]`, ≤ 50.
    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first.isNumber, text.count <= 50 else {
            return false
        }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || " _.-".contains($0)) }
    }

    /// Branch name or glob: `[A-Za-z0-9._/*{}-]`, not starting with `-` or `/`, no `..`, ≤ 200.
    static func isBranch(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 200, !text.hasPrefix("-"), !text.hasPrefix("/"), !text.contains("..")
        else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._/*{},-".contains($0)) }
    }

    /// A shell command line typed by the user: one line, no control characters, not blank, ≤ 1000.
    static func isCommand(_ text: String) -> Bool {
        !text.trimmingWhitespace.isEmpty && text.count <= 1000
            && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// Whether `text` looks like it embeds a credential: PEM private keys, `password=`, AWS access keys,
    /// GitHub/Slack/Bitbucket tokens.
    static func looksSecret(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.contains("private key-----") || lower.contains("password=") || lower.contains("passwd=")
            || lower.contains("sshpass")
        {
            return true
        }
        let patterns = [
            #/AKIA[0-9A-Z]{16}/#, #/gh[pousr]_[A-Za-z0-9]{20,}/#, #/xox[abpr]-[A-Za-z0-9-]{10,}/#,
            #/ATBB[A-Za-z0-9]{20,}/#, #/ATATT[A-Za-z0-9_-]{20,}/#,
        ]
        return patterns.contains { text.firstMatch(of: $0) != nil }
    }

    /// `text` with control characters (newlines included) replaced by spaces; for comments and Markdown.
    static func singleLine(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map {
                    $0.properties.generalCategory == .control ? " " : $0
                }))
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines (no Foundation needed).
    var trimmingWhitespace: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
