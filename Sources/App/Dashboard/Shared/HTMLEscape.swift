import Plot

/// The one place where text from users, servers, Bitbucket or logs becomes HTML.
///
/// Plot escapes `<`, `>` and `&` in `.text(…)` but passes entity-looking text (`&lt;`) through and never
/// escapes attribute values, so dashboard views never hand such values to Plot directly: text goes through
/// ``Plot/Node/safe(_:)`` and attribute values through ``Plot/Node/safeAttribute(_:_:)`` (or
/// ``Plot/Attribute/safe(_:_:)``), all of which call ``escape(_:)``. `HTMLEscapeTests` renders hostile
/// values through each of them.
enum HTMLEscape {
    /// `&`, `<`, `>`, `"` and `'` as character references (HTML Living Standard §13.1.4, safe in text and
    /// in quoted attribute values alike).
    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 })
        else { return value }
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count + 16)
        for character in value.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}

extension Node {
    /// Escaped text (``HTMLEscape/escape(_:)``).
    static func safe(_ text: String) -> Node { .raw(HTMLEscape.escape(text)) }

    /// An attribute whose value is escaped (``HTMLEscape/escape(_:)``).
    static func safeAttribute(_ name: String, _ value: String) -> Node {
        .attribute(named: name, value: HTMLEscape.escape(value), ignoreIfValueIsEmpty: false)
    }
}

extension Attribute {
    /// An attribute whose value is escaped (``HTMLEscape/escape(_:)``).
    static func safe(_ name: String, _ value: String) -> Attribute {
        Attribute(name: name, value: HTMLEscape.escape(value), ignoreIfValueIsEmpty: false)
    }
}

extension Node {
    /// `<select name>` with `(value, label)` options, the `selected` one marked; every value escaped.
    static func choice(name: String, _ options: [(value: String, label: String)], selected: String?) -> Node {
        var html = "<select name=\"\(HTMLEscape.escape(name))\">"
        for option in options {
            html += "<option value=\"\(HTMLEscape.escape(option.value))\""
            if option.value == selected { html += " selected" }
            html += ">\(HTMLEscape.escape(option.label))</option>"
        }
        return .raw(html + "</select>")
    }
}
