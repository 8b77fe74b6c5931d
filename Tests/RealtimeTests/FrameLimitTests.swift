import Foundation
import Testing

@testable import Realtime

/// No event leaves a feed larger than the frame limit (docs/realtime.md "Frame limit", issue 12 item 4).
@Suite struct FrameLimitTests {
    let step = StepRef(uuid: "{s}", name: "Build", status: "IN_PROGRESS")

    func joined(_ events: [RealtimeEvent]) throws -> [String] {
        var lines: [String] = []
        var pending = ""
        for event in events {
            let payload = try JSONDecoder().decode(PipelineLogsPayload.self, from: Data(event.payloadJSON.utf8))
            for line in payload.lines {
                pending += line.text
                if line.continues != true {
                    lines.append(pending)
                    pending = ""
                }
            }
        }
        return lines
    }

    @Test(arguments: [4_096, 70_000, 999_744])
    func framed_cutsLongLinesIntoPartsThatJoin(limit: Int) throws {
        let escapes = String(repeating: "\u{1B}[0m\"\\é🚀", count: 120_000)  // ~1.8 MB of text, JSON ~3× that
        let lines = [
            LogLinePayload(seq: 7, step: "Build", ts: nil, level: nil, text: "short"),
            LogLinePayload(seq: 8, step: "Build", ts: nil, level: "ERROR", text: escapes, continues: true),
            LogLinePayload(seq: 9, step: "Build", ts: nil, level: nil, text: "tail of 8"),
            LogLinePayload(seq: 10, step: "Build", ts: nil, level: nil, text: "after"),
        ]
        let event = RealtimeEvent.logsEvent(
            PipelineLogsPayload(executionID: 3, step: step, lines: lines), pipelineID: 1)
        let framed = event.framed(maximumPayloadBytes: limit)
        #expect(framed.count > 1)
        for frame in framed {
            #expect(frame.payloadJSON.utf8.count <= limit)
            #expect(frame.socketIOFrame.utf8.count <= limit + RealtimeEvent.maximumFramingBytes)
            #expect(frame.webSocketMessage.utf8.count <= limit + RealtimeEvent.maximumFramingBytes)
            #expect(frame.serverSentEvent.utf8.count <= limit + RealtimeEvent.maximumFramingBytes)
        }
        #expect(try joined(framed) == ["short", escapes + "tail of 8", "after"])
        // An event that ends inside a line names the seq before it (resume replays the whole line).
        let payloads = try framed.map {
            try JSONDecoder().decode(PipelineLogsPayload.self, from: Data($0.payloadJSON.utf8))
        }
        for index in payloads.indices.dropLast() {
            let last = try #require(payloads[index].lines.last)
            let endsInside = payloads[index + 1].lines.first?.seq == last.seq
            #expect(framed[index].seq == (endsInside ? last.seq - 1 : last.seq))
        }
        #expect(framed.last?.seq == 10)
    }

    @Test func framed_leavesSmallEventsAlone() {
        let event = RealtimeEvent.logsEvent(
            PipelineLogsPayload(
                executionID: 3, step: step,
                lines: [LogLinePayload(seq: 1, step: "Build", ts: nil, level: nil, text: "x")]),
            pipelineID: 1)
        #expect(event.framed(maximumPayloadBytes: 1_000).map(\.payloadJSON) == [event.payloadJSON])
    }
}
