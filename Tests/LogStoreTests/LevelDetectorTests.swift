import LogStore
import Testing

@Suite struct LevelDetectorTests {
    static let table: [(String, LogLevel?)] = [
        ("2026-11-29T12:00:00Z ERROR Failed to compile", .error),
        ("\u{1B}[31mERROR\u{1B}[0m: test failed", .error),
        ("npm ERR! code ELIFECYCLE", .error),
        ("FATAL: could not connect", .error),
        ("Traceback (most recent call last):", .error),
        ("ValueError: bad input", .error),
        ("Exception: boom", .error),
        ("java.lang.NullPointerException: null", .error),
        ("main.c:3:5: error: expected ';'", .error),
        ("fatal: not a git repository", .error),
        ("[error] upstream timed out", .error),
        ("CRITICAL disk full", .error),
        ("npm WARN deprecated lodash@1.0.0", .warn),
        ("WARNING: Retrying (Retry(total=4))", .warn),
        ("warning: unused variable", .warn),
        ("2026-11-29 12:00:00 WARN slow", .warn),
        ("[INFO] Downloading from central", .info),
        ("info: starting", .info),
        ("2026-11-29 12:00:00 DEBUG cache hit", .debug),
        ("INFO retry after ERROR", .error),
        ("DEBUG then WARN", .warn),
        ("0 errors, 2 warnings", nil),
        ("error handling tests passed", nil),
        ("ERRORS=0", nil),
        ("TypeError", nil),
        ("MYERROR happened", nil),
        ("information", nil),
        ("", nil),
    ]

    @Test(arguments: table)
    func level_ofSampleLine_matchesDocumentedTable(line: String, expected: LogLevel?) {
        #expect(LevelDetector.level(of: line) == expected, "\(line)")
    }

    @Test func logLevel_ordering_isBySeverity() {
        #expect(LogLevel.debug < .info && LogLevel.info < .warn && LogLevel.warn < .error)
        #expect(LogLevel(name: "warning") == .warn)
        #expect(LogLevel(name: "nope") == nil)
    }
}

@Suite struct ANSIStripperTests {
    @Test func strip_removesCSIAndOSCAndKeepsCarriageReturns() {
        let input =
            "\u{1B}[1;31mred\u{1B}[0m \u{1B}]0;title\u{07}x\u{1B}]8;;http://e\u{1B}\\link\u{1B}]8;;\u{1B}\\ \u{1B}(Bz\ra\u{1B}[2K"
        #expect(String(decoding: ANSIStripper.strip(Array(input.utf8)), as: UTF8.self) == "red xlink z\ra")
    }

    @Test func strip_loneEscapeAtEnd_isDropped() {
        #expect(ANSIStripper.strip([0x61, 0x1B]) == [0x61])
    }
}
