import Bitbucket

/// Names this instance in the `User-Agent` of every Bitbucket request: `pipewright (instance <id>)`
/// (RFC 9110 §10.1.5 product and comment), so Bitbucket's side — and the test fake — can tell which
/// instance of a cluster polls (docs/scaling.md "Leases").
struct InstanceTaggedTransport: BitbucketHTTPTransport {
    let base: any BitbucketHTTPTransport
    /// `PIPEWRIGHT_INSTANCE_ID`.
    let instanceID: String

    func send(_ request: BitbucketHTTPRequest, timeout: Duration) async throws(BitbucketTransportError)
        -> BitbucketHTTPResponse
    {
        var tagged = request
        tagged.headers.replaceOrAdd(name: "User-Agent", value: "pipewright (instance \(instanceID))")
        return try await base.send(tagged, timeout: timeout)
    }
}
