/// A Socket.IO protocol v5 packet (the payload of an Engine.IO `4` message).
///
/// Grammar (https://github.com/socketio/socket.io-protocol, "Packet encoding"):
/// `<type>[<#attachments>-][<namespace>,][<ack id>][<JSON payload>]`; the namespace is written only when
/// it is not `/`. Validation mirrors socket.io-parser's `isPayloadValid`: CONNECT → object or absent,
/// DISCONNECT → absent, EVENT → non-empty array whose first item is a non-reserved string, ACK → array.
public struct SocketIOPacket: Sendable, Equatable {
    public enum Kind: Int, Sendable, Equatable {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    public var kind: Kind
    /// `/` unless the packet names another namespace.
    public var namespace: String
    /// The acknowledgement id of an EVENT that wants an ACK, or of an ACK.
    public var ackID: Int?
    /// Decoded JSON payload (CONNECT auth object, EVENT/ACK argument array), if any.
    public var payload: JSONValue?

    public init(kind: Kind, namespace: String = "/", ackID: Int? = nil, payload: JSONValue? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.ackID = ackID
        self.payload = payload
    }

    /// Event names a server must never receive or emit (socket.io-parser `RESERVED_EVENTS`).
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// The event name and arguments of an EVENT packet.
    public var event: (name: String, arguments: [JSONValue])? {
        guard kind == .event, case .array(let items) = payload, case .string(let name)? = items.first else {
            return nil
        }
        return (name, Array(items.dropFirst()))
    }

    /// Decodes the Socket.IO part of an Engine.IO message.
    /// - Throws: `RealtimeError.malformedPacket` for anything the grammar or the payload rules reject,
    ///   including binary packets (types 5/6), which this JSON-only server does not accept.
    public static func decode(_ text: Substring) throws(RealtimeError) -> SocketIOPacket {
        var rest = text[...]
        guard let typeChar = rest.first, let digit = typeChar.wholeNumberValue, let kind = Kind(rawValue: digit) else {
            throw .malformedPacket("unknown Socket.IO packet type")
        }
        rest = rest.dropFirst()
        if kind == .binaryEvent || kind == .binaryAck { throw .malformedPacket("binary packets are not supported") }
        var namespace = "/"
        if rest.first == "/" {
            if let comma = rest.firstIndex(of: ",") {
                namespace = String(rest[..<comma])
                rest = rest[rest.index(after: comma)...]
            } else {
                namespace = String(rest)
                rest = rest[rest.endIndex...]
            }
            if let query = namespace.firstIndex(of: "?") { namespace = String(namespace[..<query]) }
        }
        var digits = Substring()
        while let char = rest.first, char.isASCII, char.isNumber {
            digits.append(char)
            rest = rest.dropFirst()
        }
        guard digits.count <= 15 else { throw .malformedPacket("acknowledgement id too long") }
        let ackID = digits.isEmpty ? nil : Int(digits)
        var payload: JSONValue?
        if !rest.isEmpty {
            guard let parsed = JSONValue.parse(rest) else { throw .malformedPacket("payload is not JSON") }
            payload = parsed
        }
        let packet = SocketIOPacket(kind: kind, namespace: namespace, ackID: ackID, payload: payload)
        try packet.validate()
        return packet
    }

    private func validate() throws(RealtimeError) {
        switch kind {
        case .connect:
            if let payload, !payload.isObject { throw .malformedPacket("CONNECT payload must be an object") }
        case .disconnect:
            if payload != nil { throw .malformedPacket("DISCONNECT carries no payload") }
        case .event:
            guard case .array(let items)? = payload, let first = items.first else {
                throw .malformedPacket("EVENT payload must be a non-empty array")
            }
            switch first {
            case .string(let name) where !Self.reservedEventNames.contains(name): break
            case .int: break
            default: throw .malformedPacket("EVENT name must be a non-reserved string")
            }
        case .ack:
            guard case .array? = payload else { throw .malformedPacket("ACK payload must be an array") }
        case .connectError:
            throw .malformedPacket("CONNECT_ERROR is server-to-client only")
        case .binaryEvent, .binaryAck:
            throw .malformedPacket("binary packets are not supported")
        }
    }

    // MARK: - Encoding server → client frames (complete WebSocket text frames, Engine.IO `4` included)

    /// `40{"sid":…}` (or `40/ns,{"sid":…}`): CONNECT accepted.
    public static func connectFrame(namespace: String, sid: String) -> String {
        "40" + prefix(namespace) + "{\"sid\":" + jsonString(sid) + "}"
    }

    /// `44{"message":…,"data":…}`: CONNECT refused (v5 object form, read by JS `err.message`/`err.data`).
    public static func connectErrorFrame(namespace: String, message: String, data: String? = nil) -> String {
        "44" + prefix(namespace) + "{\"message\":" + jsonString(message) + (data.map { ",\"data\":" + $0 } ?? "") + "}"
    }

    /// `42["name",<payload JSON>]`: a server event with one argument.
    public static func eventFrame(namespace: String = "/", name: String, payloadJSON: String) -> String {
        "42" + prefix(namespace) + "[" + jsonString(name) + "," + payloadJSON + "]"
    }

    /// `43<id>[<args…>]`: the acknowledgement of a client event with id `ackID`.
    public static func ackFrame(namespace: String = "/", ackID: Int, argumentsJSON: [String]) -> String {
        "43" + prefix(namespace) + String(ackID) + "[" + argumentsJSON.joined(separator: ",") + "]"
    }

    /// `41`: DISCONNECT from the namespace (clients do not reconnect after it).
    public static func disconnectFrame(namespace: String = "/") -> String { "41" + prefix(namespace) }

    private static func prefix(_ namespace: String) -> String { namespace == "/" ? "" : namespace + "," }
}
