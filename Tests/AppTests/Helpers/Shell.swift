import Foundation

/// Runs a program and waits (tests only).
@discardableResult
func runProgram(
    _ path: String, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil,
    directory: String? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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
    return (
        process.terminationStatus, String(decoding: stdoutData, as: UTF8.self),
        String(decoding: stderrData, as: UTF8.self)
    )
}

/// Logs in with `privateKeyPEM` using the real OpenSSH client and runs `whoami`.
///
/// - Returns: the remote user name, or `nil` when the login failed.
func loginWithKey(_ privateKeyPEM: String, host: String, port: Int, user: String) throws -> String? {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-login-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
        at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(at: directory) }
    let keyPath = directory.appendingPathComponent("id").path
    FileManager.default.createFile(
        atPath: keyPath, contents: Data(privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600])
    let result = try runProgram(
        "/usr/bin/ssh",
        [
            "-F", "/dev/null", "-i", keyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-p", String(port), "\(user)@\(host)", "whoami",
        ])
    return result.status == 0 ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
}
