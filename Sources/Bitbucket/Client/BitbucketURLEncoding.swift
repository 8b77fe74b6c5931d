/// Percent-encoding for paths and queries built by the client.
///
/// Each path segment is encoded exactly once: everything except RFC 3986 unreserved characters
/// (`A–Z a–z 0–9 - . _ ~`) becomes `%XX`, so `{uuid}` becomes `%7Buuid%7D` (Bitbucket wants UUIDs with
/// their braces, percent-encoded, in paths; https://developer.atlassian.com/cloud/bitbucket/rest/intro/)
/// and a branch `feature/ci-setup` is sent as two segments `feature` and `ci-setup`.
enum BitbucketURLEncoding {
    /// Encodes one path segment or query component.
    static func encode(_ component: String) -> String {
        var result = ""
        result.reserveCapacity(component.utf8.count)
        for byte in component.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + hex(byte >> 4) + hex(byte & 0x0F)
            }
        }
        return result
    }

    /// Encodes a slash-separated path (`a/b c/d` → `a/b%20c/d`), dropping empty segments.
    static func encodePath(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { encode(String($0)) }
    }

    /// `name=value&…` with both sides encoded.
    static func query(_ items: [(String, String)]) -> String {
        items.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    /// `application/x-www-form-urlencoded` body (same encoding as the query).
    static func form(_ items: [(String, String)]) -> [UInt8] { Array(query(items).utf8) }

    private static func hex(_ nibble: UInt8) -> String {
        String(UnicodeScalar(nibble < 10 ? nibble + 48 : nibble + 55))
    }
}
