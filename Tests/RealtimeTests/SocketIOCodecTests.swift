import Testing

@testable import Realtime

@Suite struct EngineIOCodecTests {
    @Test(arguments: [
        ("0{\"sid\":\"x\"}", EngineIOPacket.open("{\"sid\":\"x\"}")),
        ("1", .close), ("2", .ping("")), ("3", .pong("")), ("3probe", .pong("probe")),
        ("4hello", .message("hello")), ("5", .upgrade), ("6", .noop),
    ])
    func decodesEveryPacketType(frame: String, expected: EngineIOPacket) throws {
        #expect(try EngineIOPacket.decode(frame) == expected)
        #expect(expected.encoded == frame)
    }

    @Test(arguments: ["", "abc", "7", "x4hello", " 4"])
    func rejectsFramesThatAreNotEngineIO(frame: String) {
        #expect(throws: RealtimeError.self) { try EngineIOPacket.decode(frame) }
    }

    @Test func openFrameHasExactlyTheFiveHandshakeKeys() throws {
        let frame = EngineIOHandshake(
            sid: "abc\"d", pingIntervalMilliseconds: 25_000, pingTimeoutMilliseconds: 20_000, maxPayload: 1_000_000
        ).frame
        #expect(frame.hasPrefix("0{"))
        let json = try #require(JSONValue.parse(frame.dropFirst()))
        guard case .object(let object) = json else { Issue.record("not an object"); return }
        #expect(Set(object.keys) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
        #expect(object["sid"] == .string("abc\"d"))
        #expect(object["upgrades"] == .array([]))
        #expect(object["pingInterval"] == .int(25_000))
        #expect(object["maxPayload"] == .int(1_000_000))
    }
}

@Suite struct SocketIOCodecTests {
    @Test func connectForms() throws {
        // JS sends a bare `0`, python `0{}`, with auth `0{"token":…}`.
        #expect(try SocketIOPacket.decode("0") == SocketIOPacket(kind: .connect))
        #expect(try SocketIOPacket.decode("0{}") == SocketIOPacket(kind: .connect, payload: .object([:])))
        #expect(try SocketIOPacket.decode("0{\"token\":\"pw_x\"}").payload?["token"] == .string("pw_x"))
        let custom = try SocketIOPacket.decode("0/admin,{\"token\":\"1\"}")
        #expect(custom.namespace == "/admin" && custom.payload?["token"] == .string("1"))
        #expect(try SocketIOPacket.decode("0/custom").namespace == "/custom")
        #expect(try SocketIOPacket.decode("0/custom?x=1,").namespace == "/custom")
    }

    @Test func eventsWithAndWithoutAckIDs() throws {
        let plain = try SocketIOPacket.decode("2[\"message\",1,\"2\",{\"3\":[true]}]")
        #expect(plain.ackID == nil)
        #expect(plain.event?.name == "message")
        #expect(plain.event?.arguments == [.int(1), .string("2"), .object(["3": .array([.bool(true)])])])
        let acked = try SocketIOPacket.decode("2456[\"message-with-ack\",1]")
        #expect(acked.ackID == 456 && acked.event?.name == "message-with-ack")
        let namespaced = try SocketIOPacket.decode("2/admin,13[\"x\"]")
        #expect(namespaced.namespace == "/admin" && namespaced.ackID == 13)
        // ensure_ascii escapes from python's json.dumps decode to the same text.
        #expect(try SocketIOPacket.decode("2[\"x\",\"caf\\u00e9\"]").event?.arguments == [.string("café")])
    }

    @Test(arguments: [
        "2{}", "2abc[\"x\"]", "2[]", "2[\"connect\"]", "2[\"disconnect\",1]", "2[true]", "3{}", "1{}",
        "0[1]", "0\"s\"", "4{\"message\":\"x\"}", "51-[\"x\",{\"_placeholder\":true,\"num\":0}]", "9", "x",
        "2[\"x\"", "21234567890123456[\"x\"]",
    ])
    func rejectsWhatTheConformanceSuiteRejects(text: String) {
        #expect(throws: RealtimeError.self) { try SocketIOPacket.decode(text[...]) }
    }

    @Test func serverFrames() {
        #expect(SocketIOPacket.connectFrame(namespace: "/", sid: "s1") == "40{\"sid\":\"s1\"}")
        #expect(SocketIOPacket.connectFrame(namespace: "/admin", sid: "s1") == "40/admin,{\"sid\":\"s1\"}")
        #expect(
            SocketIOPacket.connectErrorFrame(namespace: "/random", message: "Invalid namespace")
                == "44/random,{\"message\":\"Invalid namespace\"}")
        #expect(
            SocketIOPacket.connectErrorFrame(namespace: "/", message: "unauthorized", data: "{\"code\":401}")
                == "44{\"message\":\"unauthorized\",\"data\":{\"code\":401}}")
        #expect(SocketIOPacket.ackFrame(ackID: 456, argumentsJSON: ["1", "\"2\""]) == "43456[1,\"2\"]")
        #expect(SocketIOPacket.eventFrame(name: "pipeline_status", payloadJSON: "{}") == "42[\"pipeline_status\",{}]")
        #expect(SocketIOPacket.disconnectFrame() == "41")
    }

    @Test func eventFramesRoundTripThroughTheDecoder() throws {
        let event = RealtimeEvent.logTimeout(LogTimeoutPayload(executionID: 7, afterS: 1.5), pipelineID: 3, seq: 9)
        let engine = try EngineIOPacket.decode(event.socketIOFrame)
        guard case .message(let body) = engine else { Issue.record("not a message"); return }
        // A server frame is an EVENT the client decoder accepts; the name and payload survive.
        let packet = try SocketIOPacket.decode(body)
        #expect(packet.event?.name == "log_timeout")
        #expect(packet.event?.arguments.first?["execution_id"] == .int(7))
        #expect(packet.event?.arguments.first?["after_s"] == .double(1.5))
    }
}

@Suite struct TransportFramingTests {
    @Test func sseRecordCarriesSeqAsIDAndOneDataLine() {
        let event = RealtimeEvent.pipelineLogs(
            executionID: 1, pipelineID: 2, step: StepRef(uuid: "{s}", name: "Build", status: "IN_PROGRESS"),
            lines: [
                LogLinePayload(seq: 41, step: "Build", ts: nil, level: nil, text: "a\nb"),
                LogLinePayload(seq: 42, step: "Build", ts: nil, level: "ERROR", text: "boom"),
            ])[0]
        let record = event.serverSentEvent
        #expect(record.hasPrefix("id: 42\nevent: pipeline_logs\ndata: {"))
        #expect(record.hasSuffix("}\n\n"))
        #expect(record.split(separator: "\n", omittingEmptySubsequences: false).count == 5)
    }

    @Test func webSocketMessageIsEventAndData() throws {
        let event = RealtimeEvent.logError(
            LogErrorPayload(executionID: 3, code: "bitbucket_unavailable", message: "x"), pipelineID: nil, seq: 0)
        let json = try #require(JSONValue.parse(event.webSocketMessage[...]))
        #expect(json["event"] == .string("log_error"))
        #expect(json["data"]?["code"] == .string("bitbucket_unavailable"))
    }

    @Test func largeLineDeltasAreSplitUnderTheByteBound() {
        let lines = (1...50).map {
            LogLinePayload(seq: $0, step: "Build", ts: nil, level: nil, text: String(repeating: "x", count: 10_000))
        }
        let events = RealtimeEvent.pipelineLogs(
            executionID: 1, pipelineID: 1, step: StepRef(uuid: "u", name: "Build", status: "S"), lines: lines,
            maximumBytes: 64 * 1024)
        #expect(events.count > 1)
        #expect(events.allSatisfy { $0.payloadJSON.utf8.count < 80 * 1024 })
        #expect(events.flatMap { $0.logs?.lines.map(\.seq) ?? [] } == Array(1...50))
    }
}
