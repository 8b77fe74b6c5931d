import Foundation
import Testing

/// Runs the real OpenSSH / OpenSSL command-line tools for the key-format tests (tests only).
enum KeyTool {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let sshKeygen = "/usr/bin/ssh-keygen"
    static let openssl = "/usr/bin/openssl"
    static var hasOpenSSL: Bool { FileManager.default.isExecutableFile(atPath: openssl) }

    /// Runs `executable` with `arguments` (no shell) and waits for it.
    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs a tool and fails the test unless it exits 0; returns stdout.
    @discardableResult
    static func succeed(_ executable: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation)
        throws -> String
    {
        let result = try run(executable, arguments)
        #expect(
            result.status == 0, "\(executable) \(arguments.joined(separator: " ")): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout
    }

    /// `ssh-keygen -l -E <hash> -f <file>` → the fingerprint field (second word).
    static func fingerprint(_ hash: String, file: String) throws -> String? {
        let output = try succeed(sshKeygen, ["-l", "-E", hash, "-f", file])
        let fields = output.split(separator: " ")
        return fields.count > 1 ? String(fields[1]) : nil
    }

    /// The first two fields of an OpenSSH public line.
    static func typeAndBlob(_ line: String) -> String {
        line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").prefix(2).joined(separator: " ")
    }
}

/// A 0700 temporary directory, removed by ``remove()``.
struct KeyScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "pipewright-keys-" + UUID().uuidString
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Writes `contents` to `name` with mode 0600 and returns the full path.
    func write(_ name: String, _ contents: String) throws -> String {
        let file = "\(path)/\(name)"
        guard
            FileManager.default.createFile(
                atPath: file, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw CocoaError(.fileWriteUnknown)
        }
        return file
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
