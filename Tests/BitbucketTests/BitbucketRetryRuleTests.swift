import Foundation
import PipewrightCore
import Testing

@testable import Bitbucket

/// The one retry rule (`BitbucketError.handling`) against the table in docs/API.md: every row's answer is
/// classified by the real client and must be handled as the table says.
@Suite struct BitbucketRetryRuleTests {
    /// The rows of docs/API.md's retry table: `(answer, handling)`.
    static func documentedRows() throws -> [(answer: String, handling: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/API.md"), encoding: .utf8)
        guard let start = text.range(of: "<!-- retry-table:") else { return [] }
        var rows: [(String, String)] = []
        for line in text[start.upperBound...].split(separator: "\n").dropFirst() {
            guard line.hasPrefix("|") else {
                if rows.isEmpty { continue } else { break }
            }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[0].hasPrefix("`"), cells[1].hasPrefix("`") else { continue }
            rows.append((cells[0].trimmingCharacters(in: ["`"]), cells[1].trimmingCharacters(in: ["`"])))
        }
        return rows
    }

    /// The error the live client produces for one documented answer.
    static func error(for answer: String) throws -> BitbucketError {
        let client = LiveBitbucketClient(
            baseURL: "https://api.bitbucket.org/2.0/", credentials: .accessToken(Secret("token")),
            transport: StubTransport { _, _ throws(BitbucketTransportError) in throw .timeout })
        switch answer {
        case "timeout": return .transport(reason: .timeout(after: .seconds(30)))
        case "connection": return .transport(reason: .connection("connection reset by peer"))
        case "dns_failure (temporary)":
            return .transport(reason: .dnsFailure(host: "api.bitbucket.org", permanent: false))
        case "dns_failure (NXDOMAIN)":
            return .transport(reason: .dnsFailure(host: "nonexistent.invalid", permanent: true))
        case "connection_refused": return .transport(reason: .connectionRefused(host: "127.0.0.1", port: 9))
        case "tls_error (handshake)":
            return .transport(reason: .tlsError(reason: "wrong version number", certificate: false))
        case "tls_error (certificate)":
            return .transport(reason: .tlsError(reason: "certificate expired", certificate: true))
        case "unreadable 201":
            // What the client throws when a 201 body does not decode.
            let response = BitbucketHTTPResponse(status: 201, headers: [:], body: Array("<html>".utf8))
            switch Result(catching: { () throws(BitbucketError) in
                try client.decode(BitbucketPipeline.self, from: response)
            }) {
            case .failure(let error): return error
            case .success: throw DecodedUnexpectedly()
            }
        default:
            let status = try #require(Int(answer), "unknown row \(answer)")
            return client.classify(BitbucketHTTPResponse(status: status, headers: [:], body: []))
        }
    }

    struct DecodedUnexpectedly: Error {}

    @Test func documentedTable_matchesTheRule() throws {
        let rows = try Self.documentedRows()
        #expect(rows.count >= 20, "docs/API.md retry table not found or cut short")
        for row in rows {
            let error = try Self.error(for: row.answer)
            #expect(error.handling.rawValue == row.handling, "\(row.answer): \(error.code)")
        }
        // Every handling the rule knows appears in the documentation.
        #expect(Set(rows.map(\.handling)) == Set(BitbucketFailureHandling.allCases.map(\.rawValue)))
    }

    @Test func retryAfter_isAFloorOnlyForRateLimits() {
        #expect(BitbucketError.rateLimited(retryAfter: .seconds(7)).retryAfter == .seconds(7))
        #expect(BitbucketError.upstream(status: 503, message: "").retryAfter == nil)
        #expect(BitbucketError.transport(reason: .timeout(after: .seconds(30))).httpStatus == nil)
        #expect(BitbucketError.upstream(status: 410, message: "").httpStatus == 410)
    }
}
