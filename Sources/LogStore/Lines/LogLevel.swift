/// Severity of a log line, ordered `debug < info < warn < error`.
///
/// JSON and query strings spell it in capitals (`"ERROR"`, `"WARN"`, `"INFO"`, `"DEBUG"`); a filter of
/// `WARN` means WARN and above (see ``LogFilter/minimumLevel``). Detection rules are in ``LevelDetector``.
public enum LogLevel: String, Sendable, Codable, CaseIterable, Comparable, CodingKeyRepresentable {
    case debug = "DEBUG"
    case info = "INFO"
    case warn = "WARN"
    case error = "ERROR"

    /// Severity rank stored in the index: 1 (DEBUG) … 4 (ERROR); 0 means "no level".
    var rank: UInt8 {
        switch self {
        case .debug: 1
        case .info: 2
        case .warn: 3
        case .error: 4
        }
    }

    init?(rank: UInt8) {
        switch rank {
        case 1: self = .debug
        case 2: self = .info
        case 3: self = .warn
        case 4: self = .error
        default: return nil
        }
    }

    /// Parses `ERROR`/`WARN`/`WARNING`/`INFO`/`DEBUG` in any case (query-string spelling).
    ///
    /// - Parameter name: the level name; `WARNING` is accepted as `WARN`.
    /// - Returns: the level, or `nil` for anything else.
    public init?(name: String) {
        switch name.uppercased() {
        case "ERROR": self = .error
        case "WARN", "WARNING": self = .warn
        case "INFO": self = .info
        case "DEBUG": self = .debug
        default: return nil
        }
    }

    /// Orders by severity (`debug` is the lowest).
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}
