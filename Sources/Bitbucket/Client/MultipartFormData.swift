import Foundation

/// Builds a `multipart/form-data` body (RFC 7578) for `POST /src`.
///
/// File parts carry `name="/<path>"` and `filename="<last segment>"` with
/// `Content-Type: application/octet-stream`; plain fields carry only `name`.
struct MultipartFormData {
    /// Boundary without the leading dashes.
    let boundary: String
    private(set) var body: [UInt8] = []

    init(boundary: String) { self.boundary = boundary }

    /// `multipart/form-data; boundary=…`.
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// Appends a text field.
    mutating func addField(name: String, value: String) {
        appendLine("--\(boundary)")
        appendLine("Content-Disposition: form-data; name=\"\(Self.quote(name))\"")
        appendLine("")
        body += Array(value.utf8)
        appendLine("")
    }

    /// Appends a file part; `attributes` become `x-attributes` (e.g. `executable`).
    mutating func addFile(name: String, filename: String, contents: [UInt8], attributes: String? = nil) {
        appendLine("--\(boundary)")
        var disposition =
            "Content-Disposition: form-data; name=\"\(Self.quote(name))\"; filename=\"\(Self.quote(filename))\""
        if let attributes { disposition += "; x-attributes=\"\(attributes)\"" }
        appendLine(disposition)
        appendLine("Content-Type: application/octet-stream")
        appendLine("")
        body += contents
        appendLine("")
    }

    /// Returns the body with the closing delimiter.
    func finished() -> [UInt8] { body + Array("--\(boundary)--\r\n".utf8) }

    private mutating func appendLine(_ line: String) { body += Array((line + "\r\n").utf8) }

    /// Escapes `"`, CR and LF in a header parameter (RFC 7578 §4.2 / WHATWG percent-escaping).
    private static func quote(_ value: String) -> String {
        value.replacingOccurrences(of: "\"", with: "%22")
            .replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }
}
