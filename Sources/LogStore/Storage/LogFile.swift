import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open file used with positional reads and appending writes (POSIX `pread`/`write`).
///
/// Reads never move a shared file position, so concurrent readers and one appender can share the
/// descriptor. Closed on deinit.
final class LogFile: @unchecked Sendable {
    // @unchecked: `descriptor` and `path` are immutable after init; pread/write are thread-safe syscalls.
    let descriptor: Int32
    let path: String

    /// Opens (creating if asked) `path` for reading and appending.
    init(path: String, create: Bool) throws(LogStoreError) {
        var flags = O_RDWR | O_APPEND | O_CLOEXEC
        if create { flags |= O_CREAT }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw Self.failure("open", path) }
        descriptor = fd
        self.path = path
    }

    deinit { close(descriptor) }

    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno) -> LogStoreError {
        .ioFailure(reason: "\(operation) \((path as NSString).lastPathComponent): \(String(cString: strerror(code)))")
    }

    /// Opens (creating) `path` and takes the exclusive `flock(2)` on it without waiting; the lock lasts as
    /// long as the returned file is open (the kernel drops it when the process dies, `kill -9` included).
    ///
    /// - Throws: ``LogStoreError/ioFailure(reason:)``, also when another open file description (another
    ///   process) holds the lock.
    static func lockExclusively(path: String) throws(LogStoreError) -> LogFile {
        let file = try LogFile(path: path, create: true)
        while flock(file.descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK {
                throw .ioFailure(reason: "another process is writing this log (\(path) is locked)")
            }
            throw Self.failure("lock", path)
        }
        return file
    }

    /// Current size in bytes.
    func size() throws(LogStoreError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.failure("stat", path) }
        return Int64(info.st_size)
    }

    /// Reads exactly `buffer.count` bytes at `offset` (fewer only at end of file); returns the count read.
    @discardableResult
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(LogStoreError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let result = pread(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if result < 0 {
                if errno == EINTR { continue }
                throw Self.failure("read", path)
            }
            if result == 0 { break }
            done += result
        }
        return done
    }

    /// Reads `count` bytes at `offset` into a new array (shorter at end of file).
    func read(count: Int, at offset: Int64) throws(LogStoreError) -> [UInt8] {
        guard count > 0 else { return [] }
        var read = 0
        var failure: LogStoreError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(LogStoreError) {
                read = try self.read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            } catch {
                failure = error
            }
            initialized = read
        }
        if let failure { throw failure }
        return bytes
    }

    /// Appends all of `bytes` at the end of the file.
    func append(_ bytes: UnsafeRawBufferPointer) throws(LogStoreError) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let result = write(descriptor, base, remaining)
            if result < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", path)
            }
            base += result
            remaining -= result
        }
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int64) throws(LogStoreError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw Self.failure("truncate", path) }
    }

    /// Flushes to stable storage (`fsync`).
    func sync() throws(LogStoreError) {
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", path) }
    }
}
