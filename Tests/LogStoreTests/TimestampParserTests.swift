import Foundation
import LogStore
import Testing

@Suite struct TimestampParserTests {
    static let noon = Date(timeIntervalSince1970: 1_795_953_600)  // 2026-11-29T12:00:00Z

    @Test func timestamp_rfc3339Forms_areParsed() throws {
        #expect(TimestampParser.timestamp(in: "2026-11-29T12:00:00Z INFO x") == Self.noon)
        #expect(TimestampParser.timestamp(in: "2026-11-29T13:00:00+01:00 x") == Self.noon)
        #expect(TimestampParser.timestamp(in: "2026-11-29T07:00:00-0500 x") == Self.noon)
        #expect(TimestampParser.timestamp(in: "2026-11-29 12:00:00 DEBUG") == Self.noon)
        #expect(TimestampParser.timestamp(in: "[2026-11-29T12:00:00.000Z] Jenkins") == Self.noon)
        #expect(TimestampParser.timestamp(in: "\u{1B}[2m2026-11-29T12:00:00Z\u{1B}[0m colored") == Self.noon)
        let fraction = try #require(TimestampParser.timestamp(in: "2026-11-29T12:00:00.1234567Z github"))
        #expect(abs(fraction.timeIntervalSince(Self.noon) - 0.1234567) < 1e-6)
        let comma = try #require(TimestampParser.timestamp(in: "2026-11-29 12:00:00,250 python"))
        #expect(abs(comma.timeIntervalSince(Self.noon) - 0.25) < 1e-9)
    }

    @Test func timestamp_bareTimesAndInvalidDates_areNil() {
        #expect(TimestampParser.timestamp(in: "[12:00:00] no date") == nil)
        #expect(TimestampParser.timestamp(in: "2026-13-29T12:00:00Z month 13") == nil)
        #expect(TimestampParser.timestamp(in: "2026-11-29T25:00:00Z hour 25") == nil)
        #expect(TimestampParser.timestamp(in: "plain line") == nil)
        #expect(TimestampParser.timestamp(in: String(repeating: "x", count: 70) + " 2026-11-29T12:00:00Z") == nil)
    }
}
