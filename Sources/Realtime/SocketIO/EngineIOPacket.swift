/// An Engine.IO protocol v4 packet as carried in one WebSocket text frame.
///
/// Wire format (https://github.com/socketio/engine.io-protocol, "Packet encoding"): one packet per
/// WebSocket message, `<type digit>[<data>]`, no separators or length prefixes (those are polling-only).
/// Binary frames are not used by this server (all pipeline events are JSON).
public enum EngineIOPacket: Sendable, Equatable {
    /// `0` + handshake JSON, server → client, first frame.
    case open(String)
    /// `1`: either side closes the session.
    case close
    /// `2`: server → client heartbeat (payload only during a polling upgrade probe).
    case ping(String)
    /// `3`: client → server answer to a ping, echoing its payload.
    case pong(String)
    /// `4` + a Socket.IO packet.
    case message(Substring)
    /// `5`: upgrade (polling → WebSocket only; ignored here).
    case upgrade
    /// `6`: noop (polling only; ignored here).
    case noop

    /// Decodes a text frame.
    /// - Throws: `RealtimeError.malformedPacket` for an empty frame or a first character that is not
    ///   an Engine.IO type digit (`0`–`6`); the conformance suite expects the connection to be closed then.
    public static func decode(_ frame: String) throws(RealtimeError) -> EngineIOPacket {
        guard let first = frame.first else { throw .malformedPacket("empty Engine.IO frame") }
        let rest = frame.dropFirst()
        switch first {
        case "0": return .open(String(rest))
        case "1": return .close
        case "2": return .ping(String(rest))
        case "3": return .pong(String(rest))
        case "4": return .message(rest)
        case "5": return .upgrade
        case "6": return .noop
        default: throw .malformedPacket("unknown Engine.IO packet type")
        }
    }

    /// The text frame for this packet.
    public var encoded: String {
        switch self {
        case .open(let json): "0" + json
        case .close: "1"
        case .ping(let payload): "2" + payload
        case .pong(let payload): "3" + payload
        case .message(let payload): "4" + payload
        case .upgrade: "5"
        case .noop: "6"
        }
    }
}

/// The Engine.IO v4 open packet's JSON (`0{"sid",…}`), engine.io-protocol README "Handshake".
///
/// `upgrades` is always `[]` (WebSocket-only sessions); times are milliseconds; `maxPayload` is bytes.
public struct EngineIOHandshake: Sendable, Equatable, Codable {
    public var sid: String
    public var upgrades: [String]
    public var pingInterval: Int
    public var pingTimeout: Int
    public var maxPayload: Int

    public init(sid: String, pingIntervalMilliseconds: Int, pingTimeoutMilliseconds: Int, maxPayload: Int) {
        self.sid = sid
        self.upgrades = []
        self.pingInterval = pingIntervalMilliseconds
        self.pingTimeout = pingTimeoutMilliseconds
        self.maxPayload = maxPayload
    }

    /// The complete open frame, `0{…}`.
    public var frame: String {
        "0{\"sid\":\(jsonString(sid)),\"upgrades\":[],\"pingInterval\":\(pingInterval),\"pingTimeout\":\(pingTimeout),\"maxPayload\":\(maxPayload)}"
    }
}

/// JSON string literal for `value` (RFC 8259 §7 escaping).
func jsonString(_ value: String) -> String {
    var out = "\""
    out.reserveCapacity(value.utf8.count + 2)
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            out +=
                "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
