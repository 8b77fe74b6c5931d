import Foundation
import LogStore
import PipewrightCore

/// A fresh store in a temporary folder, removed afterwards.
func withStore<T>(_ body: (LogStore, String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logstore-tests-\(UUID().uuidString)")
        .path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try LogStore(directory: directory)
    return try await body(store, directory)
}

/// All raw bytes of a stream.
func collect(_ raw: LogRawBytes) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await chunk in raw { bytes += chunk }
    return bytes
}

/// Every line of an execution, walked with cursors.
func allLines(_ store: LogStore, _ execution: Int, filter: LogFilter = LogFilter()) throws -> [LogLine] {
    var lines: [LogLine] = []
    var cursor = 0
    while true {
        let page = try store.lines(
            execution: execution, query: LogQuery(filter: filter, pagination: .after(seq: cursor, perPage: 100)))
        lines += page.items
        guard let next = page.nextAfterSeq, page.items.count == 100 else { break }
        cursor = next
    }
    return lines
}

func pageQuery(
    _ filter: LogFilter = LogFilter(), page: Int = 1, perPage: Int = 100, context: Int = 0, highlights: Bool = false
)
    throws -> LogQuery
{
    LogQuery(
        filter: filter, pagination: .page(try PageRequest(page: page, perPage: perPage)), context: context,
        includesHighlights: highlights)
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
