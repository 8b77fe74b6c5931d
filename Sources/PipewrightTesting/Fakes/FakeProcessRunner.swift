import Foundation
import PipewrightCore

/// A ``ProcessRunner`` that records each invocation, snapshots the files the invocation refers to
/// while they exist, and answers with a canned result.
public final class FakeProcessRunner: ProcessRunner, @unchecked Sendable {
    public struct Snapshot {
        public var invocation: ProcessInvocation
        public var files: [String: (contents: String, mode: Int)]
        public var directoryMode: Int?
        public var directory: String?
    }
    private let lock = NSLock()
    private var snapshots: [Snapshot] = []
    private let respond: @Sendable (ProcessInvocation) -> ProcessResult

    public init(respond: @escaping @Sendable (ProcessInvocation) -> ProcessResult) { self.respond = respond }

    public var recorded: [Snapshot] { lock.withLock { snapshots } }

    public func run(_ invocation: ProcessInvocation) async throws -> ProcessResult {
        var files: [String: (String, Int)] = [:]
        var directory: String?
        var directoryMode: Int?
        let paths =
            invocation.arguments.compactMap { argument -> String? in
                if argument.hasPrefix("UserKnownHostsFile=") {
                    return String(argument.dropFirst("UserKnownHostsFile=".count))
                }
                return argument.hasPrefix("/tmp/pipewright-ssh.") ? argument : nil
            } + invocation.environmentAdditions.values.filter { $0.hasPrefix("/") }
        for path in paths {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let contents = try String(contentsOfFile: path, encoding: .utf8)
            files[(path as NSString).lastPathComponent] = (contents, (attributes[.posixPermissions] as? Int) ?? -1)
            directory = (path as NSString).deletingLastPathComponent
        }
        if let directory {
            directoryMode = (try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int)
        }
        lock.withLock {
            snapshots.append(
                Snapshot(invocation: invocation, files: files, directoryMode: directoryMode, directory: directory))
        }
        return respond(invocation)
    }
}
