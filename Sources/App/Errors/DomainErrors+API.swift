import PipelineConfig
import PipewrightCore
import Realtime
import Vapor

/// HTTP mapping of the pipeline-configuration errors: all describe the repository or the pipeline's
/// settings, so they are 422 with the domain's own code.
extension PipelineConfigError: APIErrorConvertible {
    public var reason: String { message }
    public var status: HTTPResponseStatus { .unprocessableEntity }
}

/// HTTP mapping of the realtime request errors (SSE and the socket transports' HTTP refusals).
extension RealtimeError: APIErrorConvertible {
    public var reason: String { message }
    public var status: HTTPResponseStatus {
        switch self {
        case .malformedPacket, .invalidRequest, .unknownEvent: .badRequest
        case .notFound: .notFound
        }
    }
}

/// HTTP mapping of sealed-secret failures: the data or the configured master key is at fault, never the
/// request, so 503 (`/ready` reports the same condition).
extension SecretError: APIErrorConvertible {
    public var reason: String { message }
    public var status: HTTPResponseStatus { .serviceUnavailable }
}

/// HTTP mapping of local process failures (the OpenSSH client could not be started or said too much):
/// a fault of this host, 503.
extension ProcessError: APIErrorConvertible {
    public var reason: String { message }
    public var status: HTTPResponseStatus { .serviceUnavailable }
}
