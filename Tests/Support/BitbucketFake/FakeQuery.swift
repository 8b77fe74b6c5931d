/// A tiny subset of BBQL (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#filtering):
/// `field op "value"` clauses joined by `AND`, with `=`, `!=`, `~` (contains, case-insensitive), `!~`.
struct FakeQuery: Sendable, Equatable {
    struct Clause: Sendable, Equatable {
        var field: String
        var op: String
        var value: String
    }

    var clauses: [Clause]

    /// Parses `q`; a malformed query is a 400 like Bitbucket's "Invalid query".
    static func parse(_ text: String) -> Result<FakeQuery, FakeResponseError> {
        var clauses: [Clause] = []
        var scalars = Array(text.unicodeScalars)[...]
        func skipSpaces() { while let first = scalars.first, first == " " { scalars.removeFirst() } }
        func invalid(_ reason: String) -> Result<FakeQuery, FakeResponseError> {
            .failure(FakeResponseError(.error(400, message: "Invalid query", detail: .string("\(reason): \(text)"))))
        }
        while true {
            skipSpaces()
            var field = ""
            while let first = scalars.first, first != " ", first != "=", first != "!", first != "~" {
                field.unicodeScalars.append(first)
                scalars.removeFirst()
            }
            guard !field.isEmpty else { return invalid("expected a field") }
            skipSpaces()
            var op = ""
            while let first = scalars.first, first == "=" || first == "!" || first == "~" {
                op.unicodeScalars.append(first)
                scalars.removeFirst()
            }
            guard ["=", "!=", "~", "!~"].contains(op) else { return invalid("unknown operator '\(op)'") }
            skipSpaces()
            var value = ""
            if scalars.first == "\"" {
                scalars.removeFirst()
                var closed = false
                while let first = scalars.popFirst() {
                    if first == "\\", let escaped = scalars.popFirst() {
                        value.unicodeScalars.append(escaped)
                    } else if first == "\"" {
                        closed = true
                        break
                    } else {
                        value.unicodeScalars.append(first)
                    }
                }
                guard closed else { return invalid("unterminated string") }
            } else {
                while let first = scalars.first, first != " " {
                    value.unicodeScalars.append(first)
                    scalars.removeFirst()
                }
            }
            clauses.append(Clause(field: field, op: op, value: value))
            skipSpaces()
            if scalars.isEmpty { break }
            let word = String(String.UnicodeScalarView(scalars.prefix(3)))
            guard word.uppercased() == "AND" else { return invalid("only AND is supported") }
            scalars.removeFirst(3)
        }
        return .success(FakeQuery(clauses: clauses))
    }

    /// Whether `values` (field → value) satisfies every clause; unknown fields never match.
    func matches(_ values: [String: String]) -> Bool {
        clauses.allSatisfy { clause in
            guard let value = values[clause.field] else { return false }
            switch clause.op {
            case "=": return value == clause.value
            case "!=": return value != clause.value
            case "~": return value.lowercased().contains(clause.value.lowercased())
            default: return !value.lowercased().contains(clause.value.lowercased())
            }
        }
    }
}
