import Foundation

/// Reads a file of the proc file system (`/proc/net/tcp`, `/proc/locks`, `/proc/<pid>/comm`) to its end.
///
/// Not `String(contentsOfFile:)`: proc files report a size of 0, and Foundation then reads one page
/// (about 4 KiB), so a listener or lock listed further down was never found (PortCheck named no holder on
/// a machine with a few hundred sockets).
///
/// - Returns: the text, or `nil` when the file cannot be opened or read.
func readProcFile(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let data = try? handle.readToEnd() else { return nil }
    return String(decoding: data ?? Data(), as: UTF8.self)
}
