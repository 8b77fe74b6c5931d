import PipewrightCore

/// Errors of the realtime layer: malformed client frames and refused requests (docs/API.md "Realtime events").
public enum RealtimeError: Error, Sendable, Equatable, PipewrightError {
    /// A frame that does not follow Engine.IO v4 / Socket.IO v5 (the connection must be closed).
    case malformedPacket(String)
    /// A client request (`subscribe_pipeline_status`, …) with missing or mistyped fields.
    case invalidRequest(field: String, reason: String)
    /// Unknown execution or pipeline, or one the viewer may not read (never revealed apart).
    case notFound(String)
    /// An event name the server does not handle.
    case unknownEvent(String)

    public var code: String {
        switch self {
        case .malformedPacket: "malformed_packet"
        case .invalidRequest: "invalid_request"
        case .notFound: "not_found"
        case .unknownEvent: "unknown_event"
        }
    }

    public var message: String {
        switch self {
        case .malformedPacket(let why): "Malformed packet: \(why)."
        case .invalidRequest(let field, let reason): "Invalid field \(field): \(reason)."
        case .notFound(let what): "\(what) not found."
        case .unknownEvent(let name): "Unknown event \(name)."
        }
    }

    public var details: [String: String] {
        switch self {
        case .invalidRequest(let field, _): ["field": field]
        default: [:]
        }
    }
}
