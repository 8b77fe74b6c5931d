import Foundation

/// Whether Bitbucket can deliver webhooks to `PIPEWRIGHT_PUBLIC_URL` (docs/bitbucket.md "Public URL
/// requirements"): Bitbucket Cloud requires a public, routable address.
enum PublicURLCheck {
    /// Human-readable warnings for `publicURL`; empty when it looks public.
    ///
    /// Warned about: `localhost` and `*.localhost`, `.local`/`.internal`/`.lan` names, names without a dot,
    /// loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), carrier-grade NAT
    /// (100.64/10), link-local (169.254/16, fe80::/10) and unspecified addresses, and plain `http://`.
    static func warnings(for publicURL: String) -> [String] {
        guard let url = URL(string: publicURL), let host = url.host?.lowercased() else {
            return ["PIPEWRIGHT_PUBLIC_URL=\(publicURL) is not a URL: Bitbucket cannot deliver webhooks"]
        }
        var warnings: [String] = []
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if let reason = nonPublicReason(bare) {
            warnings.append(
                "PIPEWRIGHT_PUBLIC_URL=\(publicURL) is \(reason): Bitbucket Cloud cannot deliver webhooks to it "
                    + "(set it to the public https:// address of the service)")
        }
        if url.scheme == "http" {
            warnings.append(
                "PIPEWRIGHT_PUBLIC_URL=\(publicURL) is plain http: webhook bodies and signatures cross the internet "
                    + "unencrypted (use https behind a reverse proxy)")
        }
        return warnings
    }

    /// Why `host` is not publicly routable, or `nil`.
    static func nonPublicReason(_ host: String) -> String? {
        if host == "localhost" || host.hasSuffix(".localhost") { return "localhost" }
        if let octets = ipv4(host) {
            switch (octets[0], octets[1]) {
            case (127, _): return "a loopback address"
            case (10, _), (192, 168): return "a private address"
            case (172, let b) where (16...31).contains(b): return "a private address"
            case (100, let b) where (64...127).contains(b): return "a carrier-grade NAT address"
            case (169, 254): return "a link-local address"
            case (0, _): return "an unspecified address"
            default: return nil
            }
        }
        if host.contains(":") {
            if host == "::1" { return "a loopback address" }
            if host == "::" { return "an unspecified address" }
            if host.hasPrefix("fc") || host.hasPrefix("fd") { return "a private address" }
            if host.hasPrefix("fe8") || host.hasPrefix("fe9") || host.hasPrefix("fea") || host.hasPrefix("feb") {
                return "a link-local address"
            }
            return nil
        }
        if !host.contains(".") { return "a single-label name (not in public DNS)" }
        for suffix in [".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid", ".example"]
        where host.hasSuffix(suffix) {
            return "a name under \(suffix) (not in public DNS)"
        }
        return nil
    }

    private static func ipv4(_ host: String) -> [Int]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { Int($0) }
        guard octets.count == 4, octets.allSatisfy({ (0...255).contains($0) }) else { return nil }
        return octets
    }
}
