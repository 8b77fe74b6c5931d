/// Reads SSH wire-format values (RFC 4251 §5) from a byte buffer.
///
/// Every read throws ``SSHWireReader/Truncated`` when the buffer is too short; callers map it to the
/// `SSHKeyError` case that fits their context.
struct SSHWireReader {
    /// Thrown when a read runs past the end of the buffer or a length is implausible.
    struct Truncated: Error {}

    private let bytes: [UInt8]
    private var offset: Int = 0

    /// Creates a reader over `bytes`.
    init(_ bytes: some Collection<UInt8>) {
        self.bytes = Array(bytes)
    }

    /// Whether every byte has been consumed.
    var isAtEnd: Bool { offset >= bytes.count }

    /// The bytes not yet consumed.
    var remaining: ArraySlice<UInt8> { bytes[min(offset, bytes.count)...] }

    /// Reads a big-endian `uint32`.
    mutating func readUInt32() throws(Truncated) -> UInt32 {
        let raw = try readRaw(count: 4)
        return raw.reduce(0) { ($0 << 8) | UInt32($1) }
    }

    /// Reads a `string` as raw bytes.
    mutating func readString() throws(Truncated) -> [UInt8] {
        let length = try readUInt32()
        return try readRaw(count: Int(length))
    }

    /// Reads a `string` as UTF-8 text (invalid sequences are repaired).
    mutating func readText() throws(Truncated) -> String {
        String(decoding: try readString(), as: UTF8.self)
    }

    /// Reads an `mpint` and returns its unsigned magnitude without leading zero bytes.
    mutating func readMPIntMagnitude() throws(Truncated) -> [UInt8] {
        Array(try readString().drop { $0 == 0 })
    }

    /// Reads `count` raw bytes.
    mutating func readRaw(count: Int) throws(Truncated) -> [UInt8] {
        guard count >= 0, count <= bytes.count - offset else { throw Truncated() }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}
