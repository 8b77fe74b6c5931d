/// Structural check of an nginx site file, without nginx.
///
/// The text is tokenised the way nginx reads it: `#` starts a comment outside quotes, `'…'` and `"…"`
/// are single tokens (with `\` escapes), `{`, `}` and `;` are separators. Rules:
/// - braces balance (no `}` without `{`, none left open);
/// - every directive ends with `;` before a `}` or the end of the file, and no quote is left open;
/// - a `server` block exists with `listen` and `server_name` directives;
/// - at least one `proxy_pass` targets `http://127.0.0.1:<appPort>` (an optional path may follow) and
///   every `proxy_pass` targets 127.0.0.1.
public enum NginxConfigValidator {
    /// Validates `text`.
    ///
    /// - Parameters:
    ///   - text: The site file.
    ///   - appPort: The port `proxy_pass` must target.
    ///   - file: Name reported in the result (default `nginx.conf`).
    /// - Returns: `ok == true` when every rule holds.
    public static func validate(_ text: String, appPort: Int, file: String = "nginx.conf") -> ValidationResult {
        var messages: [String] = []
        var depth = 0
        var pending: [String] = []  // words of the directive being read
        var blockStack: [String] = []
        var directives: [(context: [String], words: [String])] = []
        var line = 1
        var index = text.startIndex

        func flushUnterminated(at what: String) {
            if !pending.isEmpty {
                messages.append("Line \(line): directive '\(pending[0])' is not terminated with ';' before \(what).")
                pending.removeAll()
            }
        }

        while index < text.endIndex {
            let character = text[index]
            switch character {
            case "\n":
                line += 1
                index = text.index(after: index)
            case " ", "\t", "\r":
                index = text.index(after: index)
            case "#":
                while index < text.endIndex, text[index] != "\n" { index = text.index(after: index) }
            case "{":
                if pending.isEmpty {
                    messages.append("Line \(line): '{' without a block name.")
                }
                blockStack.append(pending.first ?? "")
                directives.append((Array(blockStack.dropLast()), pending))
                pending.removeAll()
                depth += 1
                index = text.index(after: index)
            case "}":
                flushUnterminated(at: "'}'")
                if depth == 0 {
                    messages.append("Line \(line): '}' without a matching '{'.")
                } else {
                    depth -= 1
                    blockStack.removeLast()
                }
                index = text.index(after: index)
            case ";":
                if pending.isEmpty {
                    messages.append("Line \(line): empty statement ';'.")
                } else {
                    directives.append((blockStack, pending))
                    pending.removeAll()
                }
                index = text.index(after: index)
            case "\"", "'":
                var word = ""
                var closed = false
                index = text.index(after: index)
                while index < text.endIndex {
                    let next = text[index]
                    if next == "\\", text.index(after: index) < text.endIndex {
                        index = text.index(after: index)
                        word.append(text[index])
                    } else if next == character {
                        closed = true
                        index = text.index(after: index)
                        break
                    } else {
                        if next == "\n" { line += 1 }
                        word.append(next)
                    }
                    index = text.index(after: index)
                }
                if !closed { messages.append("Line \(line): unterminated quoted string.") }
                pending.append(word)
            default:
                var word = ""
                while index < text.endIndex, !" \t\r\n{};#\"'".contains(text[index]) {
                    word.append(text[index])
                    index = text.index(after: index)
                }
                pending.append(word)
            }
        }
        flushUnterminated(at: "the end of the file")
        if depth > 0 { messages.append("\(depth) block(s) are not closed with '}'.") }

        let inServer = directives.filter { $0.context.contains("server") }
        if !directives.contains(where: { $0.words.first == "server" && $0.context.allSatisfy { $0 == "http" } }) {
            messages.append("No 'server' block.")
        }
        if !inServer.contains(where: { $0.words.first == "listen" && $0.words.count >= 2 }) {
            messages.append("No 'listen' directive in a server block.")
        }
        if !inServer.contains(where: { $0.words.first == "server_name" && $0.words.count >= 2 }) {
            messages.append("No 'server_name' directive in a server block.")
        }
        let targets = inServer.filter { $0.words.first == "proxy_pass" }.map { $0.words.dropFirst().first ?? "" }
        let expected = "http://127.0.0.1:\(appPort)"
        if targets.isEmpty {
            messages.append("No 'proxy_pass' directive.")
        } else if !targets.contains(where: { $0 == expected || $0.hasPrefix(expected + "/") }) {
            messages.append("No 'proxy_pass' to \(expected) (found: \(targets.joined(separator: ", "))).")
        }
        for target in targets where !target.hasPrefix("http://127.0.0.1:") {
            messages.append("'proxy_pass \(target)' does not target 127.0.0.1.")
        }
        return ValidationResult(file: file, messages: messages)
    }
}
