import Foundation
import Testing

/// Runs the real `pipewright` binary for the operations tests: own working directory, the test's
/// environment without `PIPEWRIGHT_*`/`DATABASE_URL` plus `environment`, optional standard input.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Standard error's non-empty lines.
    var errorLines: [Substring] { stderr.split(separator: "\n") }
}

enum CLIProcess {
    static func run(
        _ arguments: [String], directory: String, environment extra: [String: String] = [:], stdin: String? = nil,
        program: String? = nil
    ) throws -> CLIResult {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("PIPEWRIGHT_") && $0.key != "DATABASE_URL"
        }
        environment["LOG_LEVEL"] = "warning"
        environment.merge(extra) { $1 }
        let process = Process()
        let path = try program ?? ServeProcess.binaryPath()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// A new empty directory (removed by the caller).
    static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Every path under `directory` with its size and modification time (to prove nothing changed).
    static func snapshot(_ directory: String) -> [String: String] {
        var result: [String: String] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return result }
        while let relative = enumerator.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + relative)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            result[relative] = "\(size)@\(modified)"
        }
        return result
    }
}
