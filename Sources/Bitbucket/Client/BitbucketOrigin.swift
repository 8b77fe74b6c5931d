import Foundation

/// Scheme, host and port of an absolute URL, used to decide whether `Authorization` may be sent.
///
/// The client attaches credentials only to URLs with the same origin as its base URL; a redirect or
/// a pagination link to any other origin is requested without them (e.g. the log storage a completed
/// step's log redirects to).
struct BitbucketOrigin: Equatable {
    var scheme: String
    var host: String
    var port: Int?

    /// Parses `scheme://[userinfo@]host[:port]/…`; `nil` for relative or malformed URLs.
    init?(url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@").last.map(String.init) ?? ""
        if hostPort.hasPrefix("[") {  // IPv6 literal
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = String(hostPort[...close]).lowercased()
            let after = hostPort[hostPort.index(after: close)...]
            port = after.hasPrefix(":") ? Int(after.dropFirst()) : nil
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon]).lowercased()
            port = Int(hostPort[hostPort.index(after: colon)...])
        } else {
            host = hostPort.lowercased()
            port = nil
        }
        guard !host.isEmpty, !scheme.isEmpty else { return nil }
        if port == nil { port = scheme == "https" ? 443 : scheme == "http" ? 80 : nil }
    }

    /// `scheme://authority` of `url` (for resolving `Location: /path`).
    static func prefix(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(url[..<schemeEnd.upperBound]) + authority
    }
}
