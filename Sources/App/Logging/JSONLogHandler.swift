import Foundation
import Logging
import NIOConcurrencyHelpers

/// `PIPEWRIGHT_LOG_FORMAT=json`: one JSON object per line on standard output (docs/operations.md "Logs").
///
/// Shape: `{"timestamp": "2026-12-06T23:14:51.123Z", "level": "info", "logger": "codes.vapor.application",
/// "message": "…", "metadata": {"request_id": "…", …}, "source": "App"}`; `metadata` is left out when
/// empty. Nested metadata (dictionaries, arrays) is kept as JSON objects and arrays. Lines from several
/// threads never interleave (one write per line under a lock).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    private static let output = NIOLockedValueBox(FileHandle.standardOutput)

    init(
        label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata own: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own { merged.merge(own) { $1 } }
        let encoded = Self.line(
            timestamp: Date(), level: level, label: label, message: message.description, metadata: merged,
            source: source)
        Self.output.withLockedValue { $0.write(encoded) }
    }

    /// One encoded line, newline included.
    static func line(
        timestamp: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, source: String
    ) -> Data {
        var object: [String: Any] = [
            // The ISO 8601 format style is in UTC; it leaves the zone out unless asked.
            "timestamp": timestamp.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
                + "Z",
            "level": level.rawValue, "logger": label, "message": message, "source": source,
        ]
        if !metadata.isEmpty { object["metadata"] = metadata.mapValues(json) }
        var data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{\"level\":\"error\",\"message\":\"log line could not be encoded\"}".utf8)
        data.append(0x0A)
        return data
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .dictionary(let dictionary): dictionary.mapValues(json)
        case .array(let array): array.map(json)
        }
    }
}
