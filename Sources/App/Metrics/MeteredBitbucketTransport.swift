import Bitbucket
import Foundation

/// Counts every HTTP call the Bitbucket client makes (`pipewright_bitbucket_requests_total{method, outcome}`)
/// around another transport. The Bitbucket module stays free of metrics; the App layer decorates its seam.
struct MeteredBitbucketTransport: BitbucketHTTPTransport {
    let base: any BitbucketHTTPTransport

    func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
        -> BitbucketHTTPResponse
    {
        let method = Self.methodLabel(request.method)
        do {
            let response = try await base.send(request, timeout: timeout)
            PipewrightMetrics.bitbucketRequest(method: method, outcome: Self.outcome(status: response.status))
            return response
        } catch {
            switch error {
            case .timeout: PipewrightMetrics.bitbucketRequest(method: method, outcome: "timeout")
            case .connection, .dnsFailure, .connectionRefused, .tls:
                PipewrightMetrics.bitbucketRequest(method: method, outcome: "connection_error")
            }
            throw error
        }
    }

    /// `2xx`, `3xx`, `4xx`, `429` (rate limited, told apart from other 4xx), `5xx`.
    static func outcome(status: Int) -> String {
        if status == 429 { return "429" }
        switch status {
        case 200..<300: return "2xx"
        case 300..<400: return "3xx"
        case 400..<500: return "4xx"
        default: return "5xx"
        }
    }

    /// The method, restricted to the known set (a label value must not come from anywhere else).
    static func methodLabel(_ method: String) -> String {
        let known = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
        return known.contains(method) ? method : "OTHER"
    }
}
