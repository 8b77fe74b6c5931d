import Foundation

/// One PEM-armoured block (RFC 7468 textual encoding, plus RFC 1421 headers such as `Proc-Type` and
/// `DEK-Info` used by OpenSSL's legacy encrypted keys).
struct PEMBlock: Sendable {
    /// The label between `BEGIN ` and the dashes, e.g. `OPENSSH PRIVATE KEY`.
    var label: String
    /// RFC 1421 headers (`Name: value`), in order; empty for RFC 7468 blocks.
    var headers: [(name: String, value: String)]
    /// The decoded body.
    var body: [UInt8]

    /// Why a PEM text could not be read; mapped by callers.
    enum ParseError: Error, Equatable {
        case noBlock
        case unterminated(label: String)
        case invalidBase64(label: String)
    }

    /// The value of header `name` (case-insensitive), if present.
    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// All PEM blocks in `text`, in order. CRLF, CR, surrounding whitespace, indentation and a missing
    /// final newline are tolerated; text outside blocks is ignored.
    ///
    /// - Throws: ``ParseError``.
    static func parseAll(_ text: String) throws(ParseError) -> [PEMBlock] {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var blocks: [PEMBlock] = []
        var index = 0
        while index < lines.count {
            guard let label = boundaryLabel(lines[index], kind: "BEGIN") else {
                index += 1
                continue
            }
            index += 1
            var headers: [(name: String, value: String)] = []
            var base64 = ""
            var ended = false
            var inHeaders = true
            while index < lines.count {
                let line = lines[index]
                index += 1
                if let endLabel = boundaryLabel(line, kind: "END"), endLabel == label {
                    ended = true
                    break
                }
                if inHeaders, let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].trimmingCharacters(in: .whitespaces)
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    headers.append((name, value))
                    continue
                }
                inHeaders = false
                base64 += line.filter { !$0.isWhitespace }
            }
            guard ended else { throw .unterminated(label: label) }
            guard let data = Data(base64Encoded: base64) else { throw .invalidBase64(label: label) }
            blocks.append(PEMBlock(label: label, headers: headers, body: Array(data)))
        }
        guard !blocks.isEmpty else { throw .noBlock }
        return blocks
    }

    /// The label of a `-----BEGIN X-----` / `-----END X-----` line, or nil.
    private static func boundaryLabel(_ line: String, kind: String) -> String? {
        let prefix = "-----\(kind) "
        guard line.hasPrefix(prefix), line.hasSuffix("-----"), line.count >= prefix.count + 5 else { return nil }
        return String(line.dropFirst(prefix.count).dropLast(5)).trimmingCharacters(in: .whitespaces)
    }

    /// Armours `body` with `label`, wrapping base64 at `lineWidth` columns and ending with a newline.
    static func armor(label: String, body: [UInt8], lineWidth: Int) -> String {
        let encoded = Data(body).base64EncodedString()
        var output = "-----BEGIN \(label)-----\n"
        var start = encoded.startIndex
        while start < encoded.endIndex {
            let end = encoded.index(start, offsetBy: lineWidth, limitedBy: encoded.endIndex) ?? encoded.endIndex
            output += encoded[start..<end] + "\n"
            start = end
        }
        output += "-----END \(label)-----\n"
        return output
    }
}
