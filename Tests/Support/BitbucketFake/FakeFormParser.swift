import Foundation

/// Parsing of `application/x-www-form-urlencoded` and `multipart/form-data` bodies for `POST /src`.
public enum FakeFormParser {
    /// One form field. `filename` and `attributes` come from a multipart `Content-Disposition`.
    public struct Field: Sendable, Equatable {
        /// The field name (`/path`, `message`, `branch`, …).
        public var name: String
        /// Raw value bytes.
        public var value: [UInt8]
        /// `filename="…"` when present.
        public var filename: String?
        /// `x-attributes="…"` when present (e.g. `executable`).
        public var attributes: String?

        /// The value as UTF-8 text.
        public var text: String { String(decoding: value, as: UTF8.self) }
    }

    /// Percent-decodes `string` (`+` → space when `plusIsSpace`); invalid escapes stay literal.
    public static func percentDecode(_ string: String, plusIsSpace: Bool) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(string.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else if byte == UInt8(ascii: "+"), plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `a=b&c=d` → ordered pairs (decoded).
    public static func parseURLEncoded(_ string: String) -> [(name: String, value: String)] {
        string.split(separator: "&", omittingEmptySubsequences: true).map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(String(parts[0]), plusIsSpace: true)
            let value = parts.count > 1 ? percentDecode(String(parts[1]), plusIsSpace: true) : ""
            return (name, value)
        }
    }

    /// The `boundary` parameter of a `multipart/form-data` content type.
    public static func boundary(fromContentType contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// Splits a multipart body into fields; `nil` when it is malformed.
    public static func parseMultipart(_ body: [UInt8], boundary: String) -> [Field]? {
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var index = 0
        while let found = find(delimiter, in: body, from: index) {
            positions.append(found)
            index = found + delimiter.count
        }
        guard positions.count >= 2 else { return nil }
        var fields: [Field] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var partStart = start + delimiter.count
            guard partStart + 2 <= body.count, body[partStart] == 13, body[partStart + 1] == 10 else { return nil }
            partStart += 2
            var partEnd = end
            if partEnd >= 2, body[partEnd - 2] == 13, body[partEnd - 1] == 10 { partEnd -= 2 }
            let part = Array(body[partStart..<max(partStart, partEnd)])
            guard let headerEnd = find(Array("\r\n\r\n".utf8), in: part, from: 0) else { return nil }
            let headerText = String(decoding: part[..<headerEnd], as: UTF8.self)
            let value = Array(part[(headerEnd + 4)...])
            var field = Field(name: "", value: value)
            for line in headerText.components(separatedBy: "\r\n")
            where line.lowercased().hasPrefix("content-disposition:") {
                let parameters = parseParameters(String(line.dropFirst("content-disposition:".count)))
                guard let name = parameters["name"] else { return nil }
                field.name = name
                field.filename = parameters["filename"]
                field.attributes = parameters["x-attributes"]
            }
            guard !field.name.isEmpty else { return nil }
            fields.append(field)
        }
        return fields
    }

    private static func parseParameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            result[pair[0].lowercased()] = percentDecode(value, plusIsSpace: false)
        }
        return result
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], Array(haystack[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}
