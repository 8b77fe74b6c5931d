import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 0700 directory created with `mkdtemp(3)` for one SSH run, holding its known_hosts file,
/// private key or password file and askpass script. Remove it with ``remove()``.
struct PrivateTemporaryDirectory: Sendable {
    /// Absolute path of the directory.
    let path: String

    /// Creates `<parent>/pipewright-ssh.XXXXXX` with mode 0700.
    ///
    /// - Parameter parent: Existing directory to create it in (e.g. `/tmp`).
    /// - Throws: ``SSHKeyError/sshFailed(exit:summary:)`` when the directory cannot be created.
    init(in parent: String) throws(SSHKeyError) {
        var template = Array("\(parent)/pipewright-ssh.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let created else {
            throw .sshFailed(exit: -1, summary: "cannot create a private temporary directory")
        }
        path = created
    }

    /// Writes `contents` to a new file `name` created with `O_EXCL | O_NOFOLLOW` and `mode`, so the
    /// file never exists with wider permissions.
    ///
    /// - Parameters:
    ///   - name: File name inside the directory (no `/`).
    ///   - contents: Bytes to write.
    ///   - mode: Permission bits, e.g. `0o600` for secrets or `0o700` for scripts.
    /// - Returns: The file's absolute path.
    /// - Throws: ``SSHKeyError/sshFailed(exit:summary:)`` when the file cannot be written.
    @discardableResult
    func writeFile(_ name: String, contents: some Collection<UInt8>, mode: mode_t) throws(SSHKeyError) -> String {
        let filePath = "\(path)/\(name)"
        let descriptor = open(filePath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw .sshFailed(exit: -1, summary: "cannot create a temporary file")
        }
        defer { close(descriptor) }
        let bytes = Array(contents)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(descriptor, base + written, bytes.count - written)
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { throw .sshFailed(exit: -1, summary: "cannot write a temporary file") }
            written += result
        }
        // open(2) applies the umask; set the exact mode.
        guard fchmod(descriptor, mode) == 0 else {
            throw .sshFailed(exit: -1, summary: "cannot set temporary file permissions")
        }
        return filePath
    }

    /// Reads a file inside the directory as UTF-8 text, or `nil` when it does not exist.
    ///
    /// - Parameter name: File name inside the directory.
    func readFile(_ name: String) -> String? {
        guard let data = FileManager.default.contents(atPath: "\(path)/\(name)") else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Deletes the directory and everything in it.
    ///
    /// - Throws: The `FileManager` error when removal fails.
    func remove() throws {
        try FileManager.default.removeItem(atPath: path)
    }
}
