/// A raw log with its terminal escape sequences removed, line by line (`logs/raw?strip_ansi=true`).
///
/// Each line (up to its `\n`) is stripped as ``ANSIStripper`` strips a stored line; every other byte, `\r`
/// and `\n` included, is kept. Bytes are held until their line is complete, at most ~1 MiB (a stored line
/// piece): a longer run without `\n` is stripped in pieces of that size.
public struct ANSIStrippedBytes: AsyncSequence, Sendable {
    /// A chunk of stripped bytes (never empty).
    public typealias Element = [UInt8]

    let base: LogRawBytes

    /// Strips `base` as it is read.
    public init(_ base: LogRawBytes) {
        self.base = base
    }

    /// Starts reading.
    public func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator())
    }

    /// Reads and strips the chunks in order.
    public struct Iterator: AsyncIteratorProtocol {
        var base: LogRawBytes.Iterator
        var stripper = ANSIStreamStripper()
        var finished = false

        /// The next stripped chunk, or `nil` at the end.
        ///
        /// - Throws: ``LogStoreError/ioFailure(reason:)``.
        public mutating func next() async throws -> [UInt8]? {
            while !finished {
                if let chunk = try await base.next() {
                    let output = stripper.feed(chunk)
                    if !output.isEmpty { return output }
                } else {
                    finished = true
                    let output = stripper.finish()
                    if !output.isEmpty { return output }
                }
            }
            return nil
        }
    }
}

/// Strips escape sequences from a byte stream one complete line at a time (``ANSIStrippedBytes``).
public struct ANSIStreamStripper: Sendable {
    /// Longest run held while waiting for a `\n`.
    static let maximumHeld = LogStore.maximumLineBytes + 4096

    private var held: [UInt8] = []

    /// An empty stripper.
    public init() {}

    /// Takes the next bytes; returns the stripped form of the lines they complete.
    public mutating func feed(_ chunk: [UInt8]) -> [UInt8] {
        held += chunk
        guard let lastNewline = held.lastIndex(of: 0x0A) else {
            return held.count > Self.maximumHeld ? finish() : []
        }
        let output = Self.strip(held[...lastNewline])
        held.removeSubrange(...lastNewline)
        return output
    }

    /// The stripped form of what is still held (the end of the stream).
    public mutating func finish() -> [UInt8] {
        defer { held = [] }
        return Self.strip(held[...])
    }

    /// Strips each line of `bytes` separately, keeping the `\n`s.
    static func strip(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var scratch: [UInt8] = []
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if line.offset > 0 { output.append(0x0A) }
            line.element.withUnsafeBufferPointer { ANSIStripper.strip($0, into: &scratch) }
            output += scratch
        }
        return output
    }
}
