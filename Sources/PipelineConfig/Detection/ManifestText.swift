import Foundation

/// Small, forgiving readers for manifest formats. Detection never fails on a malformed manifest: a
/// reader that cannot make sense of the text returns empty results and the file still counts by presence.
enum ManifestText {
    // MARK: - JSON (package.json, composer.json)

    /// Parses a JSON object; `nil` when the text is not a JSON object.
    static func jsonObject(_ text: String) -> [String: Any]? {
        guard let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object
    }

    /// The string-valued entries of `object[key]` when it is an object (e.g. `dependencies`).
    static func stringMap(_ object: [String: Any], _ key: String) -> [String: String] {
        guard let map = object[key] as? [String: Any] else { return [:] }
        var result: [String: String] = [:]
        for (name, value) in map {
            if let string = value as? String { result[name] = string } else { result[name] = "" }
        }
        return result
    }

    // MARK: - Versions

    /// The first `major` number in a version expression: `">=18.0.0"` → `"18"`, `"v20.11.1"` → `"20"`,
    /// `"20.x"` → `"20"`, `"lts/*"` → `nil`.
    static func major(_ text: String) -> String? {
        guard let match = text.firstMatch(of: #/(\d+)/#) else { return nil }
        return String(match.1)
    }

    /// The first `major.minor` in a version expression: `"^3.11"` → `"3.11"`, `"python-3.12.1"` →
    /// `"3.12"`, `"go 1.22.3"` → `"1.22"`; a bare major (`"3"`) is returned as is.
    static func majorMinor(_ text: String) -> String? {
        if let match = text.firstMatch(of: #/(\d+)\.(\d+)/#) { return "\(match.1).\(match.2)" }
        return major(text)
    }

    // MARK: - TOML (pyproject.toml, Cargo.toml) — tables and simple keys only

    /// Splits TOML text into `(table header, lines)` pairs; the preamble has header `""`.
    /// Whole-line `#` comments and blank lines are dropped; inline comments stay (the readers ignore them).
    static func tomlTables(_ text: String) -> [(header: String, lines: [String])] {
        var tables: [(header: String, lines: [String])] = [("", [])]
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("["), let close = line.lastIndex(of: "]") {
                let header = line[line.index(after: line.startIndex)..<close]
                    .trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                tables.append((header, []))
            } else {
                tables[tables.count - 1].lines.append(line)
            }
        }
        return tables
    }

    /// The `key = value` lines of one table (exact header match), `nil` when the table is absent.
    static func tomlTable(_ tables: [(header: String, lines: [String])], _ header: String) -> [String]? {
        tables.first { $0.header == header }?.lines
    }

    /// The keys of a table's `key = value` lines.
    static func tomlKeys(_ lines: [String]) -> [String] {
        lines.compactMap { line in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            return key.isEmpty ? nil : key.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
    }

    /// The unquoted string value of `key = "value"` in `lines`.
    static func tomlString(_ lines: [String], _ key: String) -> String? {
        for line in lines {
            guard let eq = line.firstIndex(of: "=") else { continue }
            guard line[..<eq].trimmingCharacters(in: .whitespaces) == key else { continue }
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            return quotedStrings(value).first ?? value
        }
        return nil
    }

    /// Every string of the array assigned to `key` (the array may span several lines).
    static func tomlArray(_ lines: [String], _ key: String) -> [String] {
        var collecting = false
        var buffer = ""
        for line in lines {
            if !collecting {
                guard let eq = line.firstIndex(of: "="),
                    line[..<eq].trimmingCharacters(in: .whitespaces) == key
                else { continue }
                buffer = String(line[line.index(after: eq)...])
                collecting = true
            } else {
                buffer += "\n" + line
            }
            if collecting, buffer.contains("]") { break }
        }
        return quotedStrings(buffer)
    }

    /// The contents of every `"…"` or `'…'` string in `text`, in order.
    static func quotedStrings(_ text: String) -> [String] {
        text.matches(of: #/"([^"]*)"|'([^']*)'/#).map { String($0.1 ?? $0.2 ?? "") }
    }

    // MARK: - Python requirement names

    /// Normalised distribution name of a requirement line (`"Django>=4.2"` → `"django"`,
    /// `"uvicorn[standard]"` → `"uvicorn"`); `nil` for comments, options and URLs.
    static func requirementName(_ line: Substring) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard let first = trimmed.first, first.isLetter || first.isNumber else { return nil }
        guard let match = trimmed.firstMatch(of: #/^([A-Za-z0-9][A-Za-z0-9._-]*)/#) else { return nil }
        return String(match.1).lowercased().replacingOccurrences(of: "_", with: "-")
    }

    // MARK: - XML-ish (pom.xml, *.csproj)

    /// Trimmed text of the first `<tag>…</tag>` element.
    static func xmlElement(_ text: String, _ tag: String) -> String? {
        guard let open = text.range(of: "<\(tag)>"),
            let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// First line of a version file (`.nvmrc`, `.python-version`, `.ruby-version`), trimmed.
    static func firstLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }
}
