import SSHKeys

/// An ``SSHRunner`` that records requests and fails them (for "nothing executed" checks).
public actor RecordingSSHRunner: SSHRunner {
    public private(set) var requests: [SSHCommandRequest] = []
    public init() {}

    public func run(_ request: SSHCommandRequest) async throws -> SSHCommandResult {
        requests.append(request)
        throw SSHKeyError.sshFailed(exit: -1, summary: "recording runner")
    }
}
